{#- Building blocks of the metric registry (models/metrics). A metric model metric_<id>.sql
    declares its metric once, at its top (declare_metric; docs/adding-a-metric.md); its id is its
    name without `metric_`. It then describes its facts (rows of events, entries, persons or
    organisations, or counts of them, each carrying the area it is counted in: health_region and,
    for metrics by county, county_code), spreads each fact over the cells it counts in
    (metric_cells_of), aggregates per cell, and lays the result on the grid of every reported cell
    (metric_table) so that a cell without facts shows zero rather than going missing, each over
    the grains and dimensions the metric declares. Stocks at month ends are counted from stretches
    of time (count_at_month_ends) rather than by expanding every entry over every month. -#}

{% macro metric_relations() -%}
    {#- The relations total = sum of parts a metric may declare in its additivity (the same as
        METRIC_RELATIONS in pipelines/publish/disclosure.py, which publishes them). -#}
    {{ return(['breakdowns_to_total', 'counties_to_region', 'regions_to_nation']) }}
{%- endmacro %}

{% macro declare_metric(declaration) -%}
    {#- The metric of the model being compiled, as its SQL declares it: stored as the model's
        meta.metric (the registry, the union, the tests and the publication read it there), and
        returned with its id and model name. A compiler error names what is missing or unknown. -#}
    {%- do config(meta={'metric': declaration}) -%}
    {#- A unit test compiles its model's SQL as itself: the model is then the one it tests. -#}
    {%- set node_id = model.tested_node_unique_id if model.resource_type == 'unit_test' else model.unique_id -%}
    {%- set model_name = node_id.split('.')[-1] -%}
    {%- set required = ['name_nb', 'definition', 'numerator', 'denominator', 'unit', 'kind', 'up_is_good',
                        'grains', 'dimensions', 'additivity', 'mandate'] -%}
    {%- set missing = required | reject('in', declaration) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(model_name ~ ": the metric's declaration lacks " ~ missing | join(', ')) }}
    {%- endif -%}
    {%- set optional = ['whole_counts', 'numerator_repeats', 'overview'] -%}
    {%- set unknown_keys = declaration.keys() | reject('in', required + optional) | list -%}
    {%- if unknown_keys -%}
        {{ exceptions.raise_compiler_error(
            model_name ~ ": the metric's declaration has unknown keys " ~ unknown_keys | join(', ')) }}
    {%- endif -%}
    {%- if declaration.kind not in ['count', 'share', 'quantile', 'ratio'] -%}
        {{ exceptions.raise_compiler_error(
            model_name ~ ": kind " ~ declaration.kind ~ " is none of count, share, quantile, ratio") }}
    {%- endif -%}
    {%- set unknown = declaration.additivity | reject('in', metric_relations()) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(model_name ~ ": unknown additivity " ~ unknown | join(', ')
            ~ " (known: " ~ metric_relations() | join(', ') ~ ")") }}
    {%- endif -%}
    {{ return(metric_with_id(declaration, model_name)) }}
{%- endmacro %}

{% macro metric_with_id(declaration, model_name) -%}
    {%- set metric = dict(declaration) -%}
    {%- do metric.update({'id': model_name | replace('metric_', '', 1), 'model': model_name}) -%}
    {{ return(metric) }}
{%- endmacro %}

{% macro metric_registry() -%}
    {#- Every metric of the project: the models whose meta carries `metric`, by name. Empty while
        dbt parses, before the graph exists. -#}
    {%- set metrics = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name')
            if node.resource_type == 'model' and node.config.meta.get('metric') -%}
            {%- do metrics.append(metric_with_id(node.config.meta.metric, node.name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(metrics) }}
{%- endmacro %}

{% macro metric_cells_of(facts, metric) -%}
    {#- FROM-clause items giving each fact row once per cell it counts in: every grain of the metric
        (national, its region, its county) crossed with the total and its value of every dimension
        of the metric. Select the cell with metric_cell_columns(). -#}
    {%- set areas = [] -%}
    {%- for grain in metric.grains -%}
        {%- if grain == 'national' -%}
            {%- do areas.append(("'national'", "null", "null")) -%}
        {%- elif grain == 'region' -%}
            {%- do areas.append(("'region'", facts ~ ".health_region", "null")) -%}
        {%- elif grain == 'county' -%}
            {%- do areas.append(("'county'", facts ~ ".health_region", facts ~ ".county_code")) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("unknown grain " ~ grain) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set breakdowns = [("'total'", "'all'")] -%}
    {%- for dimension in metric.dimensions -%}
        {%- do breakdowns.append(("'" ~ dimension ~ "'", facts ~ "." ~ dimension)) -%}
    {%- endfor -%}
    {{ facts }},
    unnest([
    {%- for area in areas %}{% set area_loop = loop %}{% for breakdown in breakdowns %}
        {
            'grain': {{ area[0] }},
            'health_region': cast({{ area[1] }} as varchar),
            'county_code': cast({{ area[2] }} as varchar),
            'dimension_name': {{ breakdown[0] }},
            'dimension_value': cast({{ breakdown[1] }} as varchar)
        }
        {%- if not (area_loop.last and loop.last) %},{% endif %}
    {%- endfor %}{% endfor %}
    ]) as cells(cell)
{%- endmacro %}

{% macro metric_cell_columns() -%}
    cell.grain as grain,
    cell.health_region as health_region,
    cell.county_code as county_code,
    cell.dimension_name as dimension_name,
    cell.dimension_value as dimension_value
{%- endmacro %}

{% macro metric_grid(metric, with_creations_of_changed_entries=false) -%}
    {#- Every cell the metric reports: each reported month end (on an incremental run, each one to
        rebuild: macros/changed_periods.sql), each area of its grains, the total and each value of
        each of its dimensions. -#}
    select
        month_ends.period_end,
        areas.grain,
        areas.health_region,
        areas.county_code,
        breakdowns.dimension_name,
        breakdowns.dimension_value
    from {{ ref('int_month_ends') }} as month_ends
    cross join {{ ref('int_metric_areas') }} as areas
    cross join {{ ref('int_metric_dimension_values') }} as breakdowns
    where areas.grain in ('{{ metric.grains | join("', '") }}')
        and breakdowns.dimension_name in ('total'{% for dimension in metric.dimensions %}, '{{ dimension }}'{% endfor %})
        and {{ in_changed_periods('month_ends.period_end', with_creations_of_changed_entries=with_creations_of_changed_entries) }}
{%- endmacro %}

{% macro metric_table(metric, cells, numerator, denominator, value, with_creations_of_changed_entries=false) -%}
    {#- The metric in the registry's shape: one row per cell of the grid; numerator, denominator and
        value are expressions over the aggregated `cells` (null where the grid cell has no facts).
        with_creations_of_changed_entries: as the model's incremental_by_period config says. -#}
    select
        '{{ metric.id }}' as metric_id,
        grid.period_end,
        'month' as period,
        grid.grain,
        grid.health_region,
        grid.county_code,
        grid.dimension_name,
        grid.dimension_value,
        cast({{ numerator }} as double) as numerator,
        cast({{ denominator }} as double) as denominator,
        cast({{ value }} as double) as value
    from ({{ metric_grid(metric, with_creations_of_changed_entries) }}) as grid
    left join {{ cells }} as cells
        on cells.period_end = grid.period_end
        and cells.grain = grid.grain
        and cells.health_region is not distinct from grid.health_region
        and cells.county_code is not distinct from grid.county_code
        and cells.dimension_name = grid.dimension_name
        and cells.dimension_value = grid.dimension_value
{%- endmacro %}

{% macro percent(part, whole) -%}
    {#- part in percent of whole; null when whole is zero or missing. -#}
    100.0 * {{ part }} / nullif({{ whole }}, 0)
{%- endmacro %}

{% macro count_at_month_ends(segments, group_columns, counted='segments') -%}
    {#- For every reported month end and group: how many segments of `segments` (rows with
        valid_from inclusive, valid_to exclusive or null) cover the end of that day. A segment
        covers the month ends from last_day(valid_from) up to the one before last_day(valid_to), so
        it adds one at the first and takes it back at the second; the running sum of these changes
        is the count. Every group present in `segments` gets a row for every month end. -#}
    {%- set columns = group_columns | join(', ') -%}
    with changes as (
        select {{ columns }}, cast(last_day(valid_from) as date) as period_end, 1 as change
        from {{ segments }}
        union all
        select {{ columns }}, cast(last_day(valid_to) as date), -1
        from {{ segments }}
        where valid_to is not null
    ),

    net_changes as (
        select {{ columns }}, period_end, sum(change) as change
        from changes
        group by all
    ),

    groups as (
        select distinct {{ columns }}
        from {{ segments }}
    )

    select
        month_ends.period_end,
        {% for column in group_columns %}groups.{{ column }},
        {% endfor -%}
        cast(sum(coalesce(net_changes.change, 0)) over (
            partition by {% for column in group_columns %}groups.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by month_ends.period_end
        ) as bigint) as {{ counted }}
    from {{ ref('int_month_ends') }} as month_ends
    cross join groups
    left join net_changes
        on net_changes.period_end = month_ends.period_end
    {%- for column in group_columns %}
        and net_changes.{{ column }} is not distinct from groups.{{ column }}
    {%- endfor %}
{%- endmacro %}

{% macro creation_delay_metric(metric, cell_aggregates, numerator, denominator, value) -%}
    {#- A metric over the delay in hours from recordedDate to arrival of the entries created in each
        month (int_metric_creation_delays), by the channel and region of the registering
        organisation. cell_aggregates: the select items computed per cell from delay_hours
        (count(*) is entries). -#}
    with facts as (
        select period_end, health_region, channel, delay_hours
        from {{ ref('int_metric_creation_delays') }}
        where {{ in_changed_periods('period_end') }}
    ),

    cells as (
        select
            period_end,
            {{ metric_cell_columns() }},
            count(*) as entries,
            {{ cell_aggregates }}
        from {{ metric_cells_of('facts', metric) }}
        group by all
    )

    {{ metric_table(metric, 'cells', numerator=numerator, denominator=denominator, value=value) }}
{%- endmacro %}

{% macro delay_quantile_metric(metric, quantile) -%}
    {#- A continuous quantile of the delay (linear interpolation between the two nearest delays). -#}
    {{ creation_delay_metric(
        metric, 'quantile_cont(delay_hours, ' ~ quantile ~ ') as delay_hours',
        numerator='null',
        denominator='coalesce(cells.entries, 0)',
        value='cells.delay_hours',
    ) }}
{%- endmacro %}

{% macro coverage_metric(metric, denominator, value) -%}
    {#- Persons with critical information registered at each month end against a column of the
        coverage marts (nationally, per region and per county they live in), in the registry's shape. -#}
    {%- for grain, mart, region, county in [
        ('national', 'coverage_national_month', 'null', 'null'),
        ('region', 'coverage_by_region_month', 'health_region', 'null'),
        ('county', 'coverage_by_county_month', 'health_region', 'county_code'),
    ] %}
    select
        '{{ metric.id }}' as metric_id,
        period_end,
        'month' as period,
        '{{ grain }}' as grain,
        cast({{ region }} as varchar) as health_region,
        cast({{ county }} as varchar) as county_code,
        'total' as dimension_name,
        'all' as dimension_value,
        cast(persons_with_critical_info as double) as numerator,
        cast({{ denominator }} as double) as denominator,
        cast({{ value }} as double) as value
    from {{ ref(mart) }}
    where {{ in_changed_periods('period_end') }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro api_senders_metric(metric, sender, where='true') -%}
    {#- Distinct senders (a column of stg_registration_events) with at least one event through the
        API in each month, by the region and organisation type of the sending unit of each event. A
        sender counts once in every region and type it sent under and once nationally and in the
        total, so neither regions nor breakdown values add up (docs/definitions.md). -#}
    with facts as (
        select distinct
            cast(last_day(occurred_on) as date) as period_end,
            organisation_health_region as health_region,
            {{ metric.dimensions | join(', ') }},
            {{ sender }} as sender
        from {{ ref('stg_registration_events') }}
        where channel = 'api' and {{ where }} and {{ in_changed_periods('cast(last_day(occurred_on) as date)') }}
    ),

    cells as (
        select
            period_end,
            {{ metric_cell_columns() }},
            count(distinct sender) as senders
        from {{ metric_cells_of('facts', metric) }}
        group by all
    )

    {{ metric_table(
        metric, 'cells',
        numerator='coalesce(cells.senders, 0)',
        denominator='null',
        value='coalesce(cells.senders, 0)',
    ) }}
{%- endmacro %}
