{#- The Cost and Usage Report's daily rows, latest delivery per payer account and billing
    period only. Each delivery restates its whole period for its own report, and the raw table
    keeps every delivery read (the delivery id is part of its key); ranking per payer keeps
    every payer's data when several payers' reports load into one table. Delivery ids (assembly or execution ids) carry no order,
    so the latest is the one the tap read last: `_sdc_extracted_at`, which the loader adds
    (target-postgres and target-snowflake do by default, `add_record_metadata`). -#}
with deliveries as (
    select payer_account_id, billing_period, delivery_id, max(_sdc_extracted_at) as read_at
    from {{ source('aws', 'cur_usage_daily') }}
    group by payer_account_id, billing_period, delivery_id
),

ranked as (
    select
        payer_account_id,
        billing_period,
        delivery_id,
        read_at,
        row_number() over (
            partition by payer_account_id, billing_period
            order by read_at desc, delivery_id desc
        ) as recency
    from deliveries
)

select
    cast(c.usage_date as date) as usage_date,
    c.billing_period,
    c.delivery_id,
    r.read_at as delivery_read_at,
    c.cur_generation,
    c.payer_account_id,
    c.usage_account_id as account_id,
    c.region,
    c.product_code as service,
    c.usage_type,
    c.line_item_type,
    c.pricing_unit as usage_unit,
    c.instance_type,
    c.currency_code as currency,
    c.resource_tags_key,
    c.resource_tags,
    c.usage_amount,
    c.unblended_cost as cost,
    c.amortized_cost,
    c.net_unblended_cost,
    c.public_on_demand_cost,
    c.line_item_count,
    c.vcpu,
    c.memory,
    c.volume_type,
    c.storage_media
from {{ source('aws', 'cur_usage_daily') }} as c
inner join ranked as r
    on c.payer_account_id = r.payer_account_id
    and c.billing_period = r.billing_period
    and c.delivery_id = r.delivery_id
where r.recency = 1
