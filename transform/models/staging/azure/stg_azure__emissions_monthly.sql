{#- Azure's MonthlySummaryReport per subscription and scope (kgCO2e, as reported). The mart is
    built from the resource detail rows; this summary is what they are reconciled against. -#}
select
    cast(month as date) as usage_month,
    cast(replace(scope, 'Scope', '') as integer) as scope,
    subscription_id,
    latest_month_emissions_kgco2e as emissions_kgco2e,
    previous_month_emissions_kgco2e,
    monthly_emissions_change_value_kgco2e as emissions_change_kgco2e,
    month_over_month_emissions_change_ratio as emissions_change_ratio,
    carbon_intensity,
    data_type
from {{ source('azure', 'emissions_monthly') }}
