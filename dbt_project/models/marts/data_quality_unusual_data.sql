-- Unusual but valid data: what contract v1.1 allows and the figures handle as docs/definitions.md
-- says, counted over all events loaded so producers and analysts see how often it happens. Never a
-- reason to stop a run. Every finding has a row (zero where it never happened).
-- Not materialized: each finding reads only its own columns of the events (all of them, kept
-- once for the six readers: 0.24 s against 0.17 s at national scale).
with events as not materialized (
    select
        *,
        cast(date_trunc('month', occurred_on) as date) as occurred_month
    from {{ ref('stg_registration_events') }}
),

organisation_months as (
    select
        organisation_id,
        occurred_month,
        count(distinct organisation_type) as organisation_types,
        count(distinct organisation_health_region) as health_regions
    from events
    group by all
),

entries as (
    select
        entry_id,
        count(*) filter (where event_type = 'created') as creations,
        max(occurred_month) as last_month
    from events
    group by entry_id
),

creations_not_active as (
    select
        creations.entry_id,
        creations.created_month
    from {{ ref('int_entry_creations') }} as creations
    inner join events using (event_id)
    where not {{ leaves_entry_active('events') }}
),

product_spellings as (
    select
        epj_product,
        count(distinct source_system) as spellings,
        max(occurred_month) as last_month
    from events
    group by epj_product
),

findings as (
    select
        'organisation_several_types' as finding,
        count(distinct organisation_id) as count,
        max(occurred_month) as last_month
    from organisation_months
    where organisation_types > 1
    union all
    select
        'organisation_several_regions',
        count(distinct organisation_id),
        max(occurred_month)
    from organisation_months
    where health_regions > 1
    union all
    select
        'entry_without_created',
        count(*),
        max(last_month)
    from entries
    where creations = 0
    union all
    select
        'entry_created_more_than_once',
        count(*),
        max(last_month)
    from entries
    where creations > 1
    union all
    select
        'entry_created_not_active',
        count(*),
        max(created_month)
    from creations_not_active
    union all
    select
        'version_not_numeric',
        count(*),
        max(occurred_month)
    from events
    where resource_version_number is null
    union all
    select
        'epj_product_several_spellings',
        count(*),
        max(last_month)
    from product_spellings
    where spellings > 1
)

select
    findings.finding,
    labels.label_nb,
    labels.unit_nb,
    cast(findings.count as bigint) as count,
    findings.last_month
from findings
inner join (
    values
    (
        'organisation_several_types',
        'Virksomheter som meldte inn som flere virksomhetstyper i samme måned (telles i hver type)',
        'virksomheter'
    ),
    (
        'organisation_several_regions',
        'Virksomheter som meldte inn i flere helseregioner i samme måned (telles i hver region)',
        'virksomheter'
    ),
    ('entry_without_created', 'Oppføringer uten hendelse av typen created (ikke nye oppføringer)', 'oppføringer'),
    (
        'entry_created_more_than_once',
        'Oppføringer med mer enn én created-hendelse (den første teller som ny)',
        'oppføringer'
    ),
    (
        'entry_created_not_active',
        'Oppføringer som ikke var aktive da de ble opprettet (for eksempel feilført)',
        'oppføringer'
    ),
    ('version_not_numeric', 'Hendelser med versjon (meta.versionId) som ikke er et tall', 'hendelser'),
    ('epj_product_several_spellings', 'EPJ-produkter sendt med flere skrivemåter (regnet som ett produkt)', 'produkter')
) as labels (finding, label_nb, unit_nb) on findings.finding = labels.finding
