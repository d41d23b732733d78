{#- The spend-based estimate of uncovered spend: spend x the calibrated kgCO2e per currency
    unit, one row per scope the provider reports, with the most specific calibration that has
    data (category x region group, else category, else the provider's overall factor, always
    in the spend's own currency). Spend with no factor in its currency gets no row here; it is
    listed in estimate_unknown_usage. -#}
with spend as (
    select * from {{ ref('int_estimate__uncovered_spend') }}
),

calibration as (
    select * from {{ ref('estimate_spend_calibration') }}
),

candidates as (
    select
        s.provider, s.usage_month, s.account_id, s.region, s.service, s.service_category,
        s.region_group, s.currency, s.spend, s.reason, c.scope, c.calibration_level,
        c.kgco2e_per_currency_unit,
        row_number() over (
            partition by s.provider, s.usage_month, s.account_id, s.region, s.service, s.currency,
                s.reason, c.scope
            order by case c.calibration_level when 'category_region' then 1 when 'category' then 2 else 3 end
        ) as preference
    from spend as s
    inner join calibration as c
        on s.provider = c.provider
        and s.currency = c.currency
        and (
            (c.calibration_level = 'category_region' and c.service_category = s.service_category and c.region_group = s.region_group)
            or (c.calibration_level = 'category' and c.service_category = s.service_category)
            or c.calibration_level = 'provider'
        )
)

select
    provider, usage_month, account_id, region, service, scope,
    sum(spend * kgco2e_per_currency_unit) as emissions_kgco2e,
    sum(spend) as cost,
    currency,
    {#- Where rows of one key used several levels, the coarsest one is named. -#}
    case max(case calibration_level when 'category_region' then 1 when 'category' then 2 else 3 end)
        when 1 then 'category_region'
        when 2 then 'category'
        else 'provider'
    end as calibration_level
from candidates
where preference = 1
group by provider, usage_month, account_id, region, service, scope, currency
