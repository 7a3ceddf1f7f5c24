-- New persons per complete month and regional health authority: persons whose first day with
-- critical information registered (at least one active entry) falls in the month, counted in the
-- region of the county they lived in that day; with the region's population. The outcome of the
-- rollout-effect estimate (pipelines/evaluation/effect.py).
{{ config(**incremental_by_period()) }}

with first_registered as (
    select
        county_code,
        cast(date_trunc('month', valid_from) as date) as first_month
    from {{ ref('int_person_states') }}
    where has_critical_information
    qualify row_number() over (partition by patient_pseudonym order by valid_from) = 1
),

counted as (
    select
        populations.period_end,
        populations.health_region,
        count(first_registered.county_code) as persons
    from {{ ref('int_county_populations') }} as populations
    left join first_registered
        on
            populations.county_code = first_registered.county_code
            and first_registered.first_month = cast(date_trunc('month', populations.period_end) as date)
    where {{ in_changed_periods('populations.period_end') }}
    group by all
),

populations as (
    select
        period_end,
        health_region,
        sum(population) as population
    from {{ ref('int_county_populations') }}
    where {{ in_changed_periods('period_end') }}
    group by all
)

select
    populations.period_end,
    populations.health_region,
    cast(counted.persons as bigint) as new_persons,
    cast(populations.population as bigint) as population,
    100000.0 * counted.persons / populations.population as new_persons_per_100k
from populations
inner join counted
    on
        populations.period_end = counted.period_end
        and populations.health_region = counted.health_region
