-- Fails with each arrival day whose quarantined lines per reason do not add up to the day's
-- quarantined lines (the file counts and the quarantine table must tell the same story).
select
    daily.arrived_on,
    daily.quarantined,
    sum(by_reason.lines) as by_reason
from {{ ref('data_quality_daily') }} as daily
inner join {{ ref('data_quality_by_reason_daily') }} as by_reason using (arrived_on)
group by daily.arrived_on, daily.quarantined
having daily.quarantined <> sum(by_reason.lines)
