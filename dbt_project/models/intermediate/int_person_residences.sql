-- Each person's latest known home municipality at the end of every day with an event of theirs,
-- valid until the next such day. Rebuilt per touched person (macros/touched_keys.sql).
{{ config(**incremental_by('patient_pseudonym')) }}

with ranked as (
    select
        patient_pseudonym,
        occurred_on,
        patient_municipality,
        patient_county_code,
        row_number() over (
            partition by patient_pseudonym, occurred_on
            order by occurred_at desc, event_id desc
        ) as rank_in_day
    from {{ ref('stg_registration_events') }}
    where {{ only_touched('patient_pseudonym') }}
)

select
    patient_pseudonym,
    patient_municipality as municipality,
    patient_county_code as county_code,
    occurred_on as valid_from,
    lead(occurred_on) over (partition by patient_pseudonym order by occurred_on) as valid_to,
    current_timestamp as built_at
from ranked
where rank_in_day = 1
