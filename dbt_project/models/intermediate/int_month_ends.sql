-- The month ends the platform reports: from the first month with events to the last month that is
-- complete in the data (its last day is not after the latest event day), and not after the var
-- report_until (an evaluation package as of a day reports the months that ended by that day).
with bounds as (
    select
        min(occurred_on) as first_day,
        max(occurred_on) as last_day
    from {{ ref('stg_registration_events') }}
)

select cast(last_day(month_start) as date) as period_end
from bounds,
    generate_series(date_trunc('month', first_day), date_trunc('month', last_day), interval 1 month)
        as months (month_start)
where last_day(month_start) <= least(last_day, cast('{{ var("report_until") }}' as date))
