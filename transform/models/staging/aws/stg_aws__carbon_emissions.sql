{#- One row per month x account x region x service, in kilograms, as reported by AWS. -#}
select
    cast(usage_period_start as date) as usage_month,
    usage_account_id as account_id,
    region,
    service,
    model_version,
    {{ mtco2e_to_kgco2e('total_scope_1_carbon_emissions_mtco2e') }} as scope_1_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_2_lbm_carbon_emissions_mtco2e') }} as scope_2_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_2_mbm_carbon_emissions_mtco2e') }} as scope_2_market_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_3_lbm_carbon_emissions_mtco2e') }} as scope_3_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_3_mbm_carbon_emissions_mtco2e') }} as scope_3_market_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_lbm_carbon_emissions_mtco2e') }} as total_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_mbm_carbon_emissions_mtco2e') }} as total_market_based_kgco2e
from {{ source('aws', 'carbon_emissions') }}
