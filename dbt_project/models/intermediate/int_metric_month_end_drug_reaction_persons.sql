-- Persons with at least one active drug-reaction entry at the end of each reported month end, per
-- county (and region) they live in that day (int_metric_drug_reaction_segments).
{{ count_at_month_ends(
    ref('int_metric_drug_reaction_segments'),
    ['county_code', 'health_region'],
    counted='persons',
) }}
