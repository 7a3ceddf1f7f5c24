-- Of the drug-reaction entries active at each month end, the share whose substance is coded with
-- ATC (http://www.whocc.no/atc); in the county and region the person lives in that day.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel legemiddelreaksjoner kodet med ATC',
    'definition':
        'Av de aktive oppføringene av typen legemiddelreaksjon ved månedsslutt, andelen der '
        'legemiddelet er kodet med ATC (http://www.whocc.no/atc).',
    'numerator': 'Aktive legemiddelreaksjoner med ATC-kode ved månedsslutt',
    'denominator': 'Aktive legemiddelreaksjoner ved månedsslutt',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'grains': ['national', 'region', 'county'],
    'dimensions': [],
    'additivity': ['counties_to_region', 'regions_to_nation'],
    'mandate':
        'utarbeide en anbefaling om nasjonal håndtering av kritiske legemiddelreaksjoner, herunder '
        'en kilde til denne informasjonen',
}) %}
with facts as (
    select
        period_end,
        health_region,
        county_code,
        has_atc_code,
        entries
    from {{ ref('int_metric_month_end_entries') }}
    where critical_information_type = 'drug-reaction' and {{ in_changed_periods('period_end') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        coalesce(sum(facts.entries) filter (where facts.has_atc_code), 0) as atc_coded_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', metric) }}
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.atc_coded_entries, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.atc_coded_entries', 'cells.entries'),
) }}
