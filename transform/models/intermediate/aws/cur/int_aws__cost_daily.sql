{#- AWS daily cost at the common cost grain (day x account x region x service x currency), from
    the latest CUR delivery. Unblended cost over every line item type, so credits, refunds and
    tax count as on the bill; usage AWS reports without a region is `Global`, as in the
    Sustainability API. Amortized cost beside it spreads Savings Plan and Reserved Instance
    commitments over the usage they cover. -#}
select
    'aws' as provider,
    usage_date,
    account_id,
    coalesce(nullif(region, ''), 'Global') as region,
    service,
    sum(cost) as cost,
    {#- Null when any row lacks it: a partial sum would pass for the whole. -#}
    case when count(amortized_cost) = count(*) then sum(amortized_cost) end as amortized_cost,
    currency,
    'tap-aws-carbon.cur_usage_daily' as source_stream
from {{ ref('stg_aws__cur_usage_daily') }}
group by usage_date, account_id, coalesce(nullif(region, ''), 'Global'), service, currency
