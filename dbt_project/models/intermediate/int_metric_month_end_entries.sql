-- Entries active at the end of each reported month end, counted by the county (and region) their
-- person lives in that day and by the content of their version then (int_metric_entry_segments).
{{ count_at_month_ends(
    ref('int_metric_entry_segments'),
    ['county_code', 'health_region', 'critical_information_type', 'resource_type', 'has_atc_code', 'is_ips_complete'],
    counted='entries',
) }}
