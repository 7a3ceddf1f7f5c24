-- Each entry's state at the end of every day on which it changed, valid until its next change:
-- that of the entry's last event of the day in entry order (docs/definitions.md). Rebuilt per
-- touched entry (macros/touched_keys.sql).
{{ config(**incremental_by('entry_id')) }}

with deciding_events as (
    select
        entry_id,
        occurred_on,
        arg_max(
            struct_pack(
                patient_pseudonym, critical_information_type, event_type, clinical_status, verification_status,
                is_active := {{ leaves_entry_active() }}
            ),
            {{ entry_order_key() }}
        ) as state
    from {{ ref('stg_registration_events') }}
    where {{ only_touched('entry_id') }}
    group by entry_id, occurred_on
)

select
    deciding_events.entry_id,
    state.patient_pseudonym,
    state.critical_information_type,
    state.event_type as last_event_type,
    state.clinical_status,
    state.verification_status,
    state.is_active,
    deciding_events.occurred_on as valid_from,
    lead(deciding_events.occurred_on)
        over (partition by deciding_events.entry_id order by deciding_events.occurred_on)
        as valid_to,
    current_timestamp as built_at
from deciding_events
