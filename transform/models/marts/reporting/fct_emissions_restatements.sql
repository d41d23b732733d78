{#- Every change to an already-loaded figure: each version of a key in snp_reported_emissions
    after its first, beside the version it replaced. A month loaded for the first time is not a
    restatement; a figure whose value or provider model version changed is one row here per
    change, with the run that saw it. -#}
with versions as (
    select
        provider,
        usage_month,
        account_id,
        billing_account_key,
        region,
        service,
        scope,
        method,
        emissions_kgco2e,
        model_version,
        dbt_valid_from,
        seen_by_invocation_id,
        lag(emissions_kgco2e) over (
            partition by provider, usage_month, account_id, billing_account_key, region, service, scope, method
            order by dbt_valid_from
        ) as old_kgco2e,
        lag(model_version) over (
            partition by provider, usage_month, account_id, billing_account_key, region, service, scope, method
            order by dbt_valid_from
        ) as old_model_version,
        lag(dbt_valid_from) over (
            partition by provider, usage_month, account_id, billing_account_key, region, service, scope, method
            order by dbt_valid_from
        ) as old_seen_at,
        row_number() over (
            partition by provider, usage_month, account_id, billing_account_key, region, service, scope, method
            order by dbt_valid_from
        ) as version_number
    from {{ ref('snp_reported_emissions') }}
)

select
    provider,
    usage_month,
    account_id,
    nullif(billing_account_key, '') as billing_account_id,
    region,
    service,
    scope,
    method,
    old_kgco2e,
    emissions_kgco2e as new_kgco2e,
    emissions_kgco2e - old_kgco2e as change_kgco2e,
    old_model_version,
    model_version as new_model_version,
    old_seen_at,
    dbt_valid_from as restated_at,
    seen_by_invocation_id as restated_by_invocation_id,
    version_number
from versions
where version_number > 1
