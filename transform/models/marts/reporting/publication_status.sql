{#- Per provider x month: when the provider publishes the month (its own calendar, seed
    provider_publication_calendar), whether it has loaded, how many accounts are missing, and
    whether the month is final or can still be restated. Months run from each provider's first
    loaded month to the month before `as_of_date` (var; default today), so a month the provider
    should have published but that never loaded shows up as `missing`. -#}
{%- set as_of = var('as_of_date', none) -%}
{%- set as_of_sql = ("cast('" ~ as_of ~ "' as date)") if as_of else 'current_date' -%}
with calendar as (
    select provider, publication_day, restatement_lookback_months
    from {{ ref('provider_publication_calendar') }}
    where provider in ('{{ enabled_providers() | join("', '") }}')
),

loaded as (
    select provider, usage_month, count(distinct account_id) as accounts_loaded
    from {{ ref('fct_cloud_emissions') }}
    group by provider, usage_month
),

first_seen as (
    select provider, account_id, min(usage_month) as first_month
    from {{ ref('fct_cloud_emissions') }}
    group by provider, account_id
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

offsets as (
    select a.d * 100 + b.d * 10 + c.d as n from digits as a cross join digits as b cross join digits as c
),

months as (
    select
        c.provider,
        c.publication_day,
        c.restatement_lookback_months,
        cast({{ dbt.dateadd('month', 'o.n', 'f.first_month') }} as date) as usage_month
    from calendar as c
    inner join (select provider, min(usage_month) as first_month from loaded group by provider) as f
        on c.provider = f.provider
    cross join offsets as o
    where {{ dbt.dateadd('month', 'o.n', 'f.first_month') }} < {{ dbt.date_trunc('month', as_of_sql) }}
),

expected as (
    select m.provider, m.usage_month, count(s.account_id) as accounts_expected
    from months as m
    left join first_seen as s on m.provider = s.provider and s.first_month <= m.usage_month
    group by m.provider, m.usage_month
),

denied as (
{%- if 'azure' in enabled_providers() %}
    select 'azure' as provider, count(*) as accounts_denied
    from {{ ref('azure_subscription_access') }}
    where not is_allowed
{%- else %}
    select cast(null as varchar) as provider, 0 as accounts_denied
{%- endif %}
),

timed as (
    select
        m.provider,
        m.usage_month,
        cast({{ dbt.dateadd('day', 'm.publication_day - 1', dbt.dateadd('month', 1, 'm.usage_month')) }} as date) as published_by,
        cast({{ dbt.dateadd('day', 'm.publication_day - 1', dbt.dateadd('month', 'm.restatement_lookback_months + 2', 'm.usage_month')) }} as date) as final_from,
        m.restatement_lookback_months,
        e.accounts_expected,
        coalesce(l.accounts_loaded, 0) as accounts_loaded,
        coalesce(d.accounts_denied, 0) as accounts_denied
    from months as m
    inner join expected as e on m.provider = e.provider and m.usage_month = e.usage_month
    left join loaded as l on m.provider = l.provider and m.usage_month = l.usage_month
    left join denied as d on m.provider = d.provider
)

select
    provider,
    usage_month,
    published_by,
    final_from,
    restatement_lookback_months,
    accounts_loaded > 0 as is_loaded,
    accounts_expected,
    accounts_loaded,
    accounts_denied,
    accounts_expected - accounts_loaded + accounts_denied as accounts_missing,
    case
        when accounts_loaded = 0 and {{ as_of_sql }} < published_by then 'not_yet_published'
        when accounts_loaded = 0 then 'missing'
        when {{ as_of_sql }} < final_from then 'restatable'
        else 'final'
    end as status
from timed
