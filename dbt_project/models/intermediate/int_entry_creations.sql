-- Each entry's creation: its first `created` event, with the channel and the region of the
-- organisation that registered it.
select
    entry_id,
    patient_pseudonym,
    critical_information_type,
    channel,
    organisation_type,
    organisation_health_region as health_region,
    occurred_on as created_on,
    cast(date_trunc('month', occurred_on) as date) as created_month
from {{ ref('stg_registration_events') }}
where event_type = 'created'
qualify row_number() over (partition by entry_id order by occurred_at, event_id) = 1
