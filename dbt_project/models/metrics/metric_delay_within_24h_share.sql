-- Of the entries created in each month with a recordedDate (int_metric_creation_delays), the share
-- that reached the core record at most 24 hours after it; by channel and region of the
-- registering organisation.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel i kjernejournal innen 24 timer',
    'definition':
        'Av de nye oppføringene i måneden som har recordedDate, andelen som ble lagret i '
        'kjernejournal senest 24 timer etter at de ble registrert i EPJ. Hver oppføring telles én '
        'gang, ved første opprettelse; en recordedDate uten klokkeslett regnes fra midnatt norsk '
        'tid.',
    'numerator': 'Nye oppføringer lagret i kjernejournal innen 24 timer',
    'denominator': 'Nye oppføringer i måneden med recordedDate',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'grains': ['national', 'region'],
    'dimensions': ['channel'],
    'additivity': ['breakdowns_to_total', 'regions_to_nation'],
    'mandate':
        'Tiltaket vil også redusere tiden helsepersonell bruker på å lete etter slik informasjon.',
}) %}
{{ creation_delay_metric(
    metric, 'count(*) filter (where delay_hours <= 24) as entries_within_24h',
    numerator='coalesce(cells.entries_within_24h, 0)',
    denominator='coalesce(cells.entries, 0)',
    value=percent('cells.entries_within_24h', 'cells.entries'),
) }}
