{#- Google daily cost at the common cost grain, after credits. -#}
select
    'gcp' as provider,
    usage_date,
    project as account_id,
    region,
    service,
    sum(net_cost) as cost,
    currency,
    'tap-gcp-carbon.billing_usage_daily' as source_stream
from {{ ref('stg_gcp__billing_usage_daily') }}
group by usage_date, project, region, service, currency
