{#- The GHG inventory: provider x period x account, one column per scope and method, so a row
    can be read (and summed over accounts) without knowing the long mart's method rows. Periods:
    month, calendar year and fiscal year (var `fiscal_year_start_month`, default 1). Totals take
    each scope once: location_based (or as_reported where the provider gives no split) for the
    location-based total, market_based (or as_reported) for the market-based one. -#}
{%- set fy_start = var('fiscal_year_start_month', env_var('CARBON_FISCAL_YEAR_START_MONTH', '1')) | int -%}
with monthly as (
    select
        provider,
        usage_month,
        account_id,
        sum(case when scope = 1 then emissions_kgco2e end) as scope_1_kgco2e,
        sum(case when scope = 2 and method = 'location_based' then emissions_kgco2e end) as scope_2_location_based_kgco2e,
        sum(case when scope = 2 and method = 'market_based' then emissions_kgco2e end) as scope_2_market_based_kgco2e,
        sum(case when scope = 2 and method = 'as_reported' then emissions_kgco2e end) as scope_2_unsplit_kgco2e,
        sum(case when scope = 3 and method = 'location_based' then emissions_kgco2e end) as scope_3_location_based_kgco2e,
        sum(case when scope = 3 and method = 'market_based' then emissions_kgco2e end) as scope_3_market_based_kgco2e,
        sum(case when scope = 3 and method = 'as_reported' then emissions_kgco2e end) as scope_3_unsplit_kgco2e,
        sum(case when method in ('location_based', 'as_reported') then emissions_kgco2e end) as total_location_based_kgco2e,
        sum(case when method in ('market_based', 'as_reported') then emissions_kgco2e end) as total_market_based_kgco2e
    from {{ ref('fct_cloud_emissions') }}
    group by provider, usage_month, account_id
),

periods as (
    select 'month' as period_kind, usage_month as period_start, 1 as period_months, m.*
    from monthly as m
    union all
    select 'calendar_year', cast({{ dbt.date_trunc('year', 'usage_month') }} as date), 12, m.*
    from monthly as m
    union all
    select
        'fiscal_year',
        cast({{ dbt.dateadd('month', '-1 * mod(cast(extract(month from usage_month) as integer) + ' ~ (12 - fy_start) ~ ', 12)', 'usage_month') }} as date),
        12,
        m.*
    from monthly as m
),

summed as (
    select
        period_kind,
        period_start,
        period_months,
        provider,
        account_id,
        count(distinct usage_month) as months_loaded,
        sum(scope_1_kgco2e) as scope_1_kgco2e,
        sum(scope_2_location_based_kgco2e) as scope_2_location_based_kgco2e,
        sum(scope_2_market_based_kgco2e) as scope_2_market_based_kgco2e,
        sum(scope_2_unsplit_kgco2e) as scope_2_unsplit_kgco2e,
        sum(scope_3_location_based_kgco2e) as scope_3_location_based_kgco2e,
        sum(scope_3_market_based_kgco2e) as scope_3_market_based_kgco2e,
        sum(scope_3_unsplit_kgco2e) as scope_3_unsplit_kgco2e,
        sum(total_location_based_kgco2e) as total_location_based_kgco2e,
        sum(total_market_based_kgco2e) as total_market_based_kgco2e
    from periods
    group by period_kind, period_start, period_months, provider, account_id
)

select
    period_kind,
    case period_kind
        when 'month' then to_char(period_start, 'YYYY-MM')
        when 'calendar_year' then to_char(period_start, 'YYYY')
        else 'FY' || to_char(cast({{ dbt.dateadd('month', 11, 'period_start') }} as date), 'YYYY')
    end as period_label,
    period_start,
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 'period_months', 'period_start')) }} as date) as period_end,
    provider,
    account_id,
    months_loaded,
    scope_1_kgco2e,
    scope_2_location_based_kgco2e,
    scope_2_market_based_kgco2e,
    scope_2_unsplit_kgco2e,
    scope_3_location_based_kgco2e,
    scope_3_market_based_kgco2e,
    scope_3_unsplit_kgco2e,
    total_location_based_kgco2e,
    total_market_based_kgco2e,
    case
        when scope_2_location_based_kgco2e is not null and scope_2_market_based_kgco2e is not null
            then 'location_based and market_based'
        when scope_2_unsplit_kgco2e is not null then 'neither: one figure as reported'
        else 'no scope 2 reported'
    end as scope_2_methods_supplied,
    case
        when scope_3_location_based_kgco2e is not null and scope_3_market_based_kgco2e is not null
            then 'location_based and market_based'
        when scope_3_unsplit_kgco2e is not null then 'neither: one figure as reported'
        else 'no scope 3 reported'
    end as scope_3_methods_supplied
from summed
