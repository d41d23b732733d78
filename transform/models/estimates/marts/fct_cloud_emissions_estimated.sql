{#- Estimated emissions at the grain of fct_cloud_emissions (provider x month x account x region
    x service x scope), `method` usage_based (Cloud Carbon Footprint: scope 2 location-based
    from energy x grid factor, scope 3 embodied) or spend_based (uncovered spend x the factor
    calibrated on the provider's own figures). The two never cover the same spend. -#}
select
    provider,
    cast(usage_month as date) as usage_month,
    account_id,
    region,
    service,
    scope,
    'usage_based' as method,
    emissions_kgco2e,
    energy_kwh,
    cost,
    currency,
    case when grid_factor_is_unknown then 'ccf grid factor: unknown region' else 'ccf coefficients' end as basis
from {{ ref('int_estimate__usage_based') }}
union all
select
    provider,
    cast(usage_month as date) as usage_month,
    account_id,
    region,
    service,
    scope,
    'spend_based' as method,
    emissions_kgco2e,
    cast(null as {{ dbt.type_numeric() }}) as energy_kwh,
    cost,
    currency,
    'calibration: ' || calibration_level as basis
from {{ ref('int_estimate__spend_based') }}
