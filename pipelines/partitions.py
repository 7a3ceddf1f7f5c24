"""Event-day partitions: the calendar day in Norway on which an event occurred.

Days are partitions from the initiative's start (2024-01-01). The first partition also covers
everything before it (the core record's history since 2014, a baseline that no late event can
change any more) and the last everything after it, so a run over all partitions stages every
event whatever its date. Dagster records each partition of a run (two SQLite writes each), so
the number of partitions a run covers is what a run costs: the history as one slice keeps a
first run at about a thousand partitions instead of nearly five thousand.
"""

from datetime import date, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition

from pipelines.settings import LOCAL_TIMEZONE

FIRST_EVENT_DAY = "2024-01-01"
# Events arrive up to 30 days late: routine runs restage this many days back.
LATE_ARRIVAL_DAYS = 30

EVENT_DAYS = DailyPartitionsDefinition(start_date=FIRST_EVENT_DAY, timezone=LOCAL_TIMEZONE, end_offset=1)

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def staged_days_environment(context: AssetExecutionContext) -> dict[str, str]:
    """The run's event days for dbt (KRITINFO_MIN_DAY, KRITINFO_MAX_DAY; see
    macros/restage_days.sql), opened at the ends of the partition set. An unpartitioned step reads
    the run's partition range from its tags, so every dbt invocation of a run sees the same days;
    without a range, all days. Environment variables read only while a model runs, not dbt vars:
    dbt parses the whole project again whenever its vars change, which was once a day."""
    keys = EVENT_DAYS.get_partition_keys()
    if context.has_partition_key_range:
        start, end = context.partition_key_range.start, context.partition_key_range.end
    else:
        tags = context.run.tags
        start, end = tags.get(RANGE_START_TAG, keys[0]), tags.get(RANGE_END_TAG, keys[-1])
    return {
        "KRITINFO_MIN_DAY": "0001-01-01" if start == keys[0] else start,
        "KRITINFO_MAX_DAY": "9999-12-31" if end == keys[-1] else end,
    }


def all_days_tags() -> dict[str, str]:
    keys = EVENT_DAYS.get_partition_keys()
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def recent_days_tags(today: date) -> dict[str, str]:
    """The late-arrival window ending at today's partition."""
    keys = EVENT_DAYS.get_partition_keys()
    start = max((today - timedelta(days=LATE_ARRIVAL_DAYS)).isoformat(), keys[0])
    return {RANGE_START_TAG: start, RANGE_END_TAG: keys[-1]}
