-- EPJ systems (source.system; the core record's own portal is not one) that sent at least one
-- event through the API in each month, in the region of the sending organisation, by organisation
-- type. A system used in several regions counts once nationally: regions do not add up.
with facts as (
    select distinct
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        source_system
    from {{ ref('stg_registration_events') }}
    where channel = 'api' and source_system <> 'kjernejournal-portal'
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        count(distinct source_system) as api_systems
    from {{ metric_cells_of('facts', ['national', 'region'], ['organisation_type']) }}
    group by all
)

{{ metric_table(
    'api_systems', 'cells', ['national', 'region'], ['organisation_type'],
    numerator='coalesce(cells.api_systems, 0)',
    denominator='null',
    value='coalesce(cells.api_systems, 0)',
) }}
