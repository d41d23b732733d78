{#- Google Cloud daily usage and cost; net cost = cost + credits (credits are negative). -#}
select
    cast(usage_date as date) as usage_date,
    billing_account_id,
    coalesce(project_id, project_number, '(no project)') as project,
    service_id,
    service_description as service,
    sku_id,
    sku_description,
    coalesce(region, location, 'global') as region,
    usage_unit,
    usage_amount,
    cost,
    credits_amount,
    cost + coalesce(credits_amount, 0) as net_cost,
    currency
from {{ source('gcp', 'billing_usage_daily') }}
