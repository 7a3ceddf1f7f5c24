"""Whether a run has anything to do: the one decision `kritinfo run`, the landing sensor and the
daily schedule make before they start the pipeline.

A run is needed when a complete file waits in landing/ (other than a copy of a delivery ingested
already, which an idle `kritinfo run` archives), or when anything else the serving copy is
computed from differs from what the last successful publication recorded
(``KRITINFO_HOME/published_inputs.json``, written by the publish step right after the copy):

- ``raw``: the raw schema of the warehouse, summarised by row counts and latest timestamps. It
  changes with every ingested or rejected file, every quarantine replay, and with a run that
  ingested and then failed or was killed before it published;
- ``goals``: the bytes of goals.yml (or KRITINFO_GOALS_FILE), which the goal evaluation reads;
- ``dbt_project``: the bytes of every file of the dbt project (models, macros, seeds, tests);
- ``code``: the bytes of the pipelines/ package and of uv.lock (the versions of dbt, DuckDB and
  the rest), so new code republishes;
- ``settings``: the environment variables that change published cells (the suppression threshold);
- ``serving_copy``: the size and modification time of the published file, so a copy removed or
  replaced by hand is published again.

reporting.yml is not an input: it schedules the evaluation packages (their own job), and no
published table reads it. The late-arrival window needs no run of its own either: late events
arrive in new files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.landing import ingested_name, inspect, ready_files
from pipelines.ingest.rejected import shown_name
from pipelines.settings import REPO_ROOT, Paths, bounds, dbt_project_dir, dbt_project_files, goals_path
from pipelines.single_writer import warehouse_lock

# The raw tables and the column that dates their rows: with the row count, enough to see any
# ingestion, rejection or replay (each adds rows or moves a timestamp).
RAW_TABLE_TIMES = {
    "events": "ingested_at",
    "quarantine": "quarantined_at",
    "duplicate_deliveries": "ingested_at",
    "ingested_files": "ingested_at",
    "rejected_files": "rejected_at",
    "quarantine_replays": "replayed_at",
}
# A replay moves lines from quarantined to loaded in place: their sums show it.
RAW_FILE_SUMS = "sum(lines_read), sum(loaded), sum(duplicates), sum(quarantined)"
# Environment variables whose values change what is published.
PUBLISHING_SETTINGS = ("KRITINFO_SUPPRESSION_THRESHOLD",)


@dataclass(frozen=True)
class RunDecision:
    """Whether a run is needed, why (or why not), and ``key``, which identifies what the run would
    be over (the waiting files, or the inputs), so one state never starts two runs."""

    needed: bool
    reason: str
    key: str
    # Landing files whose deliveries are ingested already (sent again), by the name each was
    # ingested under: an idle run archives them, as ingestion would.
    sent_again: dict[str, str] = field(default_factory=dict)


NOTHING_NEW = "nothing new since the last publication (no file in landing/, no input changed)"


def decide(paths: Paths, settled_before: float | None = None) -> RunDecision:
    """Whether a run is needed, and over what. Only landing files modified before
    ``settled_before`` (a time.time() value) count; by default every ready file does.

    Reads the warehouse under its lock (re-entrant; WarehouseBusy when another process keeps it
    beyond the lock timeout)."""
    waiting = waiting_files(paths, time.time() if settled_before is None else settled_before)
    if not paths.warehouse.exists():
        if waiting:
            return _new_files(waiting, len(waiting))
        return RunDecision(False, "nothing has been delivered yet (landing/ is empty)", "")
    with warehouse_lock(paths):
        sent_again = _sent_again(paths, waiting)
        if len(sent_again) < len(waiting):
            return _new_files(waiting, len(waiting) - len(sent_again))
        inputs = current_inputs(paths)
    key = _digest(f"{part}={value}" for part, value in sorted(inputs.items()))
    try:
        recorded = json.loads(paths.published_inputs.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return RunDecision(True, "the inputs of the published copy are not recorded", key, sent_again)
    changed = sorted(part for part, value in inputs.items() if recorded.get(part) != value)
    if changed:
        return RunDecision(True, f"changed since the last publication: {', '.join(changed)}", key, sent_again)
    if sent_again:
        reason = f"nothing new since the last publication ({len(sent_again)} files in landing/ were sent again)"
        return RunDecision(False, reason, key, sent_again)
    return RunDecision(False, NOTHING_NEW, key)


def record_publication(paths: Paths) -> None:
    """Record the inputs of the copy just published (call under the warehouse lock, after the
    copy is in place). Written to a temporary name and renamed: a half-written record is never read."""
    temporary = paths.published_inputs.with_name(f".{paths.published_inputs.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(current_inputs(paths), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, paths.published_inputs)


def waiting_files(paths: Paths, settled_before: float) -> list[Path]:
    """Each ready landing file modified before ``settled_before``."""
    # lstat: a link still starts a run, which rejects it (links are never followed).
    return [path for path in ready_files(paths.landing) if path.lstat().st_mtime <= settled_before]


def _new_files(waiting: list[Path], new: int) -> RunDecision:
    return RunDecision(True, f"{new} new files in landing/", _digest(map(_identity, waiting)))


def _identity(path: Path) -> str:
    """A waiting file as name (shown masked), time and size: a new file under a used name is a new delivery."""
    status = path.lstat()
    return f"{shown_name(path.name)}:{status.st_mtime_ns}:{status.st_size}"


def _sent_again(paths: Paths, waiting: list[Path]) -> dict[str, str]:
    """The waiting files whose deliveries are ingested already, with the name each was ingested
    under. Only a file under an ingested name is read (hashed); one that cannot be read as an
    event file is not sent again: the run rejects it."""
    if not waiting:
        return {}
    import duckdb  # as in _raw_summary

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        logged = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'ingested_files'"
        ).fetchone()[0]
        ingested = dict(con.execute("select source_file, sha256 from raw.ingested_files").fetchall()) if logged else {}
    max_bytes = bounds().max_file_bytes
    sent_again = {}
    for path in waiting:
        if path.name in ingested:
            inspection = inspect(path, max_bytes)
            name = None if inspection.problem else ingested_name(path.name, inspection.sha256, ingested)
            if name:
                sent_again[path.name] = name
    return sent_again


def current_inputs(paths: Paths) -> dict[str, str]:
    """Each input of the serving copy, as a short text that changes whenever the input does."""
    return {
        "raw": _raw_summary(paths.warehouse),
        "goals": _files_digest([goals_path()], goals_path().parent),
        "dbt_project": dbt_project_digest(),
        "code": _files_digest([*sorted((REPO_ROOT / "pipelines").rglob("*.py")), REPO_ROOT / "uv.lock"], REPO_ROOT),
        "settings": json.dumps({name: os.environ.get(name) for name in PUBLISHING_SETTINGS}),
        "serving_copy": _file_identity(paths.serving),
    }


def dbt_project_digest() -> str:
    """Changes whenever a file of the dbt project (models, macros, seeds, tests) does."""
    return _files_digest(dbt_project_files(dbt_project_dir()), dbt_project_dir())


def _raw_summary(warehouse: Path) -> str:
    import duckdb  # here: the sensor and an idle `kritinfo run` pay for it only when they get this far

    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = {
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        }
        figures = {
            table: con.execute(f"select count(*), max({column})::varchar from raw.{table}").fetchone()
            for table, column in RAW_TABLE_TIMES.items()
            if table in present
        }
        if "ingested_files" in present:
            figures["file_lines"] = con.execute(f"select {RAW_FILE_SUMS} from raw.ingested_files").fetchone()
    return json.dumps(figures, default=str, sort_keys=True)


def _files_digest(files: Iterable[Path], relative_to: Path) -> str:
    """sha256 of the files' names (relative, so a copied home or project is the same) and bytes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(relative_to)).encode())
        digest.update(path.read_bytes() if path.exists() else b"\0absent")
    return digest.hexdigest()


def _file_identity(path: Path) -> str:
    if not path.exists():
        return "absent"
    status = path.stat()
    return f"{status.st_size}:{status.st_mtime_ns}"


def _digest(texts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()
