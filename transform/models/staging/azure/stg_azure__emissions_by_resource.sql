{#- Azure emissions per resource and scope, as reported (kgCO2e; Azure does not split methods). -#}
select
    cast(month as date) as usage_month,
    cast(replace(scope, 'Scope', '') as integer) as scope,
    subscription_id,
    resource_id,
    resource_group,
    {#- The API often leaves location blank; `unknown` keeps the row and is mapped in the seed. -#}
    coalesce(nullif(trim(location), ''), 'unknown') as location,
    coalesce(nullif(trim(resource_type), ''), 'unknown') as resource_type,
    item_name,
    latest_month_emissions_kgco2e as emissions_kgco2e,
    previous_month_emissions_kgco2e,
    monthly_emissions_change_value_kgco2e as emissions_change_kgco2e,
    month_over_month_emissions_change_ratio as emissions_change_ratio,
    category_type,
    data_type
from {{ source('azure', 'emissions_by_resource') }}
