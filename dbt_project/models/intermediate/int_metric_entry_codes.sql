-- For each event of an AllergyIntolerance or Condition: whether its resource codes the substance
-- or condition (a coding in resource.code with both system and code), and whether one such coding
-- is ATC. Every coding counts, not only the first one staging keeps. An event never changes:
-- an incremental run adds the events ingested since the model's last build.
{{ config(materialized='incremental', incremental_strategy='append', post_hook="{{ record_ingested_through() }}") }}

with codings as (
    select
        event_id,
        coalesce(
            json_transform(resource, '{"code": {"coding": [{"system": "VARCHAR", "code": "VARCHAR"}]}}').code.coding,
            []
        ) as codings
    from {{ source('raw', 'events') }}
    where
        resource_type in ('AllergyIntolerance', 'Condition')
        {% if is_incremental() %}and ingested_at > {{ ingested_through() }}{% endif %}
)

select
    codings.event_id,
    len(list_filter(
        codings, lambda coding:
        nullif(coding.system, '') is not null and nullif(coding.code, '') is not null
    )) > 0 as has_coded_code,
    len(list_filter(
        codings, lambda coding:
        coding.system = 'http://www.whocc.no/atc' and nullif(coding.code, '') is not null
    )) > 0 as has_atc_code,
    current_timestamp as built_at
from codings
