-- Every metric of the registry has figures in `metrics` (its periods and latest period end) once
-- the data hold a complete month. Before that, in the first month of a history, no metric has
-- any, and the registry is published with empty freshness rather than refused.
select metric_id
from {{ ref('metric_definitions') }}
where
    (periods is null or latest_period_end is null)
    and exists (select 1 from {{ ref('int_month_ends') }})
