{#- Reported and provisional emissions in one table, summable once: every reported row on the
    location-based basis (location_based, and as_reported where the provider does not split;
    summed over billing accounts),
    plus provisional estimate rows (fct_cloud_emissions_estimated) for (1) each provider-month
    with no reported figure yet (the provider has not published it, by its own calendar in
    publication_status, or the month is still running), and (2) Azure subscriptions the Carbon
    API denies (azure_subscription_access), in months where they have no reported figure. Once
    the reported month loads, its provisional rows drop out on the next build: no month is
    counted twice. -#}
with reported as (
    select
        provider, usage_month, account_id, region, service, scope, method,
        sum(emissions_kgco2e) as emissions_kgco2e
    from {{ ref('fct_cloud_emissions') }}
    where method in ('location_based', 'as_reported')
    group by provider, usage_month, account_id, region, service, scope, method
),

reported_months as (
    select distinct provider, usage_month from reported
),

reported_accounts as (
    select distinct provider, usage_month, account_id from reported
),

denied as (
{%- if 'azure' in enabled_providers() %}
    select 'azure' as provider, subscription_id as account_id
    from {{ ref('azure_subscription_access') }}
    where not is_allowed
{%- else %}
    select cast(null as {{ dbt.type_string() }}) as provider, cast(null as {{ dbt.type_string() }}) as account_id
    where 1 = 0
{%- endif %}
),

status as (
    select provider, usage_month, status from {{ ref('publication_status') }}
),

estimated as (
    select * from {{ ref('fct_cloud_emissions_estimated') }}
),

provisional as (
    select
        e.provider, e.usage_month, e.account_id, e.region, e.service, e.scope,
        e.method, e.emissions_kgco2e,
        case
            when m.provider is null then coalesce(s.status, 'month_in_progress')
            else 'subscription_denied'
        end as provisional_reason
    from estimated as e
    left join reported_months as m on e.provider = m.provider and e.usage_month = m.usage_month
    left join reported_accounts as a
        on e.provider = a.provider and e.usage_month = a.usage_month and e.account_id = a.account_id
    left join denied as d on e.provider = d.provider and e.account_id = d.account_id
    left join status as s on e.provider = s.provider and e.usage_month = s.usage_month
    where m.provider is null
        or (d.account_id is not null and a.account_id is null)
)

select
    provider, cast(usage_month as date) as usage_month, account_id, region, service, scope, method,
    emissions_kgco2e, false as is_provisional, cast(null as {{ dbt.type_string() }}) as provisional_reason
from reported
union all
select
    provider, cast(usage_month as date) as usage_month, account_id, region, service, scope, method,
    emissions_kgco2e, true as is_provisional, provisional_reason
from provisional
