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

-- Each entry version counts towards its person from its first day and stops counting on its
-- last: a running sum over a person's days gives, on each change day, the versions covering it
-- and the active ones among them. A sort, where joining change days to the versions covering them
-- built a hash table of all versions that outgrew DuckDB's memory limit at ten times the
-- national history.
entry_steps as (
    select
        patient_pseudonym,
        valid_from as day,
        1 as covering,
        case when is_active then 1 else 0 end as active
    from entry_states
    union all
    select
        patient_pseudonym,
        valid_to,
        -1,
        case when is_active then -1 else 0 end
    from entry_states
    where valid_to is not null
),

counted as (
    select
        patient_pseudonym,
        day,
        is_change_day,
        sum(covering) over days_so_far as covering_entries,
        sum(active) over days_so_far as active_entries
    from (
        select
            patient_pseudonym,
            day,
            covering,
            active,
            false as is_change_day
        from entry_steps
        union all
        select
            patient_pseudonym,
            changed_on,
            0,
            0,
            true
        from change_days
    ) as steps_and_change_days
    -- A day's steps come before its change day: they count on it.
    window days_so_far as (
        partition by patient_pseudonym order by day, is_change_day
        rows between unbounded preceding and current row
    )
),

registration as (
    select
        patient_pseudonym,
        day as changed_on,
        active_entries
    from counted
    where is_change_day and covering_entries > 0
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
-- The residence a change day falls in: the latest begun by then, if it has not ended.
asof inner join residences
    on
        registration.patient_pseudonym = residences.patient_pseudonym
        and registration.changed_on >= residences.valid_from
where residences.valid_to is null or registration.changed_on < residences.valid_to
