-- Each state of an entry (int_entry_states) with the content of the version that set it: the
-- entry's latest event of that day, picked in the same order as int_entry_states (the singular
-- test entry_versions_agree_with_entry_states checks that both pick the same event). Rebuilt per
-- touched entry (macros/touched_keys.sql).
{{ config(**incremental_by('entry_id')) }}

with events as (
    select *
    from {{ ref('stg_registration_events') }}
    where {{ only_touched('entry_id') }}
),

deciding_events as (
    -- The entry's last event of each day in entry order, as int_entry_states picks it.
    select
        entry_id,
        occurred_on,
        arg_max(event_id, {{ entry_order_key() }}) as event_id
    from events
    group by entry_id, occurred_on
)

select
    states.entry_id,
    events.event_id,
    states.patient_pseudonym,
    states.critical_information_type,
    events.resource_type,
    events.event_type,
    states.is_active,
    states.valid_from,
    states.valid_to,
    events.clinical_status,
    events.verification_status,
    events.criticality,
    coalesce(codes.has_coded_code, false) as has_coded_code,
    coalesce(codes.has_atc_code, false) as has_atc_code,
    -- Complete for the International Patient Summary: AllergyIntolerance (IPS section Allergies and
    -- intolerances) needs a coded substance, clinical status, verification status and criticality;
    -- Condition (Problems) a coded condition, clinical status and verification status. The other
    -- resource types carry their content as text and have no clinical or verification status in
    -- FHIR R4: they are outside the measure (null).
    case events.resource_type
        when 'AllergyIntolerance'
            then
                coalesce(codes.has_coded_code, false)
                and events.clinical_status is not null
                and events.verification_status is not null
                and events.criticality is not null
        when 'Condition' then
            coalesce(codes.has_coded_code, false)
            and events.clinical_status is not null
            and events.verification_status is not null
    end as is_ips_complete,
    current_timestamp as built_at
from {{ ref('int_entry_states') }} as states
inner join deciding_events as deciding
    on
        states.entry_id = deciding.entry_id
        and states.valid_from = deciding.occurred_on
inner join events on deciding.event_id = events.event_id
left join {{ ref('int_metric_entry_codes') }} as codes on events.event_id = codes.event_id
