-- Fails with each cell of an additive metric (one counted once per event, entry or person, in one
-- place and one value of each breakdown) whose parts do not add up to it:
-- the values of a breakdown to the total of their place, the regions to the nation, the counties
-- of a region to the region. These are the relations `metrics` declares for disclosure control
-- (models/metrics/_metrics.yml), so a failure blocks publishing figures they would not protect.
-- The distinct-sender metrics (api_organisations, api_organisation_share, api_systems) are left
-- out: one organisation or EPJ product may send under several regions and organisation types, and
-- counts once in each (docs/definitions.md). A failure here is a bug, never unusual data.
with additive as (
    select *
    from {{ ref('metrics') }}
    where metric_id in (
        'registration_coverage_population', 'registration_coverage_need', 'automatic_share',
        'drug_reaction_persons',
        'drug_reaction_atc_share', 'delay_median_hours', 'delay_p90_hours', 'delay_within_24h_share',
        'ips_completeness_share', 'corrections_share'
    )
),

sums as (
    -- breakdown values -> the total of the same place
    select metric_id, period_end, grain, health_region, county_code, 'total' as dimension_name, 'all' as dimension_value,
        sum(numerator) as numerator, sum(denominator) as denominator
    from additive
    where dimension_name <> 'total'
    group by metric_id, period_end, grain, health_region, county_code, dimension_name
    union all
    -- regions -> the nation
    select metric_id, period_end, 'national', null, null, dimension_name, dimension_value, sum(numerator), sum(denominator)
    from additive
    where grain = 'region'
    group by all
    union all
    -- counties -> their region
    select metric_id, period_end, 'region', health_region, null, dimension_name, dimension_value, sum(numerator), sum(denominator)
    from additive
    where grain = 'county'
    group by all
)

select sums.*, cells.numerator as cell_numerator, cells.denominator as cell_denominator
from sums
inner join additive as cells
    on cells.metric_id = sums.metric_id
    and cells.period_end = sums.period_end
    and cells.grain = sums.grain
    and cells.health_region is not distinct from sums.health_region
    and cells.county_code is not distinct from sums.county_code
    and cells.dimension_name = sums.dimension_name
    and cells.dimension_value = sums.dimension_value
where abs(coalesce(sums.numerator, 0) - coalesce(cells.numerator, 0)) > 1e-6 * greatest(1, abs(coalesce(cells.numerator, 0)))
    or abs(coalesce(sums.denominator, 0) - coalesce(cells.denominator, 0)) > 1e-6 * greatest(1, abs(coalesce(cells.denominator, 0)))
