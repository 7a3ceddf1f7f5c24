-- Every metric of the registry (macro metric_registry: the models whose meta carries `metric`) in
-- one shape: one row per metric, period, area and breakdown cell.
-- dbt records a model's refs while it parses, before the graph exists: the refs to the metric
-- models come from a macro `kritinfo prepare` writes from their files.
{{ config(**incremental_by_period(period='period', with_creations_of_changed_entries=true)) }}
{{ metric_model_dependencies() }}
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
where {{ in_changed_periods('period_end', 'period', with_creations_of_changed_entries=true) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
