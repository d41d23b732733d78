{#- Azure daily usage quantity and cost per scope x location x meter (tap-azure-emissions
    `usage_daily`, read when its `usage_quantities` setting is on). Where the raw table does not
    exist (the setting is off, or Azure is not among the providers), the model is empty with the
    same columns, so the estimates fall back on spend for Azure. Looking the table up needs a
    warehouse connection, which `dbt compile` (e.g. for Snowflake, offline) does not have: there
    the model compiles as if the table were absent. -#}
{%- set relation = none -%}
{%- if execute and flags.WHICH != 'compile' and 'azure' in enabled_providers() -%}
    {%- set src = source('azure', 'usage_daily') -%}
    {%- set relation = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) -%}
{%- endif %}
{% if relation is not none %}
select
    cast(usage_date as date) as usage_date,
    scope as cost_scope,
    resource_location,
    meter,
    usage_quantity,
    cost,
    currency,
    cost_type
from {{ relation }}
{% else %}
select
    cast(null as date) as usage_date,
    cast(null as {{ dbt.type_string() }}) as cost_scope,
    cast(null as {{ dbt.type_string() }}) as resource_location,
    cast(null as {{ dbt.type_string() }}) as meter,
    cast(null as {{ dbt.type_numeric() }}) as usage_quantity,
    cast(null as {{ dbt.type_numeric() }}) as cost,
    cast(null as {{ dbt.type_string() }}) as currency,
    cast(null as {{ dbt.type_string() }}) as cost_type
where 1 = 0
{% endif %}
