-- Persons with critical information registered at each month end, per county of their latest
-- known home municipality that day, against the population and the estimated need.
with registered as (
    select
        month_ends.period_end,
        states.county_code,
        count(*) as persons
    from {{ ref('int_month_ends') }} as month_ends
    inner join {{ ref('int_person_states') }} as states
        on
            month_ends.period_end >= states.valid_from
            and (states.valid_to is null or month_ends.period_end < states.valid_to)
    where states.has_critical_information
    group by all
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
