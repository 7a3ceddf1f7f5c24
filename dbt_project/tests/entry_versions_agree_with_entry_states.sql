-- Fails with each entry state whose content in int_metric_entry_versions comes from an event whose
-- type or statuses differ from the state int_entry_states took (both pick the entry's latest
-- event of the day; this keeps their orderings the same), and with each state missing from it.
select states.entry_id, states.valid_from
from {{ ref('int_entry_states') }} as states
left join {{ ref('int_metric_entry_versions') }} as versions
    on versions.entry_id = states.entry_id
    and versions.valid_from = states.valid_from
left join {{ ref('stg_registration_events') }} as events on events.event_id = versions.event_id
where events.event_id is null
    or events.event_type <> states.last_event_type
    or events.clinical_status is distinct from states.clinical_status
    or events.verification_status is distinct from states.verification_status
