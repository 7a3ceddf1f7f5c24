-- Fails with each cell whose parts do not add up to it, for the relations its metric declares
-- (meta.metric.additivity): breakdowns_to_total, the values of a breakdown to the total of their
-- place; regions_to_nation; counties_to_region. These are the relations `metrics` is published
-- with under disclosure control (pipelines/publish/disclosure.py), so a failure blocks publishing
-- figures they would not protect. A metric counted once per sender in every region and type it
-- sent under declares none (docs/definitions.md). A failure here is a bug, never unusual data.
{%- set declaring = {} %}
{%- for relation in metric_relations() %}
    {%- set ids = [] %}
    {%- for metric in metric_registry() if relation in metric.additivity %}
        {%- do ids.append("'" ~ metric.id ~ "'") %}
    {%- endfor %}
    {#- An empty list is `in (null)`: no metric, no rows. -#}
    {%- do declaring.update({relation: ids | join(', ') or 'null'}) %}
{%- endfor %}

with metrics as (
    select *
    from {{ ref('metrics') }}
),

sums as (
    -- breakdown values -> the total of the same place
    select
        metric_id,
        period_end,
        grain,
        health_region,
        county_code,
        'total' as dimension_name,
        'all' as dimension_value,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from metrics
    where dimension_name <> 'total' and metric_id in ({{ declaring['breakdowns_to_total'] }})
    group by metric_id, period_end, grain, health_region, county_code, dimension_name
    union all
    -- regions -> the nation
    select
        metric_id,
        period_end,
        'national',
        null,
        null,
        dimension_name,
        dimension_value,
        sum(numerator),
        sum(denominator)
    from metrics
    where grain = 'region' and metric_id in ({{ declaring['regions_to_nation'] }})
    group by all
    union all
    -- counties -> their region
    select
        metric_id,
        period_end,
        'region',
        health_region,
        null,
        dimension_name,
        dimension_value,
        sum(numerator),
        sum(denominator)
    from metrics
    where grain = 'county' and metric_id in ({{ declaring['counties_to_region'] }})
    group by all
)

select
    sums.*,
    cells.numerator as cell_numerator,
    cells.denominator as cell_denominator
from sums
inner join metrics as cells
    on
        sums.metric_id = cells.metric_id
        and sums.period_end = cells.period_end
        and sums.grain = cells.grain
        and cells.health_region is not distinct from sums.health_region
        and cells.county_code is not distinct from sums.county_code
        and sums.dimension_name = cells.dimension_name
        and sums.dimension_value = cells.dimension_value
where
    abs(coalesce(sums.numerator, 0) - coalesce(cells.numerator, 0))
    > 1e-6 * greatest(1, abs(coalesce(cells.numerator, 0)))
    or abs(coalesce(sums.denominator, 0) - coalesce(cells.denominator, 0))
    > 1e-6 * greatest(1, abs(coalesce(cells.denominator, 0)))
