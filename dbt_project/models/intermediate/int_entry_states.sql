-- Each entry's state at the end of every day on which it changed, valid until its next change.
-- The state after a day is that of its latest event (by occurred_at, then meta.versionId; event_id
-- only breaks exact ties so the result is the same on every run).
with ranked as (
    select
        entry_id,
        patient_pseudonym,
        critical_information_type,
        occurred_on,
        event_type,
        clinical_status,
        verification_status,
        row_number() over (
            partition by entry_id, occurred_on
            order by occurred_at desc, resource_version_number desc nulls last, resource_version desc, event_id desc
        ) as rank_in_day
    from {{ ref('stg_registration_events') }}
)

select
    entry_id,
    patient_pseudonym,
    critical_information_type,
    event_type as last_event_type,
    clinical_status,
    verification_status,
    -- Active (contract v1): latest event created/updated, clinical status (where present) active,
    -- verification status (where present) neither entered-in-error nor refuted.
    event_type in ('created', 'updated')
        and coalesce(clinical_status, 'active') = 'active'
        and coalesce(verification_status, '') not in ('entered-in-error', 'refuted') as is_active,
    occurred_on as valid_from,
    lead(occurred_on) over (partition by entry_id order by occurred_on) as valid_to
from ranked
where rank_in_day = 1
