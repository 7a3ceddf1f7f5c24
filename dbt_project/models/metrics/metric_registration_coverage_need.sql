-- Persons with critical information registered at each month end in percent of the estimated need
-- (var estimated_need_share of the population), nationally, per region and per county they live
-- in: the coverage marts in the registry's shape.
select
    'registration_coverage_need' as metric_id,
    period_end,
    'month' as period,
    'national' as grain,
    cast(null as varchar) as health_region,
    cast(null as varchar) as county_code,
    'total' as dimension_name,
    'all' as dimension_value,
    cast(persons_with_critical_info as double) as numerator,
    cast(estimated_need as double) as denominator,
    cast(coverage_pct_need as double) as value
from {{ ref('coverage_national_month') }}
union all
select
    'registration_coverage_need', period_end, 'month', 'region', health_region, null, 'total', 'all',
    persons_with_critical_info, estimated_need, coverage_pct_need
from {{ ref('coverage_by_region_month') }}
union all
select
    'registration_coverage_need', period_end, 'month', 'county', health_region, county_code, 'total', 'all',
    persons_with_critical_info, estimated_need, coverage_pct_need
from {{ ref('coverage_by_county_month') }}
