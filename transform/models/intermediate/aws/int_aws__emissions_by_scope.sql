{#- AWS reshaped to the common grain: one row per month x account x region x service x scope x
    method. Scope 1 is not split by method (as-reported); scopes 2 and 3 are reported both ways. -#}
{% set parts = [
    ('1', 'as_reported', 'scope_1_kgco2e'),
    ('2', 'location_based', 'scope_2_location_based_kgco2e'),
    ('2', 'market_based', 'scope_2_market_based_kgco2e'),
    ('3', 'location_based', 'scope_3_location_based_kgco2e'),
    ('3', 'market_based', 'scope_3_market_based_kgco2e'),
] %}
{% for scope, method, column in parts %}
select
    'aws' as provider,
    usage_month,
    account_id,
    cast(null as {{ dbt.type_string() }}) as billing_account_id,
    region,
    service,
    {{ scope }} as scope,
    '{{ method }}' as method,
    {{ column }} as emissions_kgco2e,
    model_version,
    'tap-aws-carbon.carbon_emissions' as source_stream
from {{ ref('stg_aws__carbon_emissions') }}
where {{ column }} is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
