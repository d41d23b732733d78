{#- Each subscription's latest access decision from the Carbon Optimization API, with the
    months of emissions the mart holds for it: a subscription Denied (or never reported) has
    none, and this is where a user sees why. -#}
with ranked as (
    select
        checked_at,
        subscription_id,
        decision,
        is_allowed,
        denial_reason,
        row_number() over (partition by subscription_id order by checked_at desc) as recency
    from {{ ref('stg_azure__subscription_access') }}
),

emitted as (
    select subscription_id, count(distinct usage_month) as months_with_emissions
    from {{ ref('stg_azure__emissions_by_resource') }}
    group by subscription_id
)

select
    r.subscription_id,
    r.decision,
    r.is_allowed,
    r.denial_reason,
    r.checked_at as last_checked_at,
    coalesce(e.months_with_emissions, 0) as months_with_emissions
from ranked as r
left join emitted as e on r.subscription_id = e.subscription_id
where r.recency = 1
