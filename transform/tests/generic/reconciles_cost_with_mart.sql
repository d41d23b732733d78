{#- The cost mart's total of `column` per day x currency for `provider` equals the staging
    total computed by `staged` (a query returning usage_date, currency, cost): reshaping lost or
    doubled nothing. -#}
{% test reconciles_cost_with_mart(model, provider, staged, column='cost') %}
with staged as ({{ staged }}),
staged_total as (
    select usage_date, currency, sum(cost) as cost from staged group by usage_date, currency
),
mart as (
    select usage_date, currency, sum({{ column }}) as cost
    from {{ ref('fct_cloud_cost_daily') }}
    where provider = '{{ provider }}'
    group by usage_date, currency
)
select
    coalesce(s.usage_date, m.usage_date) as usage_date,
    coalesce(s.currency, m.currency) as currency,
    s.cost as staged_cost,
    m.cost as mart_cost
from staged_total as s
full outer join mart as m on s.usage_date = m.usage_date and s.currency = m.currency
where coalesce(s.cost, 0) <> coalesce(m.cost, 0)
{% endtest %}
