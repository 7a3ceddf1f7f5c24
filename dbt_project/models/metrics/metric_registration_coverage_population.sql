-- Persons with critical information registered at each month end in percent of the population,
-- nationally, per region and per county they live in: the coverage marts in the registry's shape.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Registreringsgrad i befolkningen',
    'definition':
        'Andel av befolkningen som har kritisk informasjon registrert i kjernejournal: personer med '
        'minst én aktiv oppføring ved utgangen av siste dag i måneden, talt i fylket de bor i den '
        'dagen, i prosent av befolkningen.',
    'numerator': 'Personer med minst én aktiv oppføring ved månedsslutt',
    'denominator': 'Befolkningen (SSB via Prop. 127 S (2021–2022), 1. januar 2022)',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'overview': 1,
    'grains': ['national', 'region', 'county'],
    'dimensions': [],
    'additivity': ['counties_to_region', 'regions_to_nation'],
    'numerator_repeats': 'persons_with_critical_info',
    'mandate':
        'Dette skal bidra til at flere innbyggere får registrert kritisk informasjonen i '
        'kjernejournal og dermed redusere risiko for feilbehandling, som for eksempel alvorlige '
        'legemiddelreaksjoner.',
}) %}
{{ coverage_metric(metric, 'population', 'coverage_pct_population') }}
