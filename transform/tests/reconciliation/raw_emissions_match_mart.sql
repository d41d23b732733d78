{#- The emissions mart against the taps' raw tables, per provider x month x scope x method.

    The other reconciliations compare the mart with the staging models, so a staging model that
    reads the wrong raw column (say AWS scope-3 market-based from the location-based column)
    passes them. This one starts from the tables the loader wrote, converts units here (AWS
    reports metric tonnes: x 1000 to kilograms) and expects the mart's totals to the last digit.
    Fails with every group whose totals differ or that only one side has. -#}
{%- set providers = enabled_providers() -%}
{#- Raw column -> (scope, method), as each provider documents its columns. -#}
{%- set aws_columns = [
    ('total_scope_1_carbon_emissions_mtco2e', 1, 'as_reported'),
    ('total_scope_2_lbm_carbon_emissions_mtco2e', 2, 'location_based'),
    ('total_scope_2_mbm_carbon_emissions_mtco2e', 2, 'market_based'),
    ('total_scope_3_lbm_carbon_emissions_mtco2e', 3, 'location_based'),
    ('total_scope_3_mbm_carbon_emissions_mtco2e', 3, 'market_based'),
] -%}
{%- set gcp_columns = [
    ('scope1_kgco2e', 1, 'as_reported'),
    ('scope2_location_based_kgco2e', 2, 'location_based'),
    ('scope2_market_based_kgco2e', 2, 'market_based'),
    ('scope3_kgco2e', 3, 'as_reported'),
] -%}
with raw as (
    {%- set parts = [] %}
    {%- if 'aws' in providers %}
    {%- for column, scope, method in aws_columns %}
    {%- do parts.append(
        "select 'aws' as provider, cast(usage_period_start as date) as usage_month, "
        ~ scope ~ " as scope, '" ~ method ~ "' as method, " ~ column ~ " * 1000 as kg from "
        ~ source('aws', 'carbon_emissions') ~ " where " ~ column ~ " is not null"
    ) %}
    {%- endfor %}
    {%- endif %}
    {%- if 'azure' in providers %}
    {%- do parts.append(
        "select 'azure' as provider, cast(month as date) as usage_month, case scope when "
        ~ "'Scope1' then 1 when 'Scope2' then 2 when 'Scope3' then 3 end as scope, "
        ~ "'as_reported' as method, latest_month_emissions_kgco2e as kg from "
        ~ source('azure', 'emissions_by_resource')
        ~ " where latest_month_emissions_kgco2e is not null"
    ) %}
    {%- endif %}
    {%- if 'gcp' in providers %}
    {%- for column, scope, method in gcp_columns %}
    {%- do parts.append(
        "select 'gcp' as provider, cast(usage_month as date) as usage_month, " ~ scope
        ~ " as scope, '" ~ method ~ "' as method, " ~ column ~ " as kg from "
        ~ source('gcp', 'carbon_footprint') ~ " where " ~ column ~ " is not null"
    ) %}
    {%- endfor %}
    {%- endif %}
    {{ parts | join('\n    union all\n    ') }}
),

raw_total as (
    select provider, usage_month, scope, method, sum(kg) as kg
    from raw
    group by provider, usage_month, scope, method
),

mart_total as (
    select provider, usage_month, scope, method, sum(emissions_kgco2e) as kg
    from {{ ref('fct_cloud_emissions') }}
    group by provider, usage_month, scope, method
)

select
    coalesce(r.provider, m.provider) as provider,
    coalesce(r.usage_month, m.usage_month) as usage_month,
    coalesce(r.scope, m.scope) as scope,
    coalesce(r.method, m.method) as method,
    r.kg as raw_kg,
    m.kg as mart_kg
from raw_total as r
full outer join mart_total as m
    on r.provider = m.provider
    and r.usage_month = m.usage_month
    and r.scope = m.scope
    and r.method = m.method
where r.provider is null or m.provider is null or r.kg <> m.kg
