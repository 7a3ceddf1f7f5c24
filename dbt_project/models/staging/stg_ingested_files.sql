-- One row per ingested landing file with its line counts and the day it arrived.
select
    source_file,
    size_bytes,
    lines_read,
    blank_lines,
    loaded,
    duplicates,
    quarantined,
    ingested_at,
    -- Files logged before arrived_at was recorded arrived at the latest when they were ingested.
    coalesce(arrived_at, ingested_at) as arrived_at,
    {{ local_date('coalesce(arrived_at, ingested_at)') }} as arrived_on
from {{ source('raw', 'ingested_files') }}
