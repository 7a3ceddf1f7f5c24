-- The areas a metric can be reported for: Norway, each regional health authority, each county
-- (with the region it belongs to).
select
    'national' as grain,
    cast(null as varchar) as health_region,
    cast(null as varchar) as county_code
union all
select
    'region',
    health_region,
    null
from {{ ref('health_regions') }}
union all
select distinct
    'county',
    health_region,
    county_code
from {{ ref('counties') }}
