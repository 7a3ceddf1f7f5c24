-- Each new entry (int_entry_creations) whose creating event's resource has a recordedDate of at
-- least a whole day: the delay in hours from when the entry was recorded in the source EPJ to when
-- the core record stored it, with the month, channel and region of the registering organisation.
-- Rebuilt per touched entry (macros/touched_keys.sql).
{{ config(**incremental_by('entry_id')) }}

select
    entry_id,
    cast(last_day(created_on) as date) as period_end,
    health_region,
    channel,
    (epoch(occurred_at) - epoch(recorded_at)) / 3600.0 as delay_hours,
    current_timestamp as built_at
from {{ ref('int_entry_creations') }}
where recorded_at is not null and {{ only_touched('entry_id') }}
