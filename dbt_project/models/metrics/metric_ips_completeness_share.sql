-- Of the AllergyIntolerance and Condition entries active at each month end, the share complete for
-- the International Patient Summary (int_metric_entry_versions.is_ips_complete: coded substance or
-- condition, clinical and verification status, and for allergies criticality); in the county and
-- region the person lives in that day, by type of critical information.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel komplette for IPS',
    'definition':
        'Av de aktive oppføringene av typene allergi og tilstand (AllergyIntolerance og Condition) '
        'ved månedsslutt, andelen som har alt International Patient Summary trenger: kodet '
        'virkestoff eller tilstand, klinisk status og verifikasjonsstatus, og for allergier også '
        'kritikalitet. Prosedyre, flagg, implantat og samtykke føres som tekst og er ikke med.',
    'numerator': 'Aktive oppføringer som er komplette for IPS',
    'denominator': 'Aktive oppføringer av typen AllergyIntolerance eller Condition',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'grains': ['national', 'region', 'county'],
    'dimensions': ['critical_information_type'],
    'additivity': ['breakdowns_to_total', 'counties_to_region', 'regions_to_nation'],
    'mandate':
        'Kritisk informasjon inneholder flere av de samme helseopplysningene som er del av den '
        'internasjonale standarden International Patient Summary (IPS)',
}) %}
with facts as (
    select
        period_end,
        health_region,
        county_code,
        critical_information_type,
        is_ips_complete,
        entries
    from {{ ref('int_metric_month_end_entries') }}
    where is_ips_complete is not null and {{ in_changed_periods('period_end') }}
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        coalesce(sum(facts.entries) filter (where facts.is_ips_complete), 0) as complete_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', metric) }}
    group by all
),

measured_types as (
    -- Only the types kept in AllergyIntolerance or Condition are measured.
    select type_id from {{ ref('critical_information_types') }}
    where resource_type in ('AllergyIntolerance', 'Condition')
),

all_types as (
    {{ metric_table(
        metric, 'cells',
        numerator='coalesce(cells.complete_entries, 0)',
        denominator='coalesce(cells.entries, 0)',
        value=percent('cells.complete_entries', 'cells.entries'),
    ) }}
)

select *
from all_types
where
    dimension_name <> 'critical_information_type'
    or dimension_value in (select measured_types.type_id from measured_types)
