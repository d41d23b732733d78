{#- The providers whose tap tables exist in this warehouse (the `providers` setting). -#}
{% macro enabled_providers() -%}
    {{ return(env_var('CARBON_PROVIDERS', 'aws,azure,gcp').split(',')) }}
{%- endmacro %}

{#- Whether the AWS Cost and Usage Report models are built: the raw table exists only where
    tap-aws-carbon reads a CUR (`aws_cur` var, the dbt utilities' `aws_cur` setting). The same
    test is repeated in dbt_project.yml, which cannot call macros. -#}
{% macro aws_cur_enabled() -%}
    {%- set switch = var('aws_cur', env_var('CARBON_AWS_CUR', 'false')) | string | lower -%}
    {{ return('aws' in enabled_providers() and switch in ['true', '1', 'yes']) }}
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

{#- The intermediate models at the common daily cost grain, for the enabled providers and
    streams (AWS cost comes from the CUR, which has its own switch). -#}
{% macro cost_models() -%}
    {%- set models = [] -%}
    {%- if aws_cur_enabled() -%}{%- do models.append('int_aws__cost_daily') -%}{%- endif -%}
    {%- if 'azure' in enabled_providers() -%}{%- do models.append('int_azure__cost_daily') -%}{%- endif -%}
    {%- if 'gcp' in enabled_providers() -%}{%- do models.append('int_gcp__cost_daily') -%}{%- endif -%}
    {{ return(models) }}
{%- endmacro %}
