{#- Azure at the common grain: subscription x location x resource type x scope per month. Azure
    reports one figure per scope without a location/market split, so the method is as_reported. -#}
select
    'azure' as provider,
    usage_month,
    subscription_id as account_id,
    cast(null as {{ dbt.type_string() }}) as billing_account_id,
    location as region,
    resource_type as service,
    scope,
    'as_reported' as method,
    sum(emissions_kgco2e) as emissions_kgco2e,
    cast(null as {{ dbt.type_string() }}) as model_version,
    'tap-azure-emissions.emissions_by_resource' as source_stream
from {{ ref('stg_azure__emissions_by_resource') }}
where emissions_kgco2e is not null
group by usage_month, subscription_id, location, resource_type, scope
