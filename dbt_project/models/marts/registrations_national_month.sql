-- New entries of critical information per complete month in all of Norway, and the share that
-- arrived automatically through the API.
{{ config(**incremental_by_period(period_end='last_day(period_month)')) }}
select
    period_month,
    cast(sum(new_entries) as bigint) as new_entries,
    cast(sum(new_entries) filter (where channel = 'api') as bigint) as api_entries,
    cast(sum(new_entries) filter (where channel = 'portal') as bigint) as portal_entries,
    100.0 * sum(new_entries) filter (where channel = 'api') / nullif(sum(new_entries), 0) as api_share_pct
from {{ ref('registrations_by_channel_month') }}
where {{ in_changed_periods('last_day(period_month)') }}
group by period_month
