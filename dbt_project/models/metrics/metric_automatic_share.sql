-- New and changed entries (created and updated events) in each month that arrived automatically
-- through the API, in percent of all of them; counted in the region of the registering
-- organisation, by organisation type and by type of critical information.
with facts as (
    select
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        critical_information_type,
        count(*) filter (where channel = 'api') as api_events,
        count(*) as events
    from {{ ref('stg_registration_events') }}
    where event_type in ('created', 'updated')
    group by all
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.api_events) as api_events,
        sum(facts.events) as events
    from {{ metric_cells_of('facts', ['national', 'region'], ['organisation_type', 'critical_information_type']) }}
    group by all
)

{{ metric_table(
    'automatic_share', 'cells', ['national', 'region'], ['organisation_type', 'critical_information_type'],
    numerator='coalesce(cells.api_events, 0)',
    denominator='coalesce(cells.events, 0)',
    value=percent('cells.api_events', 'cells.events'),
) }}
