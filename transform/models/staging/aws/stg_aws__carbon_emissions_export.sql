{#- Every model version AWS delivered, converted to kilograms; units are checked by a test. -#}
select
    cast(usage_period || '-01' as date) as usage_month,
    model_version,
    usage_account_id as account_id,
    payer_account_id,
    region_code as region,
    product_code as service,
    location as region_name,
    {{ mtco2e_to_kgco2e('total_scope_1_emissions_value') }} as scope_1_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_2_lbm_emissions_value') }} as scope_2_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_2_mbm_emissions_value') }} as scope_2_market_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_3_lbm_emissions_value') }} as scope_3_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_scope_3_mbm_emissions_value') }} as scope_3_market_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_lbm_emissions_value') }} as total_location_based_kgco2e,
    {{ mtco2e_to_kgco2e('total_mbm_emissions_value') }} as total_market_based_kgco2e,
    total_lbm_emissions_unit as reported_unit,
    _source_file as source_file
from {{ source('aws', 'carbon_emissions_export') }}
