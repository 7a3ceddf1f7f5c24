-- New entries of critical information per complete month, regional health authority of the
-- registering organisation and channel, with each channel's share of the region's new entries.
{{ config(**incremental_by_period(period_end='last_day(period_month)')) }}

with months as (
    select cast(date_trunc('month', period_end) as date) as period_month
    from {{ ref('int_month_ends') }}
    where {{ in_changed_periods('period_end') }}
),

channels as (
    select channel from (values ('api'), ('portal')) as channels (channel)
),

creations as (
    select
        created_month,
        health_region,
        channel,
        count(*) as new_entries
    from {{ ref('int_entry_creations') }}
    where {{ in_changed_periods('last_day(created_month)') }}
    group by all
),

counted as (
    select
        months.period_month,
        regions.health_region,
        regions.name as health_region_name,
        channels.channel,
        coalesce(creations.new_entries, 0) as new_entries
    from months
    cross join {{ ref('health_regions') }} as regions
    cross join channels
    left join creations
        on
            months.period_month = creations.created_month
            and regions.health_region = creations.health_region
            and channels.channel = creations.channel
)

select
    *,
    cast(sum(new_entries) over (partition by period_month, health_region) as bigint) as region_new_entries,
    100.0
    * new_entries
    / nullif(sum(new_entries) over (partition by period_month, health_region), 0) as channel_share_pct
from counted
