{#- Every AWS model version delivered for each month (the export keeps them; the API does not),
    with a flag for the latest one so restated months can be compared. -#}
with versions as (
    select
        *,
        dense_rank() over (
            partition by usage_month order by {{ model_version_order('model_version') }}
        ) as version_rank
    from {{ ref('stg_aws__carbon_emissions_export') }}
)
select
    usage_month,
    model_version,
    account_id,
    region,
    service,
    total_location_based_kgco2e,
    total_market_based_kgco2e,
    version_rank = 1 as is_latest_model_version
from versions
