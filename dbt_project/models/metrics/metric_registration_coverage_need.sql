-- Persons with critical information registered at each month end in percent of the estimated need
-- (var estimated_need_share of the population), nationally, per region and per county they live
-- in: the coverage marts in the registry's shape.
{{ coverage_metric('registration_coverage_need', 'estimated_need', 'coverage_pct_need') }}
