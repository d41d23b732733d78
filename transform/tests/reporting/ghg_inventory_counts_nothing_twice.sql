{#- Every inventory row's totals against the long mart summed afresh over the row's period,
    provider and account, per method: location_based or as_reported rows for the
    location-based total, market_based or as_reported for the market-based one. Also checks that
    each total is its scope columns added once. Fails with every row that differs. -#}
with recomputed as (
    select
        i.period_kind,
        i.period_start,
        i.provider,
        i.account_id,
        sum(case when e.method in ('location_based', 'as_reported') then e.emissions_kgco2e end) as location_based,
        sum(case when e.method in ('market_based', 'as_reported') then e.emissions_kgco2e end) as market_based
    from {{ ref('fct_ghg_inventory') }} as i
    inner join {{ ref('fct_cloud_emissions') }} as e
        on e.provider = i.provider
        and e.account_id = i.account_id
        and e.usage_month between i.period_start and i.period_end
    group by i.period_kind, i.period_start, i.provider, i.account_id
)

select i.period_kind, i.period_start, i.provider, i.account_id,
    i.total_location_based_kgco2e, r.location_based,
    i.total_market_based_kgco2e, r.market_based
from {{ ref('fct_ghg_inventory') }} as i
left join recomputed as r
    on i.period_kind = r.period_kind and i.period_start = r.period_start
    and i.provider = r.provider and i.account_id = r.account_id
where r.location_based is null
    or abs(i.total_location_based_kgco2e - r.location_based) > 1e-6
    or abs(i.total_market_based_kgco2e - r.market_based) > 1e-6
    or abs(i.total_location_based_kgco2e - (
        coalesce(i.scope_1_kgco2e, 0)
        + coalesce(i.scope_2_location_based_kgco2e, i.scope_2_unsplit_kgco2e, 0)
        + coalesce(i.scope_3_location_based_kgco2e, i.scope_3_unsplit_kgco2e, 0))) > 1e-6
    or abs(i.total_market_based_kgco2e - (
        coalesce(i.scope_1_kgco2e, 0)
        + coalesce(i.scope_2_market_based_kgco2e, i.scope_2_unsplit_kgco2e, 0)
        + coalesce(i.scope_3_market_based_kgco2e, i.scope_3_unsplit_kgco2e, 0))) > 1e-6
