-- Every stretch of time in which a person has at least one active drug-reaction entry while living
-- in one county: the person's drug-reaction entry segments in that county merged where they
-- overlap or touch (a person lives in one county at a time, so the stretches of one person never
-- overlap). valid_from inclusive, valid_to exclusive (null: still so). Rebuilt per touched person
-- (macros/touched_keys.sql).
{{ config(**incremental_by('patient_pseudonym')) }}

with drug_reactions as (
    -- One row per start day: the running windows below need a unique order, or rows that tie
    -- would be numbered in whatever order the parallel sort leaves them.
    select
        patient_pseudonym,
        county_code,
        health_region,
        valid_from,
        max(coalesce(valid_to, date '9999-12-31')) as valid_to
    from {{ ref('int_metric_entry_segments') }}
    where critical_information_type = 'drug-reaction' and {{ only_touched('patient_pseudonym') }}
    group by patient_pseudonym, county_code, health_region, valid_from
),

reached as (
    -- how far the person's earlier segments in the county reach
    select
        *,
        max(valid_to) over (
            partition by patient_pseudonym, county_code
            order by valid_from
            rows between unbounded preceding and 1 preceding
        ) as reached_to
    from drug_reactions
),

numbered as (
    -- a segment starting after everything before it opens a new stretch
    select
        *,
        sum(case when reached_to is null or reached_to < valid_from then 1 else 0 end) over (
            partition by patient_pseudonym, county_code
            order by valid_from
            rows between unbounded preceding and current row
        ) as stretch
    from reached
)

select
    patient_pseudonym,
    county_code,
    health_region,
    min(valid_from) as valid_from,
    nullif(max(valid_to), date '9999-12-31') as valid_to,
    current_timestamp as built_at
from numbered
group by patient_pseudonym, county_code, health_region, stretch
