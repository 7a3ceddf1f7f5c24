{#- Marts and metrics rebuilt per changed period: a run deletes and builds again only the month ends
    (and, for yearly figures, the years) that the events ingested since their last build can
    change (int_changed_periods says which; docs/definitions.md, "Incremental runs"). Each such
    model records, after it is built, the newest ingestion it has taken in (as the intermediate
    models do, macros/touched_keys.sql); int_changed_periods reads from the oldest of these marks,
    so a model that failed catches up on the next run. -#}

{% macro incremental_by_period(period='month', period_end='period_end', with_creations_of_changed_entries=false) -%}
    {#- The config of a model rebuilt per changed period: its rows' period is `period`, ending on the
        expression `period_end` (see in_changed_periods). with_creations_of_changed_entries: the model
        counts entries in their creation month by what later events did to them. -#}
    {#- The model depends on int_changed_periods wherever it reads it (its pre-hook, a loop empty
        while dbt parses): a ref here, rendered as dbt parses the config, records it. -#}
    {%- do ref('int_changed_periods') -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'tags': ['rebuilt_by_period'],
        'pre_hook':
            "{% if is_incremental() %}delete from {{ this }} where {{ in_changed_periods(\"" ~ period_end ~ "\", '"
            ~ period ~ "', " ~ with_creations_of_changed_entries ~ ") }}{% endif %}",
        'post_hook': "{{ record_ingested_through() }}",
    }) }}
{%- endmacro %}

{% macro in_changed_periods(period_end, period='month', with_creations_of_changed_entries=false) -%}
    {#- A condition on a row's period ending on the expression `period_end`: on an incremental run,
        that its period is one to rebuild; on a full build, true. period: 'month' (period_end is a
        month end), 'year' (31 December of its year) or the name of a column holding either. -#}
    {%- set changed = ref('int_changed_periods') -%}
    {%- if is_incremental() -%}
        {%- set which = '' if with_creations_of_changed_entries else ' where reached_by_new_events' -%}
        {%- if period == 'month' -%}
            {{ period_end }} in (select period_end from {{ changed }}{{ which }})
        {%- elif period == 'year' -%}
            year({{ period_end }}) in (select year(period_end) from {{ changed }}{{ which }})
        {%- else -%}
            (
                {{ period }} = 'month' and {{ in_changed_periods(period_end, 'month', with_creations_of_changed_entries) }}
                or {{ period }} = 'year' and {{ in_changed_periods(period_end, 'year', with_creations_of_changed_entries) }}
            )
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro models_rebuilt_by_period() -%}
    {#- The names (as their marks record them) of the models rebuilt per changed period. -#}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'rebuilt_by_period' in node.tags -%}
            {%- do names.append(node.alias or node.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names | sort) }}
{%- endmacro %}
