-- One row per ingested landing file with its line counts.
select
    source_file,
    size_bytes,
    lines_read,
    blank_lines,
    loaded,
    duplicates,
    quarantined,
    ingested_at
from {{ source('raw', 'ingested_files') }}
