{#- Spend the usage-based estimate cannot cover, per month x account x region x service x
    currency: (1) accounts with cost but no usage rows that month (e.g. Azure without
    `usage_daily`), and (2) usage rows classified `unknown`. Usage and cost of one account come
    from the same bill, so an account with usage rows is covered by them, except for (2). -#}
with usage_accounts as (
    select distinct provider, usage_month, account_id
    from {{ ref('int_estimate__usage_monthly') }}
),

no_usage as (
    select
        s.provider, s.usage_month, s.account_id, s.region, s.reported_service as service,
        s.service_category, s.region_group, s.currency, s.spend,
        'no_usage_data' as reason
    from {{ ref('int_estimate__spend_monthly') }} as s
    left join usage_accounts as u
        on s.provider = u.provider and s.usage_month = u.usage_month and s.account_id = u.account_id
    where u.account_id is null
),

unknown_usage as (
    select
        u.provider, cast(u.usage_month as date) as usage_month, u.account_id, u.region, u.service,
        coalesce(m.category, s.category, n.category, 'other') as service_category,
        coalesce(r.geography, 'Unknown') as region_group,
        u.currency,
        sum(u.cost) as spend,
        'unknown_usage' as reason
    from {{ ref('int_estimate__usage_classified') }} as u
    left join {{ ref('cost_service_map') }} as m on u.provider = m.provider and u.service = m.reported_service
    left join {{ ref('dim_cloud_service') }} as s on u.provider = s.provider and u.service = s.service
    left join {{ ref('dim_cloud_service') }} as n
        on u.provider = n.provider and u.service = n.service_name and s.service is null
    left join {{ ref('dim_cloud_region') }} as r
        on u.provider = r.provider
        and lower(replace(u.region, ' ', '')) = lower(replace(r.region, ' ', ''))
    where u.usage_class = 'unknown'
    group by u.provider, u.usage_month, u.account_id, u.region, u.service, m.category, s.category,
        n.category, r.geography, u.currency
)

select * from no_usage
union all
select * from unknown_usage
