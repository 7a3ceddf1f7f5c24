-- One row per line in quarantine now: where it came from and why (the masked text stays in raw).
select
    source_file,
    source_line,
    reason_code,
    reason,
    quarantined_at
from {{ source('raw', 'quarantine') }}
