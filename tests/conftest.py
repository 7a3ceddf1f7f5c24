"""Session fixtures: one real pipeline run (simulator → Dagster → dbt → serving copy) shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipelines.simulate import SimulationConfig, simulate
from pipelines.transform.project import prepare_dbt_manifest
from tests.helpers import example_event, line, national_id

KRITINFO = str(Path(sys.executable).parent / "kritinfo")

# A small national simulation: every region, both channels, API go-live inside the window.
TEST_SIMULATION = SimulationConfig(
    start=date(2023, 1, 1), end=date(2025, 6, 30), scale=0.05, seed=11, malformed_rate=0.0
)


def bad_lines() -> list[tuple[bytes, str]]:
    """Lines that must all be quarantined, each with the reason code it must get."""
    wrong_enum = example_event()
    wrong_enum["event_id"] = "5d0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d6e"
    wrong_enum["channel"] = "fax"
    planted = example_event(1)
    planted["event_id"] = "5d0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d6f"
    planted["resource"]["note"] = [{"text": "fnr " + PLANTED_NATIONAL_ID}]
    return [
        (b'{"event_id": "truncated', "json_syntax"),
        (line(wrong_enum), "invalid_value"),
        (line(planted), "identifier"),
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parse the dbt project, as `make setup` does: tests read its manifest, and importing the
    project no longer parses it."""
    prepare_dbt_manifest()


PLANTED_NATIONAL_ID = national_id("170562", "345") or national_id("170562", "346")
BAD_LINES_FILE = "zz-bad-lines.ndjson"


def run_cli(home: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "KRITINFO_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([KRITINFO, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def published_home(tmp_path_factory) -> Path:
    """KRITINFO_HOME after `kritinfo run` on a small simulation plus a file of known bad lines."""
    home = tmp_path_factory.mktemp("kritinfo-home")
    simulate(home / "landing", TEST_SIMULATION)
    (home / "landing" / BAD_LINES_FILE).write_bytes(b"\n".join(raw for raw, _ in bad_lines()) + b"\n")
    result = run_cli(home, "run")
    assert result.returncode == 0, result.stderr[-4000:]
    return home
