-- Organisations that sent at least one event through the API in each month, in the region of the
-- organisation, by organisation type.
with facts as (
    select distinct
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        organisation_id
    from {{ ref('stg_registration_events') }}
    where channel = 'api'
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        count(distinct organisation_id) as api_organisations
    from {{ metric_cells_of('facts', ['national', 'region'], ['organisation_type']) }}
    group by all
)

{{ metric_table(
    'api_organisations', 'cells', ['national', 'region'], ['organisation_type'],
    numerator='coalesce(cells.api_organisations, 0)',
    denominator='null',
    value='coalesce(cells.api_organisations, 0)',
) }}
