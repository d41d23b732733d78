{#- Mart total equals staging total per month x scope for AWS: reshaping lost or doubled nothing. -#}
with staged as (
    select usage_month, 1 as scope, sum(scope_1_kgco2e) as kg
    from {{ ref('stg_aws__carbon_emissions') }} group by usage_month
    union all
    select usage_month, 2, sum(scope_2_location_based_kgco2e) + sum(scope_2_market_based_kgco2e)
    from {{ ref('stg_aws__carbon_emissions') }} group by usage_month
    union all
    select usage_month, 3, sum(scope_3_location_based_kgco2e) + sum(scope_3_market_based_kgco2e)
    from {{ ref('stg_aws__carbon_emissions') }} group by usage_month
),
mart as (
    select usage_month, scope, sum(emissions_kgco2e) as kg
    from {{ ref('fct_cloud_emissions') }}
    where provider = 'aws'
    group by usage_month, scope
)
select s.usage_month, s.scope, s.kg as staged_kg, m.kg as mart_kg
from staged as s
full outer join mart as m on s.usage_month = m.usage_month and s.scope = m.scope
where coalesce(s.kg, 0) <> coalesce(m.kg, 0)
