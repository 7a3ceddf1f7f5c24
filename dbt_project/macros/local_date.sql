{% macro local_date(timestamp_column) -%}
    {#- The calendar day in Norway of an instant (timestamptz). -#}
    cast(timezone('{{ var("local_timezone") }}', {{ timestamp_column }}) as date)
{%- endmacro %}
