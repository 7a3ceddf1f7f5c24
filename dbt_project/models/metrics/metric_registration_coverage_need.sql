-- Persons with critical information registered at each month end in percent of the estimated need
-- (var estimated_need_share of the population), nationally, per region and per county they live
-- in: the coverage marts in the registry's shape. Only the numerator is a whole count (whole_counts):
-- the need is 5 % of the population.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Registreringsgrad av anslått behov',
    'definition':
        'Personer med minst én aktiv oppføring av kritisk informasjon ved månedsslutt, i prosent av '
        'det anslåtte behovet: 5 % av befolkningen (ehelse.no, e-helsemonitor). Kan bli over 100.',
    'numerator': 'Personer med minst én aktiv oppføring ved månedsslutt',
    'denominator': 'Anslått behov, 5 % av befolkningen',
    'unit': 'prosent',
    'kind': 'ratio',
    'up_is_good': true,
    'overview': 2,
    'grains': ['national', 'region', 'county'],
    'dimensions': [],
    'additivity': ['counties_to_region', 'regions_to_nation'],
    'whole_counts': ['numerator'],
    'numerator_repeats': 'persons_with_critical_info',
    'mandate':
        'Tiltaket skal bidra til å øke registreringsgraden nasjonalt, ved at helsepersonell kan '
        'registrere opplysningene i eget fagsystem – samtidig som data overføres automatisk til '
        'kjernejournalen.',
}) %}
{{ coverage_metric(metric, 'estimated_need', 'coverage_pct_need') }}
