-- For each event of an AllergyIntolerance or Condition: whether its resource codes the substance
-- or condition (a coding in resource.code with both system and code), and whether one such coding
-- is ATC. Every coding counts, not only the first one staging keeps.
with codings as (
    select
        event_id,
        coalesce(json_extract(resource, '$.code.coding[*]'), []) as codings
    from {{ source('raw', 'events') }}
    where resource_type in ('AllergyIntolerance', 'Condition')
)

select
    event_id,
    len(list_filter(codings, lambda coding:
        nullif(json_extract_string(coding, '$.system'), '') is not null
        and nullif(json_extract_string(coding, '$.code'), '') is not null)) > 0 as has_coded_code,
    len(list_filter(codings, lambda coding:
        json_extract_string(coding, '$.system') = 'http://www.whocc.no/atc'
        and nullif(json_extract_string(coding, '$.code'), '') is not null)) > 0 as has_atc_code
from codings
