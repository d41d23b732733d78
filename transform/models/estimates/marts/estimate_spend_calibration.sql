{#- The spend-based factor, calibrated from the providers' own figures: reported kgCO2e divided
    by spend, per provider x service category x region group x currency x scope, over the last
    `calibration_months` (var, default 12) months in which both exist. Reported and spend meet
    per month x account x region group x category, so each account's currency is its own.
    Coarser levels (provider x category x currency; provider x currency) are rows of their own,
    used where the finer one has no data. A user reads here which factor was used and why. -#}
{%- set window = var('calibration_months', env_var('CARBON_CALIBRATION_MONTHS', '12')) | int -%}
with spend as (
    select provider, usage_month, account_id, service_category, region_group, currency, sum(spend) as spend
    from {{ ref('int_estimate__spend_monthly') }}
    group by provider, usage_month, account_id, service_category, region_group, currency
),

reported as (
    select provider, usage_month, account_id, service_category, region_group, scope, sum(reported_kgco2e) as reported_kgco2e
    from {{ ref('int_estimate__reported_monthly') }}
    group by provider, usage_month, account_id, service_category, region_group, scope
),

both_exist as (
    select r.provider, r.usage_month, r.account_id, r.service_category, r.region_group, s.currency, r.scope,
        r.reported_kgco2e, s.spend
    from reported as r
    inner join spend as s
        on r.provider = s.provider
        and r.usage_month = s.usage_month
        and r.account_id = s.account_id
        and r.service_category = s.service_category
        and r.region_group = s.region_group
    where s.spend > 0
),

months as (
    select provider, usage_month,
        dense_rank() over (partition by provider order by usage_month desc) as recency
    from (select distinct provider, usage_month from both_exist) as m
),

windowed as (
    select b.*
    from both_exist as b
    inner join months as m on b.provider = m.provider and b.usage_month = m.usage_month
    where m.recency <= {{ window }}
),

levels as (
    select provider, 'category_region' as calibration_level, service_category, region_group, currency, scope,
        sum(reported_kgco2e) as reported_kgco2e, sum(spend) as spend,
        count(distinct usage_month) as months_used, min(usage_month) as first_month, max(usage_month) as last_month
    from windowed
    group by provider, service_category, region_group, currency, scope
    union all
    select provider, 'category', service_category, '*', currency, scope,
        sum(reported_kgco2e), sum(spend), count(distinct usage_month), min(usage_month), max(usage_month)
    from windowed
    group by provider, service_category, currency, scope
    union all
    select provider, 'provider', '*', '*', currency, scope,
        sum(reported_kgco2e), sum(spend), count(distinct usage_month), min(usage_month), max(usage_month)
    from windowed
    group by provider, currency, scope
)

select
    provider,
    calibration_level,
    service_category,
    region_group,
    currency,
    scope,
    reported_kgco2e,
    spend,
    reported_kgco2e / spend as kgco2e_per_currency_unit,
    months_used,
    cast(first_month as date) as first_month,
    cast(last_month as date) as last_month
from levels
where spend > 0
