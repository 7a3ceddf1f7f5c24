-- Fails with each entry state whose content in int_metric_entry_versions comes from an event whose
-- type or statuses differ from the state int_entry_states took (both pick the entry's latest
-- event of the day; this keeps their orderings the same), and with each state missing from it.
-- (It reads only these two models: a test on staging would run with the event-day build.)
-- Only the entries the latest builds of the two models rebuilt (macros/touched_keys.sql): the
-- others have not changed since they were checked.
with rebuilt as (
    select rebuilt.entry_id from {{ ref('int_entry_states') }} as rebuilt
    where {{ of_latest_build(ref('int_entry_states'), 'rebuilt') }}
    union
    select rebuilt.entry_id from {{ ref('int_metric_entry_versions') }} as rebuilt
    where {{ of_latest_build(ref('int_metric_entry_versions'), 'rebuilt') }}
),

states as (
    select * from {{ ref('int_entry_states') }}
    where entry_id in (select rebuilt.entry_id from rebuilt)
),

versions as (
    select * from {{ ref('int_metric_entry_versions') }}
    where entry_id in (select rebuilt.entry_id from rebuilt)
)

select
    states.entry_id,
    states.valid_from
from states
left join versions
    on
        states.entry_id = versions.entry_id
        and states.valid_from = versions.valid_from
where
    versions.entry_id is null
    or versions.event_type <> states.last_event_type
    or versions.clinical_status is distinct from states.clinical_status
    or versions.verification_status is distinct from states.verification_status
