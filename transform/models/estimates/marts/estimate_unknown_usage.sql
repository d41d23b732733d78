{#- Usage the usage-based estimate cannot classify (no pattern in ccf_usage_classification
    matched), and usage dropped as double counted, with its spend: never silently counted as
    zero. Unknown spend is estimated from spend where a calibrated factor exists in its currency
    (`has_spend_based_estimate`). -#}
with spend_based as (
    select distinct provider, usage_month, account_id, region, service, currency
    from {{ ref('int_estimate__spend_based') }}
)

select
    u.provider,
    cast(u.usage_month as date) as usage_month,
    u.account_id,
    u.region,
    u.service,
    u.usage_type,
    u.usage_unit,
    u.usage_class,
    u.usage_amount,
    u.cost,
    u.currency,
    s.provider is not null and u.usage_class = 'unknown' as has_spend_based_estimate
from {{ ref('int_estimate__usage_classified') }} as u
left join spend_based as s
    on u.provider = s.provider
    and u.usage_month = s.usage_month
    and u.account_id = s.account_id
    and u.region = s.region
    and u.service = s.service
    and u.currency = s.currency
where u.usage_class in ('unknown', 'drop')
