-- Of the entries created in each month (int_entry_creations), the share that was later marked
-- entered-in-error (event type, verification status or status entered-in-error) or inactivated
-- (event type inactivated), as known from all events loaded; by channel and region of the
-- registering organisation and by type of critical information.
with corrected_entries as (
    select distinct entry_id
    from {{ ref('stg_registration_events') }}
    where event_type in ('entered-in-error', 'inactivated')
        or verification_status = 'entered-in-error'
        or resource_status = 'entered-in-error'
),

facts as (
    select
        cast(last_day(creations.created_on) as date) as period_end,
        creations.health_region,
        creations.channel,
        creations.critical_information_type,
        count(corrected_entries.entry_id) as corrected_entries,
        count(*) as entries
    from {{ ref('int_entry_creations') }} as creations
    left join corrected_entries on corrected_entries.entry_id = creations.entry_id
    group by all
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.corrected_entries) as corrected_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', ['national', 'region'], ['channel', 'critical_information_type']) }}
    group by all
)

{{ metric_table(
    'corrections_share', 'cells', ['national', 'region'], ['channel', 'critical_information_type'],
    numerator='coalesce(cells.corrected_entries, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.corrected_entries', 'cells.entries'),
) }}
