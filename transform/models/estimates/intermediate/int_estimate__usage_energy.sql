{#- Energy and embodied emissions of each classified usage row, by the Cloud Carbon Footprint
    formulas (cloudcarbonfootprint.org/docs/methodology), with the provider's coefficients from
    the seed ccf_coefficients:
      compute  kWh = vCPU-h x (min W + utilisation x (max W - min W)) x replication x PUE / 1000
      memory   kWh = GB-h x kWh per GB-h x replication x PUE
      ssd/hdd  kWh = TB-h x Wh per TB-h x replication x PUE / 1000
      network  kWh = GB x kWh per GB x PUE (no replication)
    Embodied (scope 3, compute rows only) = vCPU-h x server embodied kgCO2e / (server life hours
    x the family's largest vCPU count) (seed ccf_embodied_coefficients). -#}
select
    u.provider,
    u.usage_month,
    u.account_id,
    u.region,
    u.service,
    u.usage_type,
    u.usage_class,
    u.class_quantity,
    u.replication_factor,
    case u.usage_class
        when 'compute' then u.class_quantity
            * (c.min_watts_per_vcpu + c.average_cpu_utilization * (c.max_watts_per_vcpu - c.min_watts_per_vcpu))
            * u.replication_factor * c.pue / 1000
        when 'memory' then u.class_quantity * c.memory_kwh_per_gb_hour * u.replication_factor * c.pue
        when 'ssd' then u.class_quantity * c.ssd_wh_per_tb_hour * u.replication_factor * c.pue / 1000
        when 'hdd' then u.class_quantity * c.hdd_wh_per_tb_hour * u.replication_factor * c.pue / 1000
        when 'network' then u.class_quantity * c.networking_kwh_per_gb * c.pue
    end as energy_kwh,
    case
        when u.usage_class = 'compute'
            then u.class_quantity * e.embodied_kgco2e_per_server / (e.server_life_hours * e.largest_vcpus)
        else 0
    end as embodied_kgco2e,
    u.cost,
    u.currency
from {{ ref('int_estimate__usage_classified') }} as u
inner join {{ ref('ccf_coefficients') }} as c on u.provider = c.provider
inner join {{ ref('ccf_embodied_coefficients') }} as e on u.provider = e.provider
where u.usage_class in ('compute', 'memory', 'ssd', 'hdd', 'network')
