-- Of the entries created in each month with a recordedDate (int_metric_creation_delays), the share
-- that reached the core record at most 24 hours after it; by channel and region of the
-- registering organisation.
with facts as (
    select period_end, health_region, channel, delay_hours
    from {{ ref('int_metric_creation_delays') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        count(*) filter (where delay_hours <= 24) as entries_within_24h,
        count(*) as entries
    from {{ metric_cells_of('facts', ['national', 'region'], ['channel']) }}
    group by all
)

{{ metric_table(
    'delay_within_24h_share', 'cells', ['national', 'region'], ['channel'],
    numerator='coalesce(cells.entries_within_24h, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.entries_within_24h', 'cells.entries'),
) }}
