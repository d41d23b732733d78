{#- The daily cost mart against the taps' raw tables, per provider x day x currency.

    Every part names its columns: the first enabled one names the union's.

    Starts from the tables the loader wrote, not the staging models, so a staging model that
    reads the wrong column or drops rows fails `dbt build`. Google's cost is after credits (cost
    plus the negative credits); AWS counts the latest CUR delivery of each billing period only,
    the one read last (every delivery restates the whole period). Fails with every group whose
    totals differ or that only one side has. -#}
{%- set providers = enabled_providers() -%}
{%- set parts = [] -%}
{%- if aws_cur_enabled() %}
{%- set cur = source('aws', 'cur_usage_daily') %}
{%- do parts.append(
    "select 'aws' as provider, cast(c.usage_date as date) as usage_date, c.currency_code as "
    ~ "currency, c.unblended_cost as cost from " ~ cur ~ " as c inner join aws_latest as l on "
    ~ "c.billing_period = l.billing_period and c.delivery_id = l.delivery_id"
) %}
{%- endif %}
{%- if 'azure' in providers %}
{%- do parts.append(
    "select 'azure' as provider, cast(usage_date as date) as usage_date, currency, cost from "
    ~ source('azure', 'cost_daily')
) %}
{%- endif %}
{%- if 'gcp' in providers %}
{%- do parts.append(
    "select 'gcp' as provider, cast(usage_date as date) as usage_date, currency, "
    ~ "cost + coalesce(credits_amount, 0) as cost from "
    ~ source('gcp', 'billing_usage_daily')
) %}
{%- endif %}
with
{%- if aws_cur_enabled() %}
aws_read as (
    select billing_period, delivery_id, max(_sdc_extracted_at) as read_at
    from {{ cur }}
    group by billing_period, delivery_id
),

aws_last_read as (
    select billing_period, max(read_at) as read_at from aws_read group by billing_period
),

{#- Ties (one run read two deliveries of a period) go to the greater id, as in staging. -#}
aws_latest as (
    select d.billing_period, max(d.delivery_id) as delivery_id
    from aws_read as d
    inner join aws_last_read as l
        on d.billing_period = l.billing_period and d.read_at = l.read_at
    group by d.billing_period
),
{%- endif %}

raw as (
    {%- if parts %}
    {{ parts | join('\n    union all\n    ') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as provider,
        cast(null as date) as usage_date,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ dbt.type_numeric() }}) as cost
    where 1 = 0
    {%- endif %}
),

raw_total as (
    select provider, usage_date, currency, sum(cost) as cost
    from raw
    group by provider, usage_date, currency
),

mart_total as (
    select provider, usage_date, currency, sum(cost) as cost
    from {{ ref('fct_cloud_cost_daily') }}
    group by provider, usage_date, currency
)

select
    coalesce(r.provider, m.provider) as provider,
    coalesce(r.usage_date, m.usage_date) as usage_date,
    coalesce(r.currency, m.currency) as currency,
    r.cost as raw_cost,
    m.cost as mart_cost
from raw_total as r
full outer join mart_total as m
    on r.provider = m.provider
    and r.usage_date = m.usage_date
    and r.currency = m.currency
where r.provider is null or m.provider is null or r.cost <> m.cost
