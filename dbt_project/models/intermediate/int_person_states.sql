-- Each person's state at the end of every day on which any of their entries or their residence
-- changed: whether they have critical information registered (at least one active entry) and the
-- county they are counted in. Valid until their next change. Rebuilt per touched person
-- (macros/touched_keys.sql).
{{ config(**incremental_by('patient_pseudonym')) }}

with entry_states as (
    select *
    from {{ ref('int_entry_states') }}
    where {{ only_touched('patient_pseudonym') }}
),

residences as (
    select *
    from {{ ref('int_person_residences') }}
    where {{ only_touched('patient_pseudonym') }}
),

change_days as (
    select
        patient_pseudonym,
        valid_from as changed_on
    from entry_states
    union
    select
        patient_pseudonym,
        valid_from
    from residences
),

registration as (
    select
        change_days.patient_pseudonym,
        change_days.changed_on,
        count(*) filter (where entries.is_active) as active_entries
    from change_days
    inner join entry_states as entries
        on
            change_days.patient_pseudonym = entries.patient_pseudonym
            and change_days.changed_on >= entries.valid_from
            and (entries.valid_to is null or change_days.changed_on < entries.valid_to)
    group by all
)

select
    registration.patient_pseudonym,
    registration.active_entries,
    residences.county_code,
    registration.changed_on as valid_from,
    registration.active_entries > 0 as has_critical_information,
    lead(registration.changed_on) over (
        partition by registration.patient_pseudonym order by registration.changed_on
    ) as valid_to,
    current_timestamp as built_at
from registration
inner join residences
    on
        registration.patient_pseudonym = residences.patient_pseudonym
        and registration.changed_on >= residences.valid_from
        and (residences.valid_to is null or registration.changed_on < residences.valid_to)
