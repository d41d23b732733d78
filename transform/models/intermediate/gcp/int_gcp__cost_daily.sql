{#- Google daily cost at the common cost grain, after credits. -#}
select
    'gcp' as provider,
    usage_date,
    project as account_id,
    region,
    service,
    sum(net_cost) as cost,
    {#- The billing export has no amortized figure: commitments appear as credits. -#}
    cast(null as {{ dbt.type_numeric() }}) as amortized_cost,
    currency,
    'tap-gcp-carbon.billing_usage_daily' as source_stream
from {{ ref('stg_gcp__billing_usage_daily') }}
group by usage_date, project, region, service, currency
