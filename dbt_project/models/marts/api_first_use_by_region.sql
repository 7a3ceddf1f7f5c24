-- The day each regional health authority's organisations first sent an event through the API
-- (null while none has): the go-live the rollout-effect estimate uses (pipelines/evaluation/effect.py).
with first_use as (
    select
        organisation_health_region as health_region,
        min(occurred_on) as first_api_event_on
    from {{ ref('stg_registration_events') }}
    where channel = 'api'
    group by organisation_health_region
)

select
    regions.health_region,
    first_use.first_api_event_on,
    cast(date_trunc('month', first_use.first_api_event_on) as date) as go_live_month
from {{ ref('health_regions') }} as regions
left join first_use on regions.health_region = first_use.health_region
