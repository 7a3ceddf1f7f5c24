"""The published tables as they were known at the end of a day: the data of an evaluation package.

A file's delivery time is when it landed (``raw.ingested_files.arrived_at``, its modification time
in landing/). An event was known on day D when any file holding it (its loaded line or a
redelivery) had landed by the end of D in Norway. The warehouse keeps every event with its file,
so the state of any past day is a filter on the raw tables, not a stored copy: the as-of build
copies the raw rows known on D into a scratch warehouse, runs the same dbt project (with
``report_until`` = D, so only months that had ended are reported), the same goal and rollout
evaluation and the same publishing with disclosure control. Late events delivered after D never
enter it, so rebuilding for D later gives the same tables.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.evaluation.effect import NotEstimable, effect_rows, estimate_rollout_effect, load_panel
from pipelines.evaluation.forecast import forecast_goals
from pipelines.evaluation.goals import Goals
from pipelines.evaluation.tables import replace_tables
from pipelines.ingest.warehouse import RAW_SCHEMA_DDL
from pipelines.publish.serving import publish
from pipelines.settings import DBT_BUILD_COMMAND, DBT_PROJECT_DIR, LOCAL_TIMEZONE, Paths, dbt_executable

# When each delivered file landed; files logged before arrived_at existed landed by their ingestion.
_FILES_KNOWN = """
    select *, coalesce(arrived_at, ingested_at) as delivered_at
    from source.raw.ingested_files
    where coalesce(arrived_at, ingested_at) < $cutoff
"""
# Each event's first delivery: its loaded line or any redelivery of it, whichever landed first.
_EVENTS_KNOWN = f"""
    with files as ({_FILES_KNOWN}),
    deliveries as (
        select event_id, source_file from source.raw.events
        union all
        select event_id, source_file from source.raw.duplicate_deliveries
    )
    select deliveries.event_id, min(files.delivered_at) as delivered_at
    from deliveries
    inner join files using (source_file)
    group by deliveries.event_id
"""


def cutoff_instant(as_of: date) -> datetime:
    """The end of the day in Norway: the first instant after it."""
    return datetime.combine(as_of + timedelta(days=1), time(), ZoneInfo(LOCAL_TIMEZONE))


def reference_month_end(as_of: date) -> date:
    """The end of the last month that had ended by the end of this day."""
    next_day = as_of + timedelta(days=1)
    return next_day.replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class AsOfTables:
    """A scratch folder holding the as-of warehouse and its published copy (serving.duckdb)."""

    as_of: date
    paths: Paths


def build_as_of(source: Paths, as_of: date, scratch: Path, goals: Goals) -> AsOfTables:
    """Build the published tables known at the end of ``as_of`` in ``scratch`` (an empty folder).

    The caller holds the warehouse lock: the source warehouse is opened read-only.
    """
    work = Paths(scratch)
    scratch.mkdir(parents=True)
    cutoff = cutoff_instant(as_of)
    with duckdb.connect(str(work.warehouse)) as con:
        con.execute(RAW_SCHEMA_DDL)
        con.execute(f"attach '{source.warehouse}' as source (read_only)")
        con.execute("set variable cutoff = ?", [cutoff])
        for statement in _COPY_KNOWN_RAW_ROWS:
            con.execute(statement.replace("$cutoff", "getvariable('cutoff')"))
        con.execute("detach source")
    _run_dbt(work, as_of)
    with duckdb.connect(str(work.warehouse)) as con:
        replace_tables(con, forecast_goals(con, goals))
        try:
            estimate = estimate_rollout_effect(load_panel(con))
        except NotEstimable:
            estimate = None  # as in the pipeline: early data leaves the effect tables empty
        replace_tables(con, effect_rows(estimate))
    from pipelines.transform.project import dbt_project

    publish(work, dbt_project.manifest_path)
    return AsOfTables(as_of, work)


_COPY_KNOWN_RAW_ROWS = [
    f"insert into raw.ingested_files by name select * exclude (delivered_at) from ({_FILES_KNOWN})",
    f"""insert into raw.events by name
        select events.* from source.raw.events as events
        inner join ({_EVENTS_KNOWN}) as known using (event_id)""",
    f"""insert into raw.duplicate_deliveries by name
        select duplicates.* from source.raw.duplicate_deliveries as duplicates
        inner join ({_FILES_KNOWN}) as files using (source_file)""",
    f"""insert into raw.quarantine by name
        select quarantine.* from source.raw.quarantine as quarantine
        inner join ({_FILES_KNOWN}) as files using (source_file)""",
    "insert into raw.rejected_files by name select * from source.raw.rejected_files where rejected_at < $cutoff",
]


def _run_dbt(work: Paths, as_of: date) -> None:
    """The project's whole build (models, seeds and tests) on the scratch warehouse."""
    target = work.home / "dbt-target"
    command = [
        dbt_executable(),
        *DBT_BUILD_COMMAND,
        "--quiet",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
        "--vars",
        json.dumps({"report_until": as_of.isoformat()}),
    ]
    # profiles.yml reads KRITINFO_HOME: the scratch folder, never the pipeline's warehouse.
    finished = subprocess.run(
        command, env={**os.environ, "KRITINFO_HOME": str(work.home)}, capture_output=True, text=True
    )
    if finished.returncode:
        raise AsOfBuildFailed(
            f"dbt build on the data known on {as_of} failed: {_failed_nodes(target) or finished.stdout[-2000:]}"
        )


def _failed_nodes(target: Path) -> str:
    try:
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return ""
    return ", ".join(r["unique_id"] for r in results if r["status"] in ("error", "fail"))


class PackageError(RuntimeError):
    """No package could be written; the message says why."""


class AsOfBuildFailed(PackageError):
    """The tables known on a day could not be built; no package is written."""


def late_events(source_con: duckdb.DuckDBPyConnection, previous_as_of: date, as_of: date) -> int:
    """Events of months the previous package reported, first delivered after its cut-off and by
    this one's: what revised its figures. ``source_con`` has the warehouse attached as ``source``."""
    previous_cutoff, cutoff = cutoff_instant(previous_as_of), cutoff_instant(as_of)
    query = _EVENTS_KNOWN.replace("$cutoff", "?")
    return source_con.execute(
        f"""select count(*) from ({query}) as known
            inner join source.raw.events using (event_id)
            where known.delivered_at >= ? and events.occurred_at < ?""",
        [cutoff, previous_cutoff, cutoff_instant(reference_month_end(previous_as_of))],
    ).fetchone()[0]
