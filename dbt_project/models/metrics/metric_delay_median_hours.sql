-- The median delay in hours from recordedDate to arrival in the core record, over the entries
-- created in each month, by channel and region of the registering organisation.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Tid til kjernejournal, median',
    'definition':
        'Medianen av tiden fra oppføringen ble registrert i EPJ (recordedDate) til den ble lagret i '
        'kjernejournal, for nye oppføringer i måneden som har recordedDate. Hver oppføring telles '
        'én gang, ved første opprettelse. En recordedDate uten klokkeslett regnes fra midnatt norsk '
        'tid. Interpolert lineært mellom de to nærmeste verdiene.',
    'numerator': '',
    'denominator': 'Nye oppføringer i måneden med recordedDate',
    'unit': 'timer',
    'kind': 'quantile',
    'up_is_good': false,
    'grains': ['national', 'region'],
    'dimensions': ['channel'],
    'additivity': ['breakdowns_to_total', 'regions_to_nation'],
    'mandate':
        'Tiltaket vil også redusere tiden helsepersonell bruker på å lete etter slik informasjon.',
}) %}
{{ delay_quantile_metric(metric, 0.5) }}
