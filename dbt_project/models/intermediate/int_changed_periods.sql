-- The reported month ends whose figures the events ingested since the last build of the models
-- rebuilt per changed period (macros/changed_periods.sql) can change. Reached by the new events:
-- every month end on or after the earliest day of those events (an entry's state changes from the
-- day of its event on, in entry order, and so do its person's; a month's new entries and events
-- are its own). Besides, the creation months of the entries they touch: what later events did to an
-- entry counts in the month it was created in. Every month end is reached when the events bring a
-- breakdown value not seen before (every month reports each value, zero where it is absent), or
-- when one of those models has no build yet.
{%- set rebuilt_by_period = models_rebuilt_by_period() %}

with marks as (
    select
        count(*) = {{ rebuilt_by_period | length }} as every_model_built,
        min(ingested_through) as ingested_through
    from kritinfo_state.ingested_through
    where model in ('{{ rebuilt_by_period | join("', '") }}')
),

new_events as (
    select
        events.entry_id,
        events.occurred_on
    from {{ ref('stg_registration_events') }} as events, marks
    where events.ingested_at > marks.ingested_through
),

reach as (
    select
        not marks.every_model_built
        or exists (
            select 1 from {{ ref('int_metric_dimension_values') }} as breakdowns
            where breakdowns.first_ingested_at > marks.ingested_through
        ) as every_month,
        (select last_day(min(new_events.occurred_on)) from new_events) as from_month_end
    from marks
)

select
    month_ends.period_end,
    coalesce(reach.every_month or month_ends.period_end >= reach.from_month_end, false) as reached_by_new_events
from {{ ref('int_month_ends') }} as month_ends, reach
where
    reached_by_new_events
    or month_ends.period_end in (
        select last_day(creations.created_on)
        from {{ ref('int_entry_creations') }} as creations
        where creations.entry_id in (select new_events.entry_id from new_events)
    )
