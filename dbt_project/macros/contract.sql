{#- How kritinfo reads contract v1.1 where it leaves a choice (docs/definitions.md), one macro for
    each reading so every model that needs it reads the same way. -#}

{% macro hl7_status_code(element, code_systems) -%}
    {#- The code of a status element (clinicalStatus, verificationStatus) from its coding in the
        element's HL7 code system, wherever it stands in the list: local codings are ignored. -#}
    list_filter(
        coalesce(json_transform(resource, '{"{{ element }}": {"coding": [{"system": "VARCHAR", "code": "VARCHAR"}]}}').{{ element }}.coding, []),
        lambda coding: coding.system in (
    {%- for system in code_systems %}'http://terminology.hl7.org/CodeSystem/{{ system }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )
    )[1].code
{%- endmacro %}

{% macro recorded_instant(text) -%}
    {#- recordedDate as an instant: a date-time with its offset as written; a date alone is the start
        of that day in Norway whatever the session's time zone; a year or a month alone is too coarse
        to measure a delay with (null). -#}
    case
        when length({{ text }}) = 10 then timezone('{{ var("local_timezone") }}', try_cast({{ text }} as timestamp))
        when length({{ text }}) > 10 then try_cast({{ text }} as timestamptz)
    end
{%- endmacro %}

{% macro epj_product(text) -%}
    {#- The EPJ product behind a free-text source.system: lower case, white space made single and
        trimmed, trailing words holding a digit (versions: 21.3, v2, 2024.1) removed. -#}
    regexp_replace(trim(regexp_replace(lower({{ text }}), '\s+', ' ', 'g')), '( [^ ]*[0-9][^ ]*)+$', '')
{%- endmacro %}

{% macro entry_order_key(events=none) -%}
    {#- An event's place in its entry's order: occurred_at, then meta.versionId as a number (one that
        is not a number sorts below every numbered one, then by text), then event_id so that exact
        ties resolve the same way on every run. Compare with <, order by it, or use arg_min/arg_max.
        events: the relation's alias, where a join makes the columns ambiguous. -#}
    {%- set e = (events ~ '.') if events else '' -%}
    struct_pack(
        occurred_at := {{ e }}occurred_at,
        is_numbered := {{ e }}resource_version_number is not null,
        resource_version_number := {{ e }}resource_version_number,
        resource_version := {{ e }}resource_version,
        event_id := {{ e }}event_id
    )
{%- endmacro %}

{% macro leaves_entry_active(events=none) -%}
    {#- Whether the entry is active after this event (contract v1.1, "active"): the event is created or
        updated; the clinical status, where present, is active (recurrence and relapse are kinds of
        active in HL7); the verification status, where present, is neither entered-in-error nor
        refuted; the resource's own status, where the resource type has one, is an active one. -#}
    {%- set e = (events ~ '.') if events else '' %}
    (
        {{ e }}event_type in ('created', 'updated')
        and coalesce({{ e }}clinical_status, 'active') in ('active', 'recurrence', 'relapse')
        and coalesce({{ e }}verification_status, '') not in ('entered-in-error', 'refuted')
        and case {{ e }}resource_type
            when 'Flag' then coalesce({{ e }}resource_status, '') = 'active'
            when 'Consent' then coalesce({{ e }}resource_status, '') = 'active'
            when 'Procedure' then coalesce({{ e }}resource_status, '') in ('preparation', 'in-progress', 'on-hold')
            when 'DeviceUseStatement' then coalesce({{ e }}resource_status, '') in ('active', 'on-hold')
            else true
        end
    )
{%- endmacro %}
