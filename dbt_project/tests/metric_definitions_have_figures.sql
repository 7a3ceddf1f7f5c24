-- Every metric of the registry has figures in `metrics` (its periods and latest period end) once
-- the data hold a complete month of the mandate's years (seed mandate_budget): the cost per new
-- person divides a year's budget, so a history of months before them gives it none. Before that
-- (the first month of a history, or a history from before 2024) a metric may have none, and the
-- registry is published with empty freshness rather than refused.
select metric_id
from {{ ref('metric_definitions') }}
where
    (periods is null or latest_period_end is null)
    and exists (
        select 1
        from {{ ref('int_month_ends') }} as month_ends
        where year(month_ends.period_end) in (select budget.year from {{ ref('mandate_budget') }} as budget)
    )
