{#- The usage-based estimate at the emissions grain: scope 2 location-based = energy x the
    region's grid intensity (seed grid_emission_factors; a region the seed lacks takes the
    provider's `unknown` row, as Cloud Carbon Footprint does), scope 3 = embodied emissions.
    Regions are matched lower-case without spaces, so Azure's `west europe` and `westeurope`
    meet. -#}
with energy as (
    select * from {{ ref('int_estimate__usage_energy') }}
),

factors as (
    select provider, lower(replace(region, ' ', '')) as region_key, kgco2e_per_kwh
    from {{ ref('grid_emission_factors') }}
),

priced as (
    select
        e.*,
        coalesce(f.kgco2e_per_kwh, u.kgco2e_per_kwh) as grid_kgco2e_per_kwh,
        f.kgco2e_per_kwh is null as grid_factor_is_unknown
    from energy as e
    left join factors as f
        on e.provider = f.provider and lower(replace(e.region, ' ', '')) = f.region_key
    inner join factors as u on e.provider = u.provider and u.region_key = 'unknown'
)

select
    provider, usage_month, account_id, region, service, 2 as scope,
    sum(energy_kwh) as energy_kwh,
    sum(energy_kwh * grid_kgco2e_per_kwh) as emissions_kgco2e,
    sum(cost) as cost,
    currency,
    max(case when grid_factor_is_unknown then 1 else 0 end) = 1 as grid_factor_is_unknown
from priced
group by provider, usage_month, account_id, region, service, currency
union all
select
    provider, usage_month, account_id, region, service, 3 as scope,
    cast(0 as {{ dbt.type_numeric() }}) as energy_kwh,
    sum(embodied_kgco2e) as emissions_kgco2e,
    cast(0 as {{ dbt.type_numeric() }}) as cost,
    currency,
    false as grid_factor_is_unknown
from priced
group by provider, usage_month, account_id, region, service, currency
