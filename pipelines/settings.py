"""Every path kritinfo uses, derived in one place from KRITINFO_HOME.

All state lives under one data directory (default ``./data`` at the repository root):
``landing/`` receives event files, ``archive/`` keeps them once ingested (quarantined lines masked),
``warehouse.duckdb`` is the pipeline's database and ``serving.duckdb`` the published read-only
copy the dashboard and exports read; ``dagster/`` and ``dbt/`` hold the runs' history and files,
bounded by ``Retention``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
DASHBOARD_APP = REPO_ROOT / "dashboards" / "app.py"
GOALS_FILE = REPO_ROOT / "goals.yml"

# Europe/Oslo decides which calendar day an event belongs to.
LOCAL_TIMEZONE = "Europe/Oslo"


def dbt_project_dir() -> Path:
    """The dbt project: KRITINFO_DBT_PROJECT_DIR when set (a copy, as tests/pipeline/test_adding_a_metric.py
    makes), else the repository's dbt_project/. Read when asked, so a run started with it set uses it."""
    return Path(os.environ.get("KRITINFO_DBT_PROJECT_DIR") or DBT_PROJECT_DIR)


def goals_path() -> Path:
    """goals.yml at the repository root, or the file named by KRITINFO_GOALS_FILE."""
    return Path(os.environ.get("KRITINFO_GOALS_FILE") or GOALS_FILE)


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def archive(self) -> Path:
        """Ingested files, moved out of landing/ with every quarantined line masked."""
        return self.home / "archive"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def lock(self) -> Path:
        """Held by the one process writing the warehouse (see pipelines/single_writer.py)."""
        return self.home / "warehouse.lock"

    @property
    def rejected(self) -> Path:
        """Landing files that could not be read as event files, moved out with their reason logged."""
        return self.home / "rejected"

    @property
    def published_inputs(self) -> Path:
        """What the serving copy was published from (pipelines/publication_inputs.py)."""
        return self.home / "published_inputs.json"

    @property
    def suppression_decisions(self) -> Path:
        """The last publication's disclosure decisions, by digest of each linked set of cells: no
        figure, only which positions of the set were hidden (pipelines/publish/disclosure.py)."""
        return self.home / "suppression_decisions.json"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dagster_event_logs(self) -> Path:
        """Dagster's SQLite event log: one database per run, and the index (Dagster's own layout)."""
        return self.dagster_home / "history" / "runs"

    def run_log(self, run_id: str) -> Path:
        """The log of one `kritinfo run`: Dagster's debug log and dbt's output (kept like its Dagster run)."""
        return self.dagster_home / "logs" / f"run-{run_id}.log"

    @property
    def dbt_runs(self) -> Path:
        """dbt's target and log files, one folder per run (bounded by ``Retention.dbt_runs``)."""
        return self.home / "dbt"

    @property
    def dbt_partial_parse(self) -> Path:
        """dbt skips parsing the unchanged files of the project when it finds the partial parse of
        an earlier invocation with the same profile and vars. The profile names this home's
        warehouse, so the repository's (made by `kritinfo prepare`, perhaps for another home) does
        not serve: each home keeps the latest of its own, beside the runs' folders (housekeeping
        prunes only those)."""
        return self.dbt_runs / "partial_parse.msgpack"

    @property
    def dbt_compiled_templates(self) -> Path:
        """The Python code of the Jinja templates dbt compiled in this home's runs (see
        pipelines/transform/dbt_forks.py: CompiledTemplates), beside the partial parse."""
        return self.dbt_runs / "compiled_templates.marshal"

    @property
    def evaluation(self) -> Path:
        """Evaluation packages, one read-only folder per as-of day (pipelines/report/)."""
        return self.home / "evaluation"

    @property
    def commentary(self) -> Path:
        """The analysts' commentary for a report: ``<YYYY-MM-DD>.md``, optional, read when its package is built."""
        return self.home / "commentary"

    def ensure(self) -> Paths:
        for folder in (self.home, self.landing, self.archive, self.rejected, self.dagster_home, self.dbt_runs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


@dataclass(frozen=True)
class Retention:
    """How much history housekeeping keeps (pipelines/housekeeping.py, after every `kritinfo run`)."""

    dbt_runs: int = 3  # dbt's files of the newest runs: about 25 MB per run, only for debugging
    dagster_runs: int = 30  # runs in Dagster's storage, with their event logs (at least 1 is kept)
    archive_days: int = 365  # archived files, from when they were archived: a year of replays

    @classmethod
    def from_environment(cls) -> Retention:
        """KRITINFO_KEEP_DBT_RUNS, KRITINFO_KEEP_DAGSTER_RUNS, KRITINFO_ARCHIVE_RETENTION_DAYS."""
        names = {
            "dbt_runs": "KRITINFO_KEEP_DBT_RUNS",
            "dagster_runs": "KRITINFO_KEEP_DAGSTER_RUNS",
            "archive_days": "KRITINFO_ARCHIVE_RETENTION_DAYS",
        }
        return cls(**{field: int(os.environ[name]) for field, name in names.items() if os.environ.get(name)})


def paths() -> Paths:
    """Paths for the current KRITINFO_HOME, read at call time so tests can point it elsewhere."""
    home = os.environ.get("KRITINFO_HOME") or str(REPO_ROOT / "data")
    return Paths(Path(home).resolve())


@dataclass(frozen=True)
class Bounds:
    """Limits on what one delivery may cost, so no input can exhaust memory, time or the marts.

    Each is read from its environment variable at call time (tests lower them), else the default.
    """

    # Decompressed bytes per file (KRITINFO_MAX_FILE_BYTES): a larger file, or a gzip expanding
    # past it, is rejected. A worker validates one file (or a slice of it) at a time, so this
    # caps what a delivery can make ingestion hold; simulated national days are under 1 MB.
    max_file_bytes: int = 128 * 1024**2
    # Bytes per line (KRITINFO_MAX_LINE_BYTES): a longer line is quarantined unparsed. An event
    # is 1-3 kB; a megabyte leaves room for long narratives.
    max_line_bytes: int = 1024**2
    # JSON nesting depth (KRITINFO_MAX_JSON_DEPTH), checked before anything parses or walks a
    # line; contract events nest about ten levels deep.
    max_json_depth: int = 64
    # Dates (KRITINFO_EARLIEST_EVENT_DATE): the core record holds history since 2014; an event
    # that occurred before it cannot be one.
    earliest_event_date: date = date(2014, 1, 1)
    # KRITINFO_MAX_DAYS_AFTER_DELIVERY: how far after its file's delivery an event (or its
    # recordedDate) may lie, for clocks and time zones that disagree.
    max_days_after_delivery: int = 1


def bounds() -> Bounds:
    env = os.environ.get
    default = Bounds()
    return Bounds(
        max_file_bytes=int(env("KRITINFO_MAX_FILE_BYTES") or default.max_file_bytes),
        max_line_bytes=int(env("KRITINFO_MAX_LINE_BYTES") or default.max_line_bytes),
        max_json_depth=int(env("KRITINFO_MAX_JSON_DEPTH") or default.max_json_depth),
        earliest_event_date=date.fromisoformat(
            env("KRITINFO_EARLIEST_EVENT_DATE") or default.earliest_event_date.isoformat()
        ),
        max_days_after_delivery=int(env("KRITINFO_MAX_DAYS_AFTER_DELIVERY") or default.max_days_after_delivery),
    )


# Unit tests check the SQL's logic on fixed rows, not the data: the test suite runs them
# (tests/pipeline/test_dbt_unit_tests.py), not every build, where they cost seconds per run.
# dbt.log holds warnings and errors only: each node's result is in Dagster's log already (dagster-dbt
# logs dbt's output), and each line costs dbt a JSON encoding; at info level, some 240 lines and
# about 0.3 s of a day's increment, at dbt's default, debug, every statement, 7.7 MB and about 2 s.
DBT_LOG_FILE_LEVEL = ["--log-level-file", "warn"]
DBT_BUILD_COMMAND = ["build", "--exclude-resource-type", "unit_test", *DBT_LOG_FILE_LEVEL]


# What dbt writes inside the project folder, which no build reads.
DBT_OUTPUT = frozenset({"target", "logs", "dbt_packages", ".user.yml"})


def dbt_project_files(project: Path) -> list[Path]:
    """The dbt project's own files (what dbt reads, not what it writes there), sorted."""
    return sorted(
        path for path in project.rglob("*") if path.is_file() and path.relative_to(project).parts[0] not in DBT_OUTPUT
    )


def dbt_executable() -> str:
    """The dbt beside this interpreter, so an unactivated virtualenv still finds it."""
    import shutil
    import sys

    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def export_home() -> Paths:
    """Make KRITINFO_HOME explicit for child processes (dbt reads it in profiles.yml)."""
    current = paths()
    os.environ["KRITINFO_HOME"] = str(current.home)
    os.environ.setdefault("DAGSTER_HOME", str(current.dagster_home))
    return current
