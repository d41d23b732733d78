{#- Azure's ItemDetailsReport by subscription: one row per month x scope x subscription. -#}
select
    cast(month as date) as usage_month,
    cast(replace(scope, 'Scope', '') as integer) as scope,
    subscription_id,
    item_name,
    latest_month_emissions_kgco2e as emissions_kgco2e,
    previous_month_emissions_kgco2e,
    monthly_emissions_change_value_kgco2e as emissions_change_kgco2e,
    month_over_month_emissions_change_ratio as emissions_change_ratio,
    category_type,
    data_type
from {{ source('azure', 'emissions_by_subscription') }}
