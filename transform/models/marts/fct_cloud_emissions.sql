{#- One emissions table across clouds: provider x month x account x region x service x scope x
    method, in kilograms CO2e. Each provider's intermediate model brings its rows to this grain. -#}
{% for model in emissions_models() %}
select
    provider,
    usage_month,
    account_id,
    billing_account_id,
    region,
    service,
    scope,
    method,
    emissions_kgco2e,
    model_version,
    source_stream
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
