-- Every stretch of time in which an entry is active, with the content of its version then, while
-- its person lives in one county: each active state of an entry (int_metric_entry_versions)
-- intersected with the person's residences (int_person_residences; as for coverage, the latest
-- home municipality known). valid_from inclusive, valid_to exclusive (null: still so). Rebuilt per
-- touched person (macros/touched_keys.sql).
{{ config(**incremental_by('patient_pseudonym')) }}

with versions as {{ materialized_when_incremental() }} (
    select *
    from {{ ref('int_metric_entry_versions') }}
    where is_active and {{ only_touched('patient_pseudonym') }}
),

residences as {{ materialized_when_incremental() }} (
    select *
    from {{ ref('int_person_residences') }}
    where {{ only_touched('patient_pseudonym') }}
),

counties as (
    select distinct
        county_code,
        health_region
    from {{ ref('counties') }}
)

select
    versions.entry_id,
    versions.patient_pseudonym,
    versions.critical_information_type,
    versions.resource_type,
    versions.has_atc_code,
    versions.is_ips_complete,
    residences.county_code,
    counties.health_region,
    greatest(versions.valid_from, residences.valid_from) as valid_from,
    case
        when versions.valid_to is null then residences.valid_to
        when residences.valid_to is null then versions.valid_to
        else least(versions.valid_to, residences.valid_to)
    end as valid_to,
    current_timestamp as built_at
from versions
inner join residences
    on
        versions.patient_pseudonym = residences.patient_pseudonym
        and (versions.valid_to is null or versions.valid_to > residences.valid_from)
        and (residences.valid_to is null or versions.valid_from < residences.valid_to)
inner join counties
    on residences.county_code = counties.county_code
