-- Organisations (organisation numbers) that sent at least one event through the API in each month,
-- by organisation type and by EPJ product (adoption per product); once in every region, type and
-- product they sent under, once nationally and in the total: parts do not add up.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Virksomheter som melder inn via API',
    'definition':
        'Antall virksomheter (organisasjonsnummer) som sendte minst én hendelse automatisk fra EPJ '
        'gjennom API-et for kritisk informasjon i måneden. En virksomhet som meldte inn som flere '
        'virksomhetstyper eller i flere regioner, telles med i hver av dem, men én gang nasjonalt '
        'og i totalen; delene summerer seg derfor ikke alltid til totalen. Etter EPJ-produkt viser '
        'tallet hvor mange virksomheter som bruker API-et med hvert produkt (produktnavnet uten '
        'versjon); en virksomhet med flere produkter telles under hvert.',
    'numerator': 'Virksomheter med minst én hendelse via API i måneden',
    'denominator': '',
    'unit': 'virksomheter',
    'kind': 'count',
    'up_is_good': true,
    'grains': ['national', 'region'],
    'dimensions': ['organisation_type', 'epj_product'],
    'additivity': [],
    'mandate':
        'De regionale helseforetakene skal delta på arenaene og skal gjennomføre planer for å kunne '
        'ta i bruk og trinnvis innføre tiltaket pasientens kritiske informasjon i alle regioner.',
}) %}
{{ api_senders_metric(metric, 'organisation_id') }}
