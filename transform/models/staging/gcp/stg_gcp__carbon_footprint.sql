{#- Google's carbon footprint per month x billing account x project x service x location (kgCO2e,
    Google's own unit). Rows without a project keep their number, or `(no project)`. -#}
select
    cast(usage_month as date) as usage_month,
    billing_account_id,
    coalesce(project_id, project_number, '(no project)') as project,
    project_id,
    project_number,
    service_id,
    service_description as service,
    {#- Zones roll up to their region; multi-regions (`us`, `eu`) and `global` stay as reported. -#}
    coalesce(region, location, 'global') as region,
    location,
    carbon_model_version,
    scope1_kgco2e as scope_1_kgco2e,
    scope2_location_based_kgco2e as scope_2_location_based_kgco2e,
    scope2_market_based_kgco2e as scope_2_market_based_kgco2e,
    scope3_kgco2e as scope_3_kgco2e,
    total_location_based_kgco2e,
    total_market_based_kgco2e
from {{ source('gcp', 'carbon_footprint') }}
