-- Of the new entries in each month (int_entry_creations), the share corrected: an event later than
-- the creating event in entry order leaves the entry not active (inactivated or entered in error,
-- by event type or by a status; docs/definitions.md), as known from all events loaded; by channel
-- and region of the registering organisation and by type of critical information.
with corrected_entries as (
    select distinct creations.entry_id
    from {{ ref('int_entry_creations') }} as creations
    inner join {{ ref('stg_registration_events') }} as events
        on events.entry_id = creations.entry_id
        and {{ entry_order_key('events') }} > creations.order_key
    where not {{ leaves_entry_active('events') }}
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
