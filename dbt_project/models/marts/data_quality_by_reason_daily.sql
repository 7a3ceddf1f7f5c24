-- Lines in quarantine per day their files arrived (Europe/Oslo) and reason: every reason on
-- every arrival day, zero where none, so a clean day is visible as clean.
with quarantined as (
    select
        files.arrived_on,
        lines.reason_code,
        count(*) as lines
    from {{ ref('stg_quarantine') }} as lines
    inner join {{ ref('stg_ingested_files') }} as files using (source_file)
    group by files.arrived_on, lines.reason_code
)

select
    days.arrived_on,
    reasons.reason_code,
    reasons.label_nb as reason_label,
    cast(coalesce(quarantined.lines, 0) as bigint) as lines
from (select distinct arrived_on from {{ ref('stg_ingested_files') }}) as days
cross join {{ ref('quarantine_reasons') }} as reasons
left join quarantined
    on days.arrived_on = quarantined.arrived_on and reasons.reason_code = quarantined.reason_code
