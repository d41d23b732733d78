{#- ESRS E1-6 (gross scopes 1, 2 and 3 GHG emissions) for the cloud estate, per fiscal year, in
    tonnes CO2e as E1-6 asks. Built from the inventory's fiscal-year rows, summed over providers
    and accounts: every figure is taken once (see fct_ghg_inventory). -#}
select
    period_label as fiscal_year,
    period_start,
    period_end,
    count(distinct provider) as providers_reported,
    sum(scope_1_kgco2e) / 1000 as gross_scope_1_tco2e,
    sum(coalesce(scope_2_location_based_kgco2e, scope_2_unsplit_kgco2e)) / 1000 as gross_scope_2_location_based_tco2e,
    sum(coalesce(scope_2_market_based_kgco2e, scope_2_unsplit_kgco2e)) / 1000 as gross_scope_2_market_based_tco2e,
    coalesce(sum(scope_2_unsplit_kgco2e), 0) / 1000 as scope_2_without_method_split_tco2e,
    sum(coalesce(scope_3_location_based_kgco2e, scope_3_unsplit_kgco2e)) / 1000 as scope_3_cloud_services_location_based_tco2e,
    sum(coalesce(scope_3_market_based_kgco2e, scope_3_unsplit_kgco2e)) / 1000 as scope_3_cloud_services_market_based_tco2e,
    sum(total_location_based_kgco2e) / 1000 as total_location_based_tco2e,
    sum(total_market_based_kgco2e) / 1000 as total_market_based_tco2e
from {{ ref('fct_ghg_inventory') }}
where period_kind = 'fiscal_year'
group by period_label, period_start, period_end
