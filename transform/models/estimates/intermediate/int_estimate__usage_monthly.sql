{#- Every provider's usage rows at one monthly grain: provider x month x account x region x
    service x usage type x unit x currency, with usage amount and cost summed. AWS from the CUR
    (when `aws_cur` is on; usage line items only), Google from the billing export, Azure from
    `usage_daily`. Regions are lower-case; Azure's ARM names (`westeurope`) are kept as Cost
    Management reports them. -#}
{%- set parts = namespace(count=0) %}
{% if aws_cur_enabled() %}
{%- set parts.count = parts.count + 1 %}
select
    'aws' as provider,
    cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
    account_id,
    lower(coalesce(nullif(region, ''), 'Global')) as region,
    service,
    usage_type,
    usage_unit,
    max(cast(nullif(cast(vcpu as {{ dbt.type_string() }}), '') as {{ dbt.type_numeric() }})) as vcpus,
    sum(usage_amount) as usage_amount,
    sum(cost) as cost,
    currency
from {{ ref('stg_aws__cur_usage_daily') }}
where line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
group by 2, account_id, 4, service, usage_type, usage_unit, currency
{% endif %}
{% if 'gcp' in enabled_providers() %}
{% if parts.count > 0 %}union all{% endif %}
{%- set parts.count = parts.count + 1 %}
select
    'gcp' as provider,
    cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
    project as account_id,
    lower(region) as region,
    service,
    sku_description as usage_type,
    usage_unit,
    cast(null as {{ dbt.type_numeric() }}) as vcpus,
    sum(usage_amount) as usage_amount,
    sum(net_cost) as cost,
    currency
from {{ ref('stg_gcp__billing_usage_daily') }}
group by 2, project, 4, service, sku_description, usage_unit, currency
{% endif %}
{% if 'azure' in enabled_providers() %}
{% if parts.count > 0 %}union all{% endif %}
{%- set parts.count = parts.count + 1 %}
select
    'azure' as provider,
    cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
    case
        when cost_scope like 'subscriptions/%' then {{ dbt.split_part('cost_scope', "'/'", 2) }}
        else cost_scope
    end as account_id,
    lower(replace(resource_location, ' ', '')) as region,
    cast(null as {{ dbt.type_string() }}) as service,
    meter as usage_type,
    cast(null as {{ dbt.type_string() }}) as usage_unit,
    cast(null as {{ dbt.type_numeric() }}) as vcpus,
    sum(usage_quantity) as usage_amount,
    sum(cost) as cost,
    currency
from {{ ref('stg_azure__usage_daily') }}
group by 2, 3, 4, meter, currency
{% endif %}
{% if parts.count == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as provider,
    cast(null as date) as usage_month,
    cast(null as {{ dbt.type_string() }}) as account_id,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(null as {{ dbt.type_string() }}) as service,
    cast(null as {{ dbt.type_string() }}) as usage_type,
    cast(null as {{ dbt.type_string() }}) as usage_unit,
    cast(null as {{ dbt.type_numeric() }}) as vcpus,
    cast(null as {{ dbt.type_numeric() }}) as usage_amount,
    cast(null as {{ dbt.type_numeric() }}) as cost,
    cast(null as {{ dbt.type_string() }}) as currency
where 1 = 0
{% endif %}
