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
    latest_month_emissions_kgco2e as emissions_kgco2e
from {{ source('azure', 'emissions_by_resource') }}
