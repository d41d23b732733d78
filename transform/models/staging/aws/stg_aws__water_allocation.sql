{#- Yearly water withdrawals per account x region x service, as AWS reports them (m3). -#}
select
    cast(usage_period_start as date) as usage_year_start,
    usage_account_id as account_id,
    region,
    service,
    model_version,
    total_water_withdrawals_m3 as water_withdrawals_m3
from {{ source('aws', 'water_allocation') }}
