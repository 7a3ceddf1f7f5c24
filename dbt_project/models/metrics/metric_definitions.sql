-- The metric registry as a table: one row per model whose meta carries `metric`, read from the
-- project graph (so a metric documented in YAML is listed here without editing this file), with
-- how fresh its figures in the `metrics` mart are.
{%- set registry = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('metric') %}
        {%- do registry.append(node) %}
    {%- endfor %}
{%- endif %}
{%- set text_columns = ['metric_id', 'name_nb', 'definition', 'numerator', 'denominator', 'unit',
                        'grains', 'dimensions', 'mandate', 'source_model'] %}

with registry as (
{%- for node in registry | sort(attribute='name') %}
    {%- set metric = node.config.meta.metric %}
    {%- set texts = [
        metric.id, metric.name_nb, metric.definition, metric.numerator or '', metric.denominator or '',
        metric.unit, (metric.grains or []) | join(','), (metric.dimensions or []) | join(','),
        metric.mandate, node.name,
    ] %}
    select
    {%- for column in text_columns %}
        cast('{{ texts[loop.index0] | string | trim | replace("'", "''") }}' as varchar) as {{ column }}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
{%- else %}
    -- Parsing (no graph yet): the columns, no rows.
    select {% for column in text_columns %}cast(null as varchar) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    where false
{%- endfor %}
),

freshness as (
    select
        metric_id,
        max(period_end) as latest_period_end,
        string_agg(distinct period, ',' order by period) as periods
    from {{ ref('metrics') }}
    group by metric_id
)

select
    registry.*,
    freshness.periods,
    freshness.latest_period_end
from registry
left join freshness using (metric_id)
order by registry.metric_id
