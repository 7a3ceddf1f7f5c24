-- The breakdowns a metric can be reported by, each with every value it takes: the total ('all'),
-- the channels and organisation types seen in the events, and the types of critical information.
select 'total' as dimension_name, 'all' as dimension_value
union all
select distinct 'channel', channel
from {{ ref('stg_registration_events') }}
union all
select distinct 'organisation_type', organisation_type
from {{ ref('stg_registration_events') }}
union all
select 'critical_information_type', type_id
from {{ ref('critical_information_types') }}
