-- Per day files arrived (Europe/Oslo): files, lines read and what became of them. A replayed
-- line that passed has moved from quarantined to loaded or duplicates in its file's counts.
select
    arrived_on,
    cast(count(*) as bigint) as files,
    cast(sum(lines_read) as bigint) as lines_read,
    cast(sum(loaded) as bigint) as loaded,
    cast(sum(duplicates) as bigint) as duplicates,
    cast(sum(quarantined) as bigint) as quarantined,
    100.0 * sum(quarantined) / nullif(sum(lines_read), 0) as quarantined_pct
from {{ ref('stg_ingested_files') }}
group by arrived_on
