{#- kritinfo's table and incremental models: each built in one transaction (DuckDB's DDL is
    transactional: a build that fails leaves the old table whole), with the fewest statements.

    Tables: the old table dropped and the new one created in its place. dbt-duckdb's own table
    materialization builds the new table under a temporary name, asks whether foreign keys point
    at the old one, renames the old one away and the new one in, and drops the old one after the
    commit: some eight statements per table, each with its own events and macros, where one does
    the same for tables with no foreign keys, indexes, grants or persisted docs (none in this
    project). About 20 ms of dbt's own work per table: a fifth of the time of the table models in
    a day's increment. The SQL that creates the table is dbt's (create_table_as): a model whose
    contract is enforced is still checked against it.

    Incremental models (all 'append': their pre-hook deletes the keys or periods they rebuild): on
    an incremental run the model's rows are inserted by name, straight from its query; otherwise
    the table is replaced as a table model's. dbt-duckdb's own writes the rows to a temporary table
    first, reads both tables' columns to compare them, inserts from it and drops it: about 25 ms
    more per model, some 30 models in every run. Their schema cannot change between two
    incremental builds (a changed dbt project is built whole, pipelines/transform/assets.py); a
    column the table lacks fails the insert, and the table's constraints check every row. -#}

{% macro build_in_one_transaction(main_sql) -%}
    {#- The model's hooks that run inside its transaction go with its main SQL in one statement: dbt
        sends each hook as a statement of its own, about 10 ms of its work apiece, and an
        incremental model has two. -#}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {%- set statements = [] -%}
    {%- for hook in pre_hooks | selectattr('transaction') -%}
        {%- do statements.append(render(hook.get('sql')) | trim) -%}
    {%- endfor -%}
    {%- do statements.append(main_sql | trim) -%}
    {%- for hook in post_hooks | selectattr('transaction') -%}
        {%- do statements.append(render(hook.get('sql')) | trim) -%}
    {%- endfor %}
    {% call statement('main') -%}
        {%- for statement_sql in statements if statement_sql %}
        {{ statement_sql }}
        ;
        {%- endfor %}
    {%- endcall %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
{%- endmacro %}

{% macro replace_table(existing_relation, target_relation) -%}
    {%- if existing_relation is not none %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }};
    {%- endif %}
    {{ create_table_as(False, target_relation, sql) }}
{%- endmacro %}

{% materialization table, adapter='duckdb' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ build_in_one_transaction(replace_table(existing_relation, target_relation)) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization incremental, adapter='duckdb' %}
    {%- if config.get('incremental_strategy') != 'append' -%}
        {{ exceptions.raise_compiler_error("kritinfo's incremental models append (their pre-hook deletes what they rebuild)") }}
    {%- endif -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- if is_incremental() -%}
        {{ build_in_one_transaction('insert into ' ~ target_relation ~ ' by name (\n' ~ sql ~ '\n)') }}
    {%- else -%}
        {{ build_in_one_transaction(replace_table(existing_relation, target_relation)) }}
    {%- endif %}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
