{#- Azure daily cost in the billing currency Azure reports. -#}
select
    cast(usage_date as date) as usage_date,
    scope as cost_scope,
    resource_location,
    service_name,
    cost,
    currency,
    cost_type
from {{ source('azure', 'cost_daily') }}
