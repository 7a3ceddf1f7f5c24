-- Persons with at least one active drug-reaction entry (type drug-reaction, legemiddelreaksjon) at
-- each month end, in the county and region they live in that day (a person lives in one county at
-- a time, so the counties add up).
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Personer med registrert legemiddelreaksjon',
    'definition':
        'Antall personer med minst én aktiv oppføring av typen legemiddelreaksjon ved utgangen av '
        'siste dag i måneden, talt i fylket de bor i den dagen.',
    'numerator': 'Personer med minst én aktiv legemiddelreaksjon ved månedsslutt',
    'denominator': '',
    'unit': 'personer',
    'kind': 'count',
    'up_is_good': true,
    'grains': ['national', 'region', 'county'],
    'dimensions': [],
    'additivity': ['counties_to_region', 'regions_to_nation'],
    'mandate':
        'Dette skal bidra til at flere innbyggere får registrert kritisk informasjonen i '
        'kjernejournal og dermed redusere risiko for feilbehandling, som for eksempel alvorlige '
        'legemiddelreaksjoner.',
}) %}
with facts as (
    select
        period_end,
        health_region,
        county_code,
        persons
    from {{ ref('int_metric_month_end_drug_reaction_persons') }}
    where {{ in_changed_periods('period_end') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.persons) as persons
    from {{ metric_cells_of('facts', metric) }}
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.persons, 0)',
    denominator='null',
    value='coalesce(cells.persons, 0)',
) }}
