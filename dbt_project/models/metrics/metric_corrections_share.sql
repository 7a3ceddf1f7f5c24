-- Of the new entries in each month (int_entry_creations), the share corrected: an event later than
-- the creating event in entry order leaves the entry not active (inactivated or entered in error,
-- by event type or by a status; docs/definitions.md), as known from all events loaded
-- (int_entry_creations.is_corrected_later); by channel and region of the registering organisation
-- and by type of critical information.
{{ config(**incremental_by_period(with_creations_of_changed_entries=true)) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel senere rettet eller inaktivert',
    'definition':
        'Av oppføringene som ble opprettet i måneden, andelen som senere er markert som feilført '
        '(entered-in-error) eller inaktivert, slik det er kjent i siste data: en senere hendelse '
        'gjør oppføringen ikke-aktiv, ved hendelsestype eller status. Selve opprettelsen teller '
        'ikke; en oppføring som ble opprettet som feilført, er ikke senere rettet. Siste måneder '
        'øker etter hvert som rettinger kommer.',
    'numerator': 'Nye oppføringer i måneden som senere er feilført eller inaktivert',
    'denominator': 'Nye oppføringer i måneden',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': false,
    'grains': ['national', 'region'],
    'dimensions': ['channel', 'critical_information_type'],
    'additivity': ['breakdowns_to_total', 'regions_to_nation'],
    'mandate':
        'Tiltaket skal sikre at kritisk informasjon om pasienten blir registrert og kan deles med '
        'annet helsepersonell med tjenstlig behov på tvers av nivåer og aktører.',
}) %}
with facts as (
    select
        cast(last_day(created_on) as date) as period_end,
        health_region,
        channel,
        critical_information_type,
        count(*) filter (where is_corrected_later) as corrected_entries,
        count(*) as entries
    from {{ ref('int_entry_creations') }}
    where {{ in_changed_periods('last_day(created_on)', with_creations_of_changed_entries=true) }}
    group by all
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.corrected_entries) as corrected_entries,
        sum(facts.entries) as entries
    from {{ metric_cells_of('facts', metric) }}
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.corrected_entries, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.corrected_entries', 'cells.entries'),
    with_creations_of_changed_entries=true,
) }}
