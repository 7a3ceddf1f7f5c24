-- Every metric of the registry (macro metric_registry: the models whose meta carries `metric`) in
-- one shape: one row per metric, period, place and breakdown cell.
-- dbt reads a model's refs when it parses it, before the graph exists, so the metric models are
-- listed for it here; when one is missing, compiling stops with the line to add.
-- depends_on: {{ ref('metric_api_organisation_share') }}
-- depends_on: {{ ref('metric_api_organisations') }}
-- depends_on: {{ ref('metric_api_systems') }}
-- depends_on: {{ ref('metric_automatic_share') }}
-- depends_on: {{ ref('metric_corrections_share') }}
-- depends_on: {{ ref('metric_cost_per_new_person') }}
-- depends_on: {{ ref('metric_delay_median_hours') }}
-- depends_on: {{ ref('metric_delay_p90_hours') }}
-- depends_on: {{ ref('metric_delay_within_24h_share') }}
-- depends_on: {{ ref('metric_drug_reaction_atc_share') }}
-- depends_on: {{ ref('metric_drug_reaction_persons') }}
-- depends_on: {{ ref('metric_ips_completeness_share') }}
-- depends_on: {{ ref('metric_registration_coverage_need') }}
-- depends_on: {{ ref('metric_registration_coverage_population') }}
{%- for metric in metric_registry() %}
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
from {{ ref(metric.model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
