{#- Incremental intermediate models: a run rebuilds only the entries or persons that the events
    ingested since the model's last build touch (docs/definitions.md, "Incremental runs").

    Each such model records, after it is built and in the same transaction, the newest ingestion it
    has taken in (record_ingested_through). The next run fixes the keys touched by events ingested
    after that and deletes their rows (forget_touched, the pre-hook of incremental_by), then builds
    those keys again from all their events, whatever their age: a late event lands exactly where a
    full build puts it.
    A model that fails keeps its mark, so the next run takes in what it missed.

    Every row records the build that made it (built_at: the start of the transaction that built it,
    one value per build): a build rewrites every row of the keys it rebuilds, so the rows of a
    model's latest build are all that build changed, and the tests whose cost grows with the
    history check only those (of_latest_build_combinations). -#}

{% macro create_ingestion_marks() -%}
    {#- on-run-start: the table of marks, one row per incremental model. -#}
    create schema if not exists kritinfo_state;
    create table if not exists kritinfo_state.ingested_through (
        model varchar primary key,
        ingested_through timestamptz not null
    )
{%- endmacro %}

{% macro incremental_by(key) -%}
    {#- The config of a model rebuilt per `key` (entry_id or patient_pseudonym) on incremental runs. -#}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'pre_hook': "{% if is_incremental() %}{{ forget_touched('" ~ key ~ "') }}{% endif %}",
        'post_hook': "{{ record_ingested_through() }}",
    }) }}
{%- endmacro %}

{% macro ingested_through() -%}
    {#- The newest ingestion the model being built has taken in (the epoch before its first). -#}
    (
        select coalesce(max(ingested_through), timestamptz '1970-01-01 00:00:00+00')
        from kritinfo_state.ingested_through
        where model = '{{ this.identifier }}'
    )
{%- endmacro %}

{% macro touched_keys(key) -%}
    {#- The keys the events ingested since the model's last build touch. An entry is touched by its
        own events. A person is touched by every event of a touched entry: an entry's states carry
        the pseudonym of their deciding event, so a late event can move a state from one person to
        another, and both must be rebuilt (a person's residences change only by their own events,
        which belong to touched entries). -#}
    {%- set new_entries -%}
        select distinct entry_id
        from {{ ref('stg_registration_events') }}
        where ingested_at > {{ ingested_through() }}
    {%- endset -%}
    {%- if key == 'entry_id' -%}
        {{ new_entries }}
    {%- elif key == 'patient_pseudonym' -%}
        select distinct patient_pseudonym
        from {{ ref('stg_registration_events') }}
        where entry_id in ({{ new_entries }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("touched_keys: unknown key " ~ key) }}
    {%- endif -%}
{%- endmacro %}

{% macro forget_touched(key) -%}
    {#- Fix the touched keys once, in a temp table of the model's connection (as prepare_restage
        fixes the touched days), so the delete and the build agree and stg is scanned once. -#}
    create or replace temp table keys_to_rebuild as {{ touched_keys(key) }};
    delete from {{ this }} where {{ key }} in (select {{ key }} from keys_to_rebuild)
{%- endmacro %}

{% macro only_touched(key) -%}
    {#- A where-condition keeping, on an incremental run, only the rows of touched keys. -#}
    {%- if is_incremental() -%}
        {{ key }} in (select {{ key }} from keys_to_rebuild)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro materialized_when_incremental() -%}
    {#- Between `name as` and a CTE keeping the touched keys' rows (only_touched) that a join uses:
        on an incremental run, DuckDB works the CTE out first and joins the few rows it keeps.
        Inlined, it joined all the history and filtered after (int_metric_entry_segments at ten
        times the national history: 0.9 s, 0.4 s worked out first). A full build inlines it. -#}
    {%- if is_incremental() %}materialized{% endif -%}
{%- endmacro %}

{% macro record_ingested_through() -%}
    insert or replace into kritinfo_state.ingested_through
    select '{{ this.identifier }}', coalesce(max(ingested_at), timestamptz '1970-01-01 00:00:00+00')
    from {{ ref('stg_registration_events') }}
{%- endmacro %}

{% macro of_latest_build(relation, alias) -%}
    {#- A where-condition keeping the rows (named `alias`) of the relation's latest build. -#}
    {{ alias }}.built_at = (select max(built_at) from {{ relation }})
{%- endmacro %}

{% macro of_latest_build_combinations(relation, columns) -%}
    {#- A where-condition on the rows of `relation` named `tested`: those whose combination of
        the columns occurs among the rows of its latest build. The rows a build kept were checked
        when they were made; a duplicate made now has a row of this build. -#}
    exists (
        select 1
        from {{ relation }} as rebuilt
        where
            {{ of_latest_build(relation, 'rebuilt') }}
            {%- for column in columns %}
            and rebuilt.{{ column }} is not distinct from tested.{{ column }}
            {%- endfor %}
    )
{%- endmacro %}
