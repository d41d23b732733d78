{#- Monthly spend per provider x account x region x service x currency (fct_cloud_cost_daily),
    with the service category and region group the calibration works on. The category comes
    from cost_service_map (cost-side names such as Azure's `Virtual Machines`), else
    dim_cloud_service by service or service name, else `other`; the region group is
    dim_cloud_region's geography, matched lower-case without spaces, else `Unknown`. -#}
with cost as (
    select
        provider,
        {{ dbt.date_trunc('month', 'usage_date') }} as usage_month,
        account_id,
        region,
        service,
        currency,
        sum(cost) as spend
    from {{ ref('fct_cloud_cost_daily') }}
    group by provider, {{ dbt.date_trunc('month', 'usage_date') }}, account_id, region, service, currency
)

select
    c.provider,
    cast(c.usage_month as date) as usage_month,
    c.account_id,
    c.region,
    c.service,
    coalesce(m.reported_service, c.service) as reported_service,
    coalesce(m.category, s.category, n.category, 'other') as service_category,
    coalesce(r.geography, 'Unknown') as region_group,
    c.currency,
    c.spend
from cost as c
left join {{ ref('cost_service_map') }} as m on c.provider = m.provider and c.service = m.service
left join {{ ref('dim_cloud_service') }} as s on c.provider = s.provider and c.service = s.service
left join {{ ref('dim_cloud_service') }} as n
    on c.provider = n.provider and c.service = n.service_name and s.service is null
left join {{ ref('dim_cloud_region') }} as r
    on c.provider = r.provider
    and lower(replace(c.region, ' ', '')) = lower(replace(r.region, ' ', ''))
