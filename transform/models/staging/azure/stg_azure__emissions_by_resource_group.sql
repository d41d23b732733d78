{#- Azure's ItemDetailsReport by resource group. The group's name is the URL's last segment
    (the URL is lower-cased by the tap, because the API mixes `resourceGroups` and
    `resourcegroups`). -#}
select
    cast(month as date) as usage_month,
    cast(replace(scope, 'Scope', '') as integer) as scope,
    resource_group_url,
    subscription_id,
    {{ dbt.split_part('resource_group_url', "'/'", 5) }} as resource_group,
    item_name,
    latest_month_emissions_kgco2e as emissions_kgco2e,
    previous_month_emissions_kgco2e,
    monthly_emissions_change_value_kgco2e as emissions_change_kgco2e,
    month_over_month_emissions_change_ratio as emissions_change_ratio,
    category_type,
    data_type
from {{ source('azure', 'emissions_by_resource_group') }}
