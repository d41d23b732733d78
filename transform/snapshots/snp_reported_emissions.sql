{#- Restatement history of the provider-reported emissions: one row per version of each
    fct_cloud_emissions row (provider x month x account x billing account x region x service x
    scope x method). A new version is kept whenever the figure or the provider's model version
    changes, with when it was seen (dbt_valid_from) and the dbt invocation that saw it.
    SQL rather than YAML config: the invocation id is added as a column, and a snapshot key must
    have no NULL part (billing_account_id is null outside Google Cloud). -#}
{% snapshot snp_reported_emissions %}
{{ config(
    unique_key=['provider', 'usage_month', 'account_id', 'billing_account_key', 'region', 'service', 'scope', 'method'],
    strategy='check',
    check_cols=['emissions_kgco2e', 'model_version'],
) }}
select
    provider,
    usage_month,
    account_id,
    coalesce(billing_account_id, '') as billing_account_key,
    region,
    service,
    scope,
    method,
    emissions_kgco2e,
    model_version,
    source_stream,
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as seen_by_invocation_id
from {{ ref('fct_cloud_emissions') }}
{% endsnapshot %}
