{#- Monthly AWS totals: the demo's summary table, until the cross-cloud marts land. -#}
select
    usage_month,
    count(*) as rows_reported,
    sum(scope_1_kgco2e) as scope_1_kgco2e,
    sum(scope_2_market_based_kgco2e) as scope_2_market_based_kgco2e,
    sum(scope_3_market_based_kgco2e) as scope_3_market_based_kgco2e,
    sum(total_market_based_kgco2e) as total_market_based_kgco2e,
    sum(total_location_based_kgco2e) as total_location_based_kgco2e
from {{ ref('stg_aws__carbon_emissions') }}
group by usage_month
