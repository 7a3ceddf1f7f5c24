-- The 90th percentile of the delay in hours from recordedDate to arrival in the core record, over
-- the entries created in each month, by channel and region of the registering organisation.
{{ delay_quantile_metric('delay_p90_hours', 0.9) }}
