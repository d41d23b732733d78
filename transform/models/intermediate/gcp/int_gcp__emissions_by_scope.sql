{#- Google at the common grain. Scope 2 is reported both ways; scopes 1 and 3 are not split, so
    they are as_reported. Zones of one region are summed into the region. -#}
{% set parts = [
    ('1', 'as_reported', 'scope_1_kgco2e'),
    ('2', 'location_based', 'scope_2_location_based_kgco2e'),
    ('2', 'market_based', 'scope_2_market_based_kgco2e'),
    ('3', 'as_reported', 'scope_3_kgco2e'),
] %}
{% for scope, method, column in parts %}
select
    'gcp' as provider,
    usage_month,
    project as account_id,
    billing_account_id,
    region,
    service,
    {{ scope }} as scope,
    '{{ method }}' as method,
    sum({{ column }}) as emissions_kgco2e,
    cast(max(carbon_model_version) as {{ dbt.type_string() }}) as model_version,
    'tap-gcp-carbon.carbon_footprint' as source_stream
from {{ ref('stg_gcp__carbon_footprint') }}
where {{ column }} is not null
group by usage_month, project, billing_account_id, region, service
{% if not loop.last %}union all{% endif %}
{% endfor %}
