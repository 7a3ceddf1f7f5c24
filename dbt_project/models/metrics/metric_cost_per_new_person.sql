-- The mandate's budget for each calendar year (seed mandate_budget, MNOK in 2024 kroner) per
-- person newly registered in that year (the day they first have an active entry falls in it), in
-- NOK per person. Only years whose twelve months are all reported.
with first_registered as (
    select patient_pseudonym, min(valid_from) as registered_on
    from {{ ref('int_person_states') }}
    where has_critical_information
    group by patient_pseudonym
),

new_persons as (
    select year(registered_on) as year, count(*) as persons
    from first_registered
    group by all
),

reported_years as (
    select year(period_end) as year
    from {{ ref('int_month_ends') }}
    group by all
    having count(*) = 12
)

select
    'cost_per_new_person' as metric_id,
    make_date(budget.year, 12, 31) as period_end,
    'year' as period,
    'national' as grain,
    cast(null as varchar) as health_region,
    cast(null as varchar) as county_code,
    'total' as dimension_name,
    'all' as dimension_value,
    budget.budget_mnok * 1000000.0 as numerator,
    cast(coalesce(new_persons.persons, 0) as double) as denominator,
    budget.budget_mnok * 1000000.0 / nullif(new_persons.persons, 0) as value
from {{ ref('mandate_budget') }} as budget
inner join reported_years on reported_years.year = budget.year
left join new_persons on new_persons.year = budget.year
