-- The metric registry as a table: one row per model whose meta carries `metric` (macro
-- metric_registry, read from the project graph, so a metric declared in its SQL is listed here
-- without editing this file), with how fresh its figures in the `metrics` mart are.
{%- set text_columns = ['metric_id', 'name_nb', 'definition', 'numerator', 'denominator', 'unit',
                        'grains', 'dimensions', 'mandate', 'source_model'] %}
{%- set types = {'up_is_good': 'boolean', 'overview_position': 'integer'} %}

with registry as (
    {%- for metric in metric_registry() %}
    {%- set texts = [
        metric.id, metric.name_nb, metric.definition, metric.numerator or '', metric.denominator or '',
        metric.unit, metric.grains | join(','), metric.dimensions | join(','), metric.mandate, metric.model,
    ] %}
    select
    {%- for column in text_columns %}
        cast('{{ texts[loop.index0] | string | trim | replace("'", "''") }}' as varchar) as {{ column }},
    {%- endfor %}
        cast({{ metric.up_is_good }} as boolean) as up_is_good,
        cast({{ metric.get('overview') or 'null' }} as integer) as overview_position
    {% if not loop.last %}union all{% endif %}
{%- else %}
    -- Parsing (no graph yet): the columns, no rows.
        select
            {%- for column in text_columns + ['up_is_good', 'overview_position'] %}
                cast(null as {{ types.get(column, 'varchar') }}) as {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
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
