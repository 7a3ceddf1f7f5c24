-- The mandate's budget for each calendar year (seed mandate_budget, MNOK in 2024 kroner) per
-- person newly registered in that year (the day they first have an active entry falls in it), in
-- NOK per person. A year not yet fully reported counts its reported months: the budget pro rata
-- (spent evenly over the year) and the persons new in those months.
{{ config(**incremental_by_period(period='year')) }}
{%- set metric = declare_metric({
    'name_nb': 'Kostnad per nyregistrert person',
    'definition':
        'Planlagt økonomisk ramme for året (mandatets tabell 1, i 2024-kroner) delt på antall '
        'personer som fikk kritisk informasjon registrert for første gang det året. For et år som '
        'ikke er ferdig rapportert: rammen for de rapporterte månedene (jevnt fordelt over året) '
        'delt på personene som var nye i dem.',
    'numerator':
        'Årets ramme i kroner (mandatets tabell 1), for et påbegynt år de rapporterte månedenes '
        'andel',
    'denominator': 'Personer registrert for første gang i året',
    'unit': 'kroner per person',
    'kind': 'ratio',
    'up_is_good': false,
    'grains': ['national'],
    'dimensions': [],
    'additivity': [],
    'mandate':
        'Det skal legges vekt på avvik og vurdering av forholdet mellom ressursbruk og status for '
        'måloppnåelse.',
}) %}
with reported_months as (
    select
        year(period_end) as year,
        count(*) as months,
        max(period_end) as last_period_end
    from {{ ref('int_month_ends') }}
    group by all
),

first_registered as (
    select
        patient_pseudonym,
        min(valid_from) as registered_on
    from {{ ref('int_person_states') }}
    where has_critical_information
    group by patient_pseudonym
),

new_persons as (
    select
        reported_months.year,
        count(*) as persons
    from first_registered
    inner join reported_months
        on
            reported_months.year = year(first_registered.registered_on)
            and first_registered.registered_on <= reported_months.last_period_end
    group by all
)

select
    '{{ metric.id }}' as metric_id,
    'year' as period,
    'national' as grain,
    cast(null as varchar) as health_region,
    cast(null as varchar) as county_code,
    'total' as dimension_name,
    'all' as dimension_value,
    cast(coalesce(new_persons.persons, 0) as double) as denominator,
    make_date(budget.year, 12, 31) as period_end,
    budget.budget_mnok * 1000000.0 * reported_months.months / 12 as numerator,
    budget.budget_mnok * 1000000.0 * reported_months.months / 12 / nullif(new_persons.persons, 0) as value
from {{ ref('mandate_budget') }} as budget
inner join reported_months on budget.year = reported_months.year
left join new_persons on budget.year = new_persons.year
where {{ in_changed_periods('make_date(budget.year, 12, 31)', 'year') }}
