-- The breakdowns a metric can be reported by, each with every value it takes: the total ('all'),
-- the channels and organisation types seen in the events, the types of critical information, and
-- the EPJ products that sent through the API (the core record's own portal is not one).
select
    'total' as dimension_name,
    'all' as dimension_value
union all
select distinct
    'channel',
    channel
from {{ ref('stg_registration_events') }}
union all
select distinct
    'organisation_type',
    organisation_type
from {{ ref('stg_registration_events') }}
union all
select
    'critical_information_type',
    type_id
from {{ ref('critical_information_types') }}
union all
select distinct
    'epj_product',
    epj_product
from {{ ref('stg_registration_events') }}
where channel = 'api' and epj_product <> 'kjernejournal-portal'
