-- Of the organisations that registered anything (any event) in each month, the share that sent
-- at least one event through the API; an organisation counts in every region and organisation type
-- it sent under (with what it sent under that region and type), once nationally and in the total.
{{ config(**incremental_by_period()) }}
{%- set metric = declare_metric({
    'name_nb': 'Andel registrerende virksomheter som bruker API',
    'definition':
        'Av virksomhetene som registrerte noe i kjernejournal i måneden (minst én hendelse, via API '
        'eller portal), andelen som sendte minst én hendelse gjennom API-et. En virksomhet som '
        'meldte inn som flere virksomhetstyper eller i flere regioner, telles i hver av dem med det '
        'den sendte der, og én gang nasjonalt og i totalen.',
    'numerator': 'Virksomheter med minst én hendelse via API i måneden',
    'denominator': 'Virksomheter med minst én hendelse i måneden',
    'unit': 'prosent',
    'kind': 'share',
    'up_is_good': true,
    'grains': ['national', 'region'],
    'dimensions': ['organisation_type'],
    'additivity': [],
    'mandate':
        'støtte de regionale helseforetakene med å oppdatere kritisk informasjon i kjernejournal '
        'direkte fra EPJ',
}) %}
with facts as (
    -- one row per organisation and month: whether it sent anything through the API
    select
        cast(last_day(occurred_on) as date) as period_end,
        organisation_health_region as health_region,
        organisation_type,
        organisation_id,
        bool_or(channel = 'api') as sent_through_api
    from {{ ref('stg_registration_events') }}
    where {{ in_changed_periods('cast(last_day(occurred_on) as date)') }}
    group by all
),

senders as (
    -- one row per organisation and cell: whether it sent anything there through the API (two
    -- counts of rows below, not two distinct counts: half the model's time)
    select
        period_end,
        {{ metric_cell_columns() }},
        organisation_id,
        bool_or(sent_through_api) as sent_through_api
    from {{ metric_cells_of('facts', metric) }}
    group by all
),

cells as (
    select
        period_end,
        grain,
        health_region,
        county_code,
        dimension_name,
        dimension_value,
        count(*) filter (where sent_through_api) as organisations_through_api,
        count(*) as organisations
    from senders
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.organisations_through_api, 0)',
    denominator='coalesce(cells.organisations, 0)',
    value=percent('cells.organisations_through_api', 'cells.organisations'),
) }}
