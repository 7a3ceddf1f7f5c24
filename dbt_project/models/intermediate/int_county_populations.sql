-- The population of each county at each reported month end: the latest population_date not after
-- the month end, or the earliest available for month ends before it.
with dated as (
    select
        month_ends.period_end,
        counties.county_code,
        counties.county_name,
        counties.health_region,
        counties.population,
        counties.population_date,
        row_number() over (
            partition by month_ends.period_end, counties.county_code
            order by
                (counties.population_date <= month_ends.period_end) desc,
                case when counties.population_date <= month_ends.period_end then counties.population_date end desc,
                counties.population_date asc
        ) as preference
    from {{ ref('int_month_ends') }} as month_ends
    cross join {{ ref('counties') }} as counties
)

select
    period_end,
    county_code,
    county_name,
    health_region,
    population,
    population_date
from dated
where preference = 1
