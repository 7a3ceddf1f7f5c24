-- Of the AllergyIntolerance and Condition entries active at each month end, the share complete for
-- the International Patient Summary (int_metric_entry_versions.is_ips_complete: coded substance or
-- condition, clinical and verification status, and for allergies criticality); in the county and
-- region the person lives in that day, by type of critical information.
with facts as (
    select period_end, health_region, county_code, critical_information_type, is_ips_complete, entries
    from {{ ref('int_metric_month_end_entries') }}
    where is_ips_complete is not null
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        coalesce(sum(facts.entries) filter (where facts.is_ips_complete), 0) as complete_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', ['national', 'region', 'county'], ['critical_information_type']) }}
    group by all
),

measured_types as (
    -- Only the types kept in AllergyIntolerance or Condition are measured.
    select type_id from {{ ref('critical_information_types') }}
    where resource_type in ('AllergyIntolerance', 'Condition')
),

all_types as (
    {{ metric_table(
        'ips_completeness_share', 'cells', ['national', 'region', 'county'], ['critical_information_type'],
        numerator='coalesce(cells.complete_entries, 0)',
        denominator='coalesce(cells.entries, 0)',
        value=percent('cells.complete_entries', 'cells.entries'),
    ) }}
)

select *
from all_types
where dimension_name <> 'critical_information_type'
    or dimension_value in (select type_id from measured_types)
