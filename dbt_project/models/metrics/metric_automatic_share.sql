-- New and changed entries (created and updated events) in each month that arrived automatically
-- through the API, in percent of all of them; counted in the region of the registering
-- organisation, by organisation type and by type of critical information.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel automatisk innmeldt via API',
    'definition':
        'Andelen av nye og endrede oppføringer (hendelser av typen created og updated) i måneden '
        'som kom automatisk fra virksomhetens EPJ gjennom API-et for kritisk informasjon, i stedet '
        'for å bli registrert manuelt i kjernejournalportalen. Regnes i helseregionen til '
        'virksomheten som registrerte.',
    'numerator': 'Nye og endrede oppføringer i måneden som kom via API',
    'denominator': 'Alle nye og endrede oppføringer i måneden (API og portal)',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'overview': 3,
    'grains': ['national', 'region'],
    'dimensions': ['organisation_type', 'critical_information_type'],
    'additivity': ['breakdowns_to_total', 'regions_to_nation'],
    'mandate':
        'Tiltaket skal bidra til å øke registreringsgraden nasjonalt, ved at helsepersonell kan '
        'registrere opplysningene i eget fagsystem – samtidig som data overføres automatisk til '
        'kjernejournalen.',
}) %}
with facts as (
    select
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        critical_information_type,
        count(*) filter (where channel = 'api') as api_events,
        count(*) as events
    from {{ ref('stg_registration_events') }}
    where event_type in ('created', 'updated') and {{ in_changed_periods('cast(last_day(occurred_on) as date)') }}
    group by all
),

cells as (
    select
        period_end,
        {{ metric_cell_columns() }},
        sum(facts.api_events) as api_events,
        sum(facts.events) as events
    from {{ metric_cells_of('facts', metric) }}
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.api_events, 0)',
    denominator='coalesce(cells.events, 0)',
    value=percent('cells.api_events', 'cells.events'),
) }}
