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


def staged_day_range(context: AssetExecutionContext) -> tuple[str, str]:
    """The run's days as dbt vars, opened at the ends of the partition set."""
    keys = EVENT_DAYS.get_partition_keys()
    window = context.partition_key_range
    first = "0001-01-01" if window.start == keys[0] else window.start
    last = "9999-12-31" if window.end == keys[-1] else window.end
    return first, last


def all_days_tags() -> dict[str, str]:
    keys = EVENT_DAYS.get_partition_keys()
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def recent_days_tags(today: date) -> dict[str, str]:
    """The late-arrival window ending at today's partition."""
    keys = EVENT_DAYS.get_partition_keys()
    start = max((today - timedelta(days=LATE_ARRIVAL_DAYS)).isoformat(), keys[0])
    return {RANGE_START_TAG: start, RANGE_END_TAG: keys[-1]}
