-- Fails with each row of `metrics` that breaks its metric's declaration (meta.metric): a grain or
-- breakdown it does not declare; for a count, a denominator or a value other than its numerator;
-- for a quantile, a numerator; otherwise a missing numerator or denominator; a negative value (a
-- quantile of delays may be negative); for a share, a value above 100.
-- The refs below are made only once the graph exists; dbt reads this one when it parses the test.
-- depends_on: {{ ref('metrics') }}
{%- for metric in metric_registry() %}
select *
from {{ ref('metrics') }}
where metric_id = '{{ metric.id }}' and (
    grain not in ('{{ metric.grains | join("', '") }}')
    or dimension_name not in ('total'{% for dimension in metric.dimensions %}, '{{ dimension }}'{% endfor %})
    {%- if metric.kind == 'count' %}
    or denominator is not null or numerator is null or value is distinct from numerator
    {%- elif metric.kind == 'quantile' %}
    or numerator is not null or denominator is null
    {%- else %}
    or numerator is null or denominator is null
    {%- endif %}
    {%- if metric.kind != 'quantile' %}
    or value < 0
    {%- endif %}
    {%- if metric.kind == 'share' %}
    or value > 100
    {%- endif %}
)
{% if not loop.last %}union all{% endif %}
{%- endfor %}
