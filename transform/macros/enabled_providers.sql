{#- The providers whose tap tables exist in this warehouse (the `providers` setting). -#}
{% macro enabled_providers() -%}
    {{ return(env_var('CARBON_PROVIDERS', 'aws,azure,gcp').split(',')) }}
{%- endmacro %}

{#- The intermediate models at the common emissions grain, for the enabled providers. -#}
{% macro emissions_models() -%}
    {%- set by_provider = {
        'aws': 'int_aws__emissions_by_scope',
        'azure': 'int_azure__emissions_by_scope',
        'gcp': 'int_gcp__emissions_by_scope',
    } -%}
    {{ return(by_provider.items() | selectattr(0, 'in', enabled_providers()) | map(attribute=1) | list) }}
{%- endmacro %}

{#- The intermediate models at the common daily cost grain, for the enabled providers. -#}
{% macro cost_models() -%}
    {%- set by_provider = {
        'azure': 'int_azure__cost_daily',
        'gcp': 'int_gcp__cost_daily',
    } -%}
    {{ return(by_provider.items() | selectattr(0, 'in', enabled_providers()) | map(attribute=1) | list) }}
{%- endmacro %}
