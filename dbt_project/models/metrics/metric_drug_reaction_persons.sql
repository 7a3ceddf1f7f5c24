-- Persons with at least one active drug-reaction entry (type drug-reaction, legemiddelreaksjon) at
-- each month end, in the county and region they live in that day (a person lives in one county at
-- a time, so the counties add up).
with facts as (
    select period_end, health_region, county_code, persons
    from {{ ref('int_metric_month_end_drug_reaction_persons') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.persons) as persons
    from {{ metric_cells_of('facts', ['national', 'region', 'county']) }}
    group by all
)

{{ metric_table(
    'drug_reaction_persons', 'cells', ['national', 'region', 'county'], [],
    numerator='coalesce(cells.persons, 0)',
    denominator='null',
    value='coalesce(cells.persons, 0)',
) }}
