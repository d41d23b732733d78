{#- Reported against estimated per provider x month x service: the provider's location-based
    (or as-reported) total beside the estimate of all scopes, their ratio, the reported kgCO2e
    per currency unit of spend, and a flag where they differ by more than
    `estimate_difference_factor` (var, default 2: the reference's tolerance for flagging; the
    methods can differ by 0.1x-10x per service). `currency` and the per-unit figure are null
    where the service's spend is in several currencies. -#}
{%- set factor = var('estimate_difference_factor', env_var('CARBON_ESTIMATE_DIFFERENCE_FACTOR', '2')) | float -%}
with reported as (
    select provider, usage_month, service, sum(reported_kgco2e) as reported_kgco2e
    from {{ ref('int_estimate__reported_monthly') }}
    group by provider, usage_month, service
),

estimated as (
    select
        provider, usage_month, service,
        sum(emissions_kgco2e) as estimated_kgco2e,
        case when count(distinct method) > 1 then 'mixed' else max(method) end as estimate_method
    from {{ ref('fct_cloud_emissions_estimated') }}
    group by provider, usage_month, service
),

spend as (
    select
        provider, usage_month, reported_service as service,
        sum(spend) as spend,
        case when count(distinct currency) = 1 then max(currency) end as currency
    from {{ ref('int_estimate__spend_monthly') }}
    group by provider, usage_month, reported_service
),

joined as (
    select
        coalesce(r.provider, e.provider) as provider,
        coalesce(r.usage_month, e.usage_month) as usage_month,
        coalesce(r.service, e.service) as service,
        r.reported_kgco2e,
        e.estimated_kgco2e,
        e.estimate_method
    from reported as r
    full outer join estimated as e
        on r.provider = e.provider and r.usage_month = e.usage_month and r.service = e.service
)

select
    j.provider,
    cast(j.usage_month as date) as usage_month,
    j.service,
    j.reported_kgco2e,
    j.estimated_kgco2e,
    j.estimate_method,
    case when j.reported_kgco2e > 0 then j.estimated_kgco2e / j.reported_kgco2e end as ratio,
    s.spend,
    s.currency,
    case when s.currency is not null and s.spend > 0 then j.reported_kgco2e / s.spend end as kgco2e_per_currency_unit,
    coalesce(
        j.reported_kgco2e > 0 and j.estimated_kgco2e is not null
        and (j.estimated_kgco2e > {{ factor }} * j.reported_kgco2e or j.estimated_kgco2e * {{ factor }} < j.reported_kgco2e),
        false
    ) as differs_beyond_factor
from joined as j
left join spend as s
    on j.provider = s.provider and j.usage_month = s.usage_month and j.service = s.service
