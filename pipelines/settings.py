"""Every path kritinfo uses, derived in one place from KRITINFO_HOME.

All state lives under one data directory (default ``./data`` at the repository root):
``landing/`` receives event files, ``archive/`` keeps them once ingested (quarantined lines masked),
``warehouse.duckdb`` is the pipeline's database and ``serving.duckdb`` the published read-only
copy the dashboard and exports read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
DASHBOARD_APP = REPO_ROOT / "dashboards" / "app.py"

# Europe/Oslo decides which calendar day an event belongs to.
LOCAL_TIMEZONE = "Europe/Oslo"


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
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def ensure(self) -> "Paths":
        for folder in (self.home, self.landing, self.archive, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def paths() -> Paths:
    """Paths for the current KRITINFO_HOME, read at call time so tests can point it elsewhere."""
    home = os.environ.get("KRITINFO_HOME") or str(REPO_ROOT / "data")
    return Paths(Path(home).resolve())


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
