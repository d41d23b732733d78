{#- Daily spend across clouds, so emissions and cost can sit side by side. Cost stays in the
    currency each provider reports; nothing is converted. Unblended (or as-billed) cost and
    amortized cost sit side by side where the provider gives both. -#}
{% set models = cost_models() %}
{% if models %}
{% for model in models %}
select provider, usage_date, account_id, region, service, cost, amortized_cost, currency, source_stream
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% else %}
{#- No provider with a cost stream is enabled: an empty table with the same columns. -#}
select
    cast(null as {{ dbt.type_string() }}) as provider,
    cast(null as date) as usage_date,
    cast(null as {{ dbt.type_string() }}) as account_id,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(null as {{ dbt.type_string() }}) as service,
    cast(null as {{ dbt.type_numeric() }}) as cost,
    cast(null as {{ dbt.type_numeric() }}) as amortized_cost,
    cast(null as {{ dbt.type_string() }}) as currency,
    cast(null as {{ dbt.type_string() }}) as source_stream
where 1 = 0
{% endif %}
