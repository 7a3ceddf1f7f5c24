-- Each new entry (docs/definitions.md): its first `created` event in entry order, with that
-- event's channel, organisation type, the region of the registering organisation and recordedDate;
-- and whether it was corrected later: an event after it in entry order leaves the entry not active
-- (inactivated or entered in error, by event type or by a status). Rebuilt per touched entry
-- (macros/touched_keys.sql): a correction is an event of the entry.
{{ config(**incremental_by('entry_id')) }}

with creations as (
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
        recorded_at
    from {{ ref('stg_registration_events') }}
    where event_type = 'created' and {{ only_touched('entry_id') }}
    qualify row_number() over (partition by entry_id order by {{ entry_order_key() }}) = 1
),

corrected as (
    select distinct creations.entry_id
    from creations
    inner join {{ ref('stg_registration_events') }} as events
        on
            creations.entry_id = events.entry_id
            and {{ entry_order_key('events') }} > creations.order_key
    where not {{ leaves_entry_active('events') }}
)

select
    creations.*,
    corrected.entry_id is not null as is_corrected_later,
    current_timestamp as built_at
from creations
left join corrected on creations.entry_id = corrected.entry_id
