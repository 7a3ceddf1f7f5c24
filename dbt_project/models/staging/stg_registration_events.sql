-- One row per accepted event: envelope columns renamed and typed, the FHIR resource flattened.
-- Partitioned by event day (Dagster): an incremental build replaces exactly the days in
-- the restaged days (see macros/restage_days.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}{{ prepare_restage() }}{% endif %}",
) }}

select
    event_id,
    event_type,
    occurred_at,
    {{ local_date('occurred_at') }} as occurred_on,
    channel,
    organisation_type,
    organisation_id,
    organisation_health_region,
    organisation_municipality,
    source_system,
    patient_pseudonym,
    patient_birth_year,
    patient_sex,
    patient_municipality,
    left(patient_municipality, 2) as patient_county_code,
    resource_type,
    resource_id,
    resource_type || '/' || resource_id as entry_id,
    resource_version,
    try_cast(resource_version as integer) as resource_version_number,
    critical_information_type,
    json_extract_string(resource, '$.clinicalStatus.coding[0].code') as clinical_status,
    json_extract_string(resource, '$.verificationStatus.coding[0].code') as verification_status,
    json_extract_string(resource, '$.status') as resource_status,
    json_extract_string(resource, '$.criticality') as criticality,
    json_extract_string(resource, '$.code.coding[0].system') as code_system,
    json_extract_string(resource, '$.code.coding[0].code') as code,
    try_cast(json_extract_string(resource, '$.recordedDate') as timestamptz) as recorded_at,
    source_file,
    source_line,
    ingested_at
from {{ source('raw', 'events') }}
{% if is_incremental() %}
where {{ restaged(local_date('occurred_at')) }}
{% endif %}
