"""Reconciliation checks on ingestion, run by Dagster after each load.

Blocking checks stop the run before publishing, so the dashboard keeps the last good copy:
- every file's counters add up (lines read = loaded + duplicates + quarantined), and each
  counter equals the rows actually written for that file;
- the staging model holds exactly the loaded events, in total and on every event day.
A warning check flags a day whose event count fell by more than a share against the median
of the same weekday in the preceding weeks.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock

# A day is flagged when its events fall by more than this share below its weekday median.
DEFAULT_VOLUME_DROP_SHARE = 0.5
WEEKS_COMPARED = 8
RECENT_DAYS = 14


@contextmanager
def _read_only() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, read-only, in its pool and under its lock: DuckDB refuses a reader while
    another process writes, so a check started by another run waits for the writer to finish."""
    with warehouse_lock(paths()), duckdb.connect(str(paths().warehouse), read_only=True) as con:
        yield con


def file_reconciliation_failures(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Files whose counters do not add up or differ from the rows written for them."""
    return con.execute(
        """
        with written as (
            select f.source_file, f.lines_read, f.loaded, f.duplicates, f.quarantined,
                (select count(*) from raw.events e where e.source_file = f.source_file) as events_rows,
                (select count(*) from raw.duplicate_deliveries d where d.source_file = f.source_file) as duplicate_rows,
                (select count(*) from raw.quarantine q where q.source_file = f.source_file) as quarantine_rows
            from raw.ingested_files as f
        )
        select * from written
        where lines_read <> loaded + duplicates + quarantined
            or loaded <> events_rows or duplicates <> duplicate_rows or quarantined <> quarantine_rows
        order by source_file
        """
    ).fetchall()


def staging_reconciliation_failures(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Event days on which the staging model and the loaded events differ."""
    return con.execute(
        """
        with loaded as (
            select cast(timezone('Europe/Oslo', occurred_at) as date) as day, count(*) as events
            from raw.events group by 1
        ),
        staged as (select occurred_on as day, count(*) as events from main.stg_registration_events group by 1)
        select coalesce(loaded.day, staged.day) as day, loaded.events as loaded, staged.events as staged
        from loaded full outer join staged on loaded.day = staged.day
        where loaded.events is distinct from staged.events
        order by day
        """
    ).fetchall()


def volume_drops(con: duckdb.DuckDBPyConnection, share: float) -> list[tuple]:
    """Recent days (the last RECENT_DAYS of data) whose events fell more than `share` below the
    median of the same weekday over the preceding WEEKS_COMPARED weeks."""
    return con.execute(
        f"""
        with days as (
            select day::date as day, coalesce(events, 0) as events
            from generate_series(
                (select min(occurred_on) from main.stg_registration_events),
                (select max(occurred_on) from main.stg_registration_events),
                interval 1 day
            ) as series(day)
            left join (
                select occurred_on, count(*) as events from main.stg_registration_events group by 1
            ) as counted on counted.occurred_on = series.day
        ),
        compared as (
            select day, events,
                median(events) over (
                    partition by dayofweek(day) order by day
                    rows between {WEEKS_COMPARED} preceding and 1 preceding
                ) as weekday_median,
                count(*) over (
                    partition by dayofweek(day) order by day
                    rows between {WEEKS_COMPARED} preceding and 1 preceding
                ) as weeks
            from days
        )
        select day, events, weekday_median
        from compared
        where weeks = {WEEKS_COMPARED} and weekday_median > 0 and events < (1 - ?) * weekday_median
            and day > (select max(day) from days) - interval {RECENT_DAYS} day
        order by day
        """,
        [share],
    ).fetchall()


@asset_check(
    asset=AssetKey(["raw", "ingested_files"]),
    blocking=True,
    pool=POOL,
    description="Every file: lines read = loaded + duplicates + quarantined, and each equals the rows written.",
)
def files_reconcile() -> AssetCheckResult:
    with _read_only() as con:
        failures = file_reconciliation_failures(con)
        files = con.execute("select count(*) from raw.ingested_files").fetchone()[0]
    return AssetCheckResult(
        passed=not failures,
        metadata={"files": files, "failing_files": MetadataValue.json([row[0] for row in failures[:50]])},
    )


@asset_check(
    asset=AssetKey("stg_registration_events"),
    blocking=True,
    pool=POOL,
    description="The staging model holds exactly the loaded events, in total and on every event day.",
)
def staging_matches_loaded_events() -> AssetCheckResult:
    with _read_only() as con:
        failures = staging_reconciliation_failures(con)
        loaded = con.execute("select count(*) from raw.events").fetchone()[0]
        staged = con.execute("select count(*) from main.stg_registration_events").fetchone()[0]
    return AssetCheckResult(
        passed=not failures and loaded == staged,
        metadata={
            "loaded": loaded,
            "staged": staged,
            "failing_days": MetadataValue.json([str(r[0]) for r in failures[:50]]),
        },
    )


@asset_check(
    asset=AssetKey("stg_registration_events"),
    blocking=False,
    pool=POOL,
    description="Warns about days whose events fell sharply against the same weekday's recent median.",
)
def daily_volume_drop() -> AssetCheckResult:
    share = float(os.environ.get("KRITINFO_VOLUME_DROP_SHARE", DEFAULT_VOLUME_DROP_SHARE))
    with _read_only() as con:
        drops = volume_drops(con, share)
    return AssetCheckResult(
        passed=not drops,
        severity=AssetCheckSeverity.WARN,
        metadata={"drop_share": share, "days": MetadataValue.json([[str(d), e, m] for d, e, m in drops[-30:]])},
    )
