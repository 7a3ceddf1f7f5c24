-- The breakdowns a metric can be reported by, each with every value it takes: the total ('all'),
-- the channels and organisation types seen in the events, the types of critical information, and
-- the EPJ products that sent through the API (the core record's own portal is not one). A value
-- seen in the events has the first ingestion that brought it (int_changed_periods: a new value
-- changes every month).
select
    'total' as dimension_name,
    'all' as dimension_value,
    cast(null as timestamptz) as first_ingested_at
union all
select
    'channel',
    channel,
    min(ingested_at)
from {{ ref('stg_registration_events') }}
group by channel
union all
select
    'organisation_type',
    organisation_type,
    min(ingested_at)
from {{ ref('stg_registration_events') }}
group by organisation_type
union all
select
    'critical_information_type',
    type_id,
    null
from {{ ref('critical_information_types') }}
union all
select
    'epj_product',
    epj_product,
    min(ingested_at)
from {{ ref('stg_registration_events') }}
where channel = 'api' and epj_product <> 'kjernejournal-portal'
group by epj_product
