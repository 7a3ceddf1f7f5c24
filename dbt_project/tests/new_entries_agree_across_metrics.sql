-- Fails with each month, region and channel where the metrics over new entries disagree on how
-- many there are: corrections_share counts every new entry, the delay metrics those with a
-- recordedDate, registrations_by_channel_month every new entry again; all must be the entries of
-- int_entry_creations (an entry's first created event in entry order, docs/definitions.md).
with creations as (
    select
        cast(last_day(created_on) as date) as period_end,
        health_region,
        channel,
        count(*) as new_entries,
        count(recorded_at) as new_entries_with_recorded_date
    from {{ ref('int_entry_creations') }}
    group by all
),

metric_counts as (
    select
        period_end,
        health_region,
        dimension_value as channel,
        max(denominator) filter (where metric_id = 'corrections_share') as corrections_entries,
        max(denominator) filter (where metric_id = 'delay_median_hours') as median_entries,
        max(denominator) filter (where metric_id = 'delay_p90_hours') as p90_entries,
        max(denominator) filter (where metric_id = 'delay_within_24h_share') as within_24h_entries
    from {{ ref('metrics') }}
    where
        grain = 'region' and dimension_name = 'channel'
        and metric_id in ('corrections_share', 'delay_median_hours', 'delay_p90_hours', 'delay_within_24h_share')
    group by all
),

registrations as (
    select
        cast(last_day(period_month) as date) as period_end,
        health_region,
        channel,
        new_entries
    from {{ ref('registrations_by_channel_month') }}
)

select
    metric_counts.*,
    registrations.new_entries as registered_entries,
    creations.new_entries,
    creations.new_entries_with_recorded_date
from metric_counts
left join creations using (period_end, health_region, channel)
left join registrations using (period_end, health_region, channel)
where
    metric_counts.corrections_entries <> coalesce(creations.new_entries, 0)
    or registrations.new_entries is distinct from metric_counts.corrections_entries
    or metric_counts.median_entries <> coalesce(creations.new_entries_with_recorded_date, 0)
    or metric_counts.p90_entries <> metric_counts.median_entries
    or metric_counts.within_24h_entries <> metric_counts.median_entries
