-- Each new entry (docs/definitions.md): its first `created` event in entry order, with that
-- event's channel, organisation type, the region of the registering organisation and recordedDate.
-- Rebuilt per touched entry (macros/touched_keys.sql).
{{ config(**incremental_by('entry_id')) }}

select
    entry_id,
    event_id,
    {{ entry_order_key() }} as order_key,
    patient_pseudonym,
    critical_information_type,
    channel,
    organisation_type,
    organisation_health_region as health_region,
    occurred_at,
    occurred_on as created_on,
    cast(date_trunc('month', occurred_on) as date) as created_month,
    recorded_at,
    current_timestamp as built_at
from {{ ref('stg_registration_events') }}
where event_type = 'created' and {{ only_touched('entry_id') }}
qualify row_number() over (partition by entry_id order by {{ entry_order_key() }}) = 1
