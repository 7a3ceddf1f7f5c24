-- Of the entries created in each month with a recordedDate (int_metric_creation_delays), the share
-- that reached the core record at most 24 hours after it; by channel and region of the
-- registering organisation.
{{ creation_delay_metric(
    'delay_within_24h_share', 'count(*) filter (where delay_hours <= 24) as entries_within_24h',
    numerator='coalesce(cells.entries_within_24h, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.entries_within_24h', 'cells.entries'),
) }}
