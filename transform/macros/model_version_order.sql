{#- Newest first for versions like `v3.10.0`: compare major, minor and patch as numbers, not text
    (as text, v3.10.0 would sort before v3.9.0). -#}
{% macro model_version_order(column) -%}
    {%- set bare = "replace(" ~ column ~ ", 'v', '')" -%}
    cast({{ dbt.split_part(bare, "'.'", 1) }} as integer) desc,
    cast({{ dbt.split_part(bare, "'.'", 2) }} as integer) desc,
    cast({{ dbt.split_part(bare, "'.'", 3) }} as integer) desc
{%- endmacro %}
