-- Of the organisations that registered anything (any event) in each month, the share that sent
-- at least one event through the API; an organisation counts in every region and organisation type
-- it sent under (with what it sent under that region and type), once nationally and in the total.
with facts as (
    -- one row per organisation and month: whether it sent anything through the API
    select
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        organisation_id,
        bool_or(channel = 'api') as sent_through_api
    from {{ ref('stg_registration_events') }}
    group by all
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        count(distinct organisation_id) filter (where sent_through_api) as api_organisations,
        count(distinct organisation_id) as organisations
    from {{ metric_cells_of('facts', ['national', 'region'], ['organisation_type']) }}
    group by all
)

{{ metric_table(
    'api_organisation_share', 'cells', ['national', 'region'], ['organisation_type'],
    numerator='coalesce(cells.api_organisations, 0)',
    denominator='coalesce(cells.organisations, 0)',
    value=percent('cells.api_organisations', 'cells.organisations'),
) }}
