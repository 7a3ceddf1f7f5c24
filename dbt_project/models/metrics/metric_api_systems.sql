-- EPJ products (source.system normalised to its product, docs/definitions.md; the core record's own
-- portal is not one) that sent at least one event through the API in each month, once in every
-- region and organisation type they sent under, once nationally: parts do not add up.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'EPJ-systemer som melder inn via API',
    'definition':
        'Antall EPJ-produkter som sendte minst én hendelse gjennom API-et for kritisk informasjon i '
        'måneden. Produktet er systemnavnet uten versjonsnummer og uten forskjell på store og små '
        'bokstaver (DIPS Arena 21.3 og dips arena er samme produkt). Et produkt som brukes i flere '
        'regioner eller av flere virksomhetstyper, telles i hver av dem, men én gang nasjonalt og i '
        'totalen.',
    'numerator': 'EPJ-systemer med minst én hendelse via API i måneden',
    'denominator': '',
    'unit': 'systemer',
    'kind': 'count',
    'up_is_good': true,
    'grains': ['national', 'region'],
    'dimensions': ['organisation_type'],
    'additivity': [],
    'mandate':
        'bidra til at alle EPJ-leverandørene kan registrere og vise kritisk informasjon i '
        'kjernejournal via API',
}) %}
{{ api_senders_metric(metric, 'epj_product', "epj_product <> 'kjernejournal-portal'") }}
