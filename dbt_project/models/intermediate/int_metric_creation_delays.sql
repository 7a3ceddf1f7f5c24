-- Each created event whose resource has a recordedDate: the delay in hours from when the entry was
-- recorded in the source EPJ (recordedDate) to when the core record stored it (occurred_at), with
-- the month, channel and region of the registering organisation.
select
    event_id,
    cast(last_day(occurred_on) as date) as period_end,
    organisation_health_region as health_region,
    channel,
    (epoch(occurred_at) - epoch(recorded_at)) / 3600.0 as delay_hours
from {{ ref('stg_registration_events') }}
where event_type = 'created' and recorded_at is not null
