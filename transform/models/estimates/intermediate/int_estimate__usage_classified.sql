{#- Each monthly usage row classified as Cloud Carbon Footprint does (seed
    ccf_usage_classification: the first matching pattern by priority), and its quantity brought
    to the class's unit: vCPU-hours (compute), GB-hours (memory), TB-hours (ssd, hdd) or GB
    (network). Rows no pattern matches are `unknown`; `drop` rows (double counted, licences,
    fees) are kept with their class so nothing disappears unseen. -#}
with usage as (
    select * from {{ ref('int_estimate__usage_monthly') }}
),

matches as (
    select
        u.provider,
        u.usage_month,
        u.account_id,
        u.region,
        u.service,
        u.usage_type,
        u.usage_unit,
        c.priority,
        c.usage_class,
        c.quantity_divisor,
        c.hours_per_unit,
        c.per_month_hours,
        c.vcpus_per_unit,
        c.replication_factor,
        c.reported_service,
        row_number() over (
            partition by u.provider, u.usage_month, u.account_id, u.region, u.service,
                u.usage_type, u.usage_unit, u.currency
            order by c.priority, c.usage_type_pattern
        ) as rank_in_row,
        u.currency
    from usage as u
    inner join {{ ref('ccf_usage_classification') }} as c
        on u.provider = c.provider
        and coalesce(u.service, '') like c.service_pattern
        and coalesce(u.usage_type, '') like c.usage_type_pattern
        and coalesce(u.usage_unit, '') like c.unit_pattern
)

select
    u.provider,
    u.usage_month,
    u.account_id,
    u.region,
    coalesce(m.reported_service, u.service, u.usage_type) as service,
    u.usage_type,
    u.usage_unit,
    coalesce(m.usage_class, 'unknown') as usage_class,
    u.usage_amount,
    case
        when m.usage_class in ('compute', 'memory', 'ssd', 'hdd', 'network')
            then u.usage_amount
                * (case when m.usage_class = 'compute' then coalesce(u.vcpus, m.vcpus_per_unit, 1) else 1 end)
                * (case
                    when m.per_month_hours
                        then 24 * {{ dbt.datediff('u.usage_month', dbt.dateadd('month', 1, 'u.usage_month'), 'day') }}
                    else m.hours_per_unit
                end)
                / m.quantity_divisor
    end as class_quantity,
    coalesce(m.replication_factor, 1) as replication_factor,
    u.cost,
    u.currency
from usage as u
left join matches as m
    on u.provider = m.provider
    and u.usage_month = m.usage_month
    and u.account_id = m.account_id
    and u.region = m.region
    and coalesce(u.service, '') = coalesce(m.service, '')
    and u.usage_type = m.usage_type
    and coalesce(u.usage_unit, '') = coalesce(m.usage_unit, '')
    and u.currency = m.currency
    and m.rank_in_row = 1
