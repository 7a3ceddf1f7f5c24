-- Every metric of the registry in one shape: one row per metric, period, place and breakdown cell.
{%- set metric_ids = [
    'registration_coverage_population', 'registration_coverage_need',
    'automatic_share', 'api_organisations', 'api_systems', 'api_organisation_share',
    'drug_reaction_persons', 'drug_reaction_atc_share',
    'delay_median_hours', 'delay_p90_hours', 'delay_within_24h_share',
    'ips_completeness_share', 'corrections_share', 'cost_per_new_person',
] %}
{% for metric_id in metric_ids %}
select
    cast(metric_id as varchar) as metric_id,
    cast(period_end as date) as period_end,
    cast(period as varchar) as period,
    cast(grain as varchar) as grain,
    cast(health_region as varchar) as health_region,
    cast(county_code as varchar) as county_code,
    cast(dimension_name as varchar) as dimension_name,
    cast(dimension_value as varchar) as dimension_value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(value as double) as value
from {{ ref('metric_' ~ metric_id) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
