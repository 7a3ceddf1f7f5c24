{% test unique_combination_of_columns(model, combination_of_columns, latest_build_only=false) %}
    {#- Fails with each combination of the columns that occurs more than once; with
        latest_build_only (an incremental model), each such combination among the rows of the
        latest build (macros/touched_keys.sql, of_latest_build_combinations). -#}
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }} as tested
where {{ of_latest_build_combinations(model, combination_of_columns) if latest_build_only else 'true' }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
