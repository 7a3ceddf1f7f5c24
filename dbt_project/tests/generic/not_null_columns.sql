{% test not_null_columns(model, columns) %}
    {#- The columns of a model that must always be filled, in one test: fails with each row that
        has a null in any of them. One node per model rather than one per column, because dbt
        spends some 40 ms on every test node whatever its query (bench/). -#}
select {{ columns | join(', ') }}
from {{ model }}
where {{ columns | join(' is null or ') }} is null
{% endtest %}
