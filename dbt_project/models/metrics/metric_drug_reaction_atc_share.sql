-- Of the drug-reaction entries active at each month end, the share whose substance is coded with
-- ATC (http://www.whocc.no/atc); in the county and region the person lives in that day.
with facts as (
    select period_end, health_region, county_code, has_atc_code, entries
    from {{ ref('int_metric_month_end_entries') }}
    where critical_information_type = 'drug-reaction'
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        coalesce(sum(facts.entries) filter (where facts.has_atc_code), 0) as atc_coded_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', ['national', 'region', 'county']) }}
    group by all
)

{{ metric_table(
    'drug_reaction_atc_share', 'cells', ['national', 'region', 'county'], [],
    numerator='coalesce(cells.atc_coded_entries, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.atc_coded_entries', 'cells.entries'),
) }}
