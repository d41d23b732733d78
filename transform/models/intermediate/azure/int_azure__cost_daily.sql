{#- Azure daily cost at the common cost grain; the subscription comes from the queried scope. -#}
select
    'azure' as provider,
    usage_date,
    case
        when cost_scope like 'subscriptions/%'
            then {{ dbt.split_part('cost_scope', "'/'", 2) }}
        else cost_scope
    end as account_id,
    lower(resource_location) as region,
    service_name as service,
    sum(cost) as cost,
    {#- Amortized only where the cost stream queried it (cost_type AmortizedCost). -#}
    sum(case when cost_type = 'AmortizedCost' then cost end) as amortized_cost,
    currency,
    'tap-azure-emissions.cost_daily' as source_stream
from {{ ref('stg_azure__cost_daily') }}
group by usage_date, cost_scope, lower(resource_location), service_name, currency
