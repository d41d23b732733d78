{#- The mart's total per month x scope for `provider` equals the staging total computed by
    `staged` (a query returning usage_month, scope, kg): reshaping lost or doubled nothing. -#}
{% test reconciles_with_mart(model, provider, staged) %}
with staged as ({{ staged }}),
staged_total as (select usage_month, scope, sum(kg) as kg from staged group by 1, 2),
mart as (
    select usage_month, scope, sum(emissions_kgco2e) as kg
    from {{ ref('fct_cloud_emissions') }}
    where provider = '{{ provider }}'
    group by 1, 2
)
select s.usage_month, s.scope, s.kg as staged_kg, m.kg as mart_kg
from staged_total as s
full outer join mart as m on s.usage_month = m.usage_month and s.scope = m.scope
where coalesce(s.kg, 0) <> coalesce(m.kg, 0)
{% endtest %}
