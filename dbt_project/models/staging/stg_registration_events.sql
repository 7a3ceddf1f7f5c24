-- One row per accepted event: envelope columns renamed and typed, the FHIR resource flattened.
-- Partitioned by event day (Dagster): an incremental build replaces the days of the run's window
-- and adds the events ingested since (see macros/restage_days.sql). Its contract (_staging.yml)
-- makes dbt ask what a changed schema does on an increment: fail (a changed project is built in
-- full, see pipelines/transform/assets.py).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
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
    {{ epj_product('source_system') }} as epj_product,
    patient_pseudonym,
    patient_birth_year,
    patient_sex,
    patient_municipality,
    left(patient_municipality, 2) as patient_county_code,
    resource_type,
    resource_id,
    resource_type || '/' || resource_id as entry_id,
    resource_version,
    -- meta.versionId compares as a number when it is one (digits only); see docs/definitions.md.
    case when regexp_full_match(resource_version, '[0-9]+') then try_cast(resource_version as hugeint) end
        as resource_version_number,
    critical_information_type,
    {{ hl7_status_code('clinicalStatus', ['allergyintolerance-clinical', 'condition-clinical']) }} as clinical_status,
    {{ hl7_status_code('verificationStatus', ['allergyintolerance-verification', 'condition-ver-status']) }}
        as verification_status,
    json_extract_string(resource, '$.status') as resource_status,
    json_extract_string(resource, '$.criticality') as criticality,
    json_extract_string(resource, '$.code.coding[0].system') as code_system,
    json_extract_string(resource, '$.code.coding[0].code') as code,
    {{ recorded_instant("json_extract_string(resource, '$.recordedDate')") }} as recorded_at,
    source_file,
    source_line,
    ingested_at
{% if is_incremental() %}
    from ({{ restaged_events() }}) as events_to_stage
{% else %}
    from {{ source('raw', 'events') }}
{% endif %}
