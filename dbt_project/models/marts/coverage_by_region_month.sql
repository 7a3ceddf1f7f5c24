-- Persons with critical information registered at each month end, per regional health authority
-- of their latest known home municipality that day (the sum of its counties).
{{ config(**incremental_by_period()) }}
select
    period_end,
    health_region,
    health_region_name,
    cast(sum(persons_with_critical_info) as bigint) as persons_with_critical_info,
    cast(sum(population) as bigint) as population,
    cast(sum(population) * {{ var('estimated_need_share') }} as double) as estimated_need,
    100.0 * sum(persons_with_critical_info) / sum(population) as coverage_pct_population,
    100.0 * sum(persons_with_critical_info) / (sum(population) * {{ var('estimated_need_share') }}) as coverage_pct_need
from {{ ref('coverage_by_county_month') }}
where {{ in_changed_periods('period_end') }}
group by period_end, health_region, health_region_name
