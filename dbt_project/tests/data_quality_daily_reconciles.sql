-- Fails with each arrival day whose lines read are not loaded + duplicates + quarantined.
select
    arrived_on,
    lines_read,
    loaded,
    duplicates,
    quarantined
from {{ ref('data_quality_daily') }}
where lines_read <> loaded + duplicates + quarantined
