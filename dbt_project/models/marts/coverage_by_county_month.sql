-- Persons with critical information registered at each month end, per county of their latest
-- known home municipality that day, against the population and the estimated need.
-- Counted from the changes at each month end (count_at_month_ends), not by joining every month end
-- to every state: the cost grows with the states, not with states times months.
{{ config(**incremental_by_period()) }}

with registered as (
    {{ count_at_month_ends(
        '(select county_code, valid_from, valid_to from ' ~ ref('int_person_states')
        ~ ' where has_critical_information)',
        ['county_code'],
        counted='persons',
    ) }}
)

select
    populations.period_end,
    populations.county_code,
    populations.county_name,
    populations.health_region,
    regions.name as health_region_name,
    coalesce(registered.persons, 0) as persons_with_critical_info,
    populations.population,
    cast(populations.population * {{ var('estimated_need_share') }} as double) as estimated_need,
    100.0 * coalesce(registered.persons, 0) / populations.population as coverage_pct_population,
    100.0
    * coalesce(registered.persons, 0)
    / (populations.population * {{ var('estimated_need_share') }}) as coverage_pct_need
from {{ ref('int_county_populations') }} as populations
inner join {{ ref('health_regions') }} as regions on populations.health_region = regions.health_region
left join registered
    on
        populations.period_end = registered.period_end
        and populations.county_code = registered.county_code
where {{ in_changed_periods('populations.period_end') }}
