-- The 90th percentile of the delay in hours from recordedDate to arrival in the core record, over the
-- entries created in each month (int_metric_creation_delays), by channel and region of the
-- registering organisation. Continuous quantile: linear interpolation between the two nearest delays.
with facts as (
    select period_end, health_region, channel, delay_hours
    from {{ ref('int_metric_creation_delays') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        count(*) as entries,
        quantile_cont(delay_hours, 0.9) as delay_hours
    from {{ metric_cells_of('facts', ['national', 'region'], ['channel']) }}
    group by all
)

{{ metric_table(
    'delay_p90_hours', 'cells', ['national', 'region'], ['channel'],
    numerator='null',
    denominator='coalesce(cells.entries, 0)',
    value='cells.delay_hours',
) }}
