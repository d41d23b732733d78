{#- The providers' reported figures per month x account x region x service x scope, on the
    location-based basis (location_based rows, and as_reported where the provider does not
    split), with the service category and region group of the calibration. -#}
select
    e.provider,
    e.usage_month,
    e.account_id,
    e.region,
    e.service,
    coalesce(s.category, 'other') as service_category,
    coalesce(r.geography, 'Unknown') as region_group,
    e.scope,
    sum(e.emissions_kgco2e) as reported_kgco2e
from {{ ref('fct_cloud_emissions') }} as e
left join {{ ref('dim_cloud_service') }} as s on e.provider = s.provider and e.service = s.service
left join {{ ref('dim_cloud_region') }} as r
    on e.provider = r.provider
    and lower(replace(e.region, ' ', '')) = lower(replace(r.region, ' ', ''))
where e.method in ('location_based', 'as_reported')
group by e.provider, e.usage_month, e.account_id, e.region, e.service, s.category, r.geography, e.scope
