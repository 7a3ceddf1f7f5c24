"""A run with nothing new does nothing, quickly; a new file or a changed input makes a run
(pipelines/publication_inputs.py). The published home's own run recorded its inputs: the idle
run below passes only if it did."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.publication_inputs import NOTHING_NEW, decide
from pipelines.settings import GOALS_FILE, Paths
from tests.conftest import run_cli

IDLE_RUN_SECONDS = 5


def published_at(home: Path):
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return con.execute("select published_at from publish_info").fetchone()[0]


def runs_of(home: Path) -> list[str]:
    """The dbt run folders and Dagster run logs: a run that starts dbt or Dagster adds to them."""
    return sorted(p.name for folder in (home / "dbt", home / "dagster" / "logs") for p in folder.iterdir())


@pytest.fixture
def home(tmp_path: Path, published_home: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(published_home, copy, symlinks=True)  # keeps mtimes: the same serving copy
    return copy


def test_an_idle_run_runs_no_dbt_and_leaves_the_serving_copy_and_its_publication(home: Path):
    published, publication, runs = (home / "serving.duckdb").read_bytes(), published_at(home), runs_of(home)

    started = time.perf_counter()
    idle = run_cli(home, "run")
    seconds = time.perf_counter() - started

    assert idle.returncode == 0, idle.stderr[-3000:]
    [line] = idle.stdout.splitlines()
    assert line.startswith(f"{NOTHING_NEW}: no run, {home / 'serving.duckdb'} unchanged"), line
    assert seconds < IDLE_RUN_SECONDS
    assert runs_of(home) == runs
    assert (home / "serving.duckdb").read_bytes() == published and published_at(home) == publication


def test_an_idle_run_applies_the_archive_retention(home: Path, monkeypatch: pytest.MonkeyPatch):
    """Archived files fall due with time, delivery or none: an idle run removes them (here, with a
    retention of 0 days, every archived file) and still publishes nothing."""
    published, runs = (home / "serving.duckdb").read_bytes(), runs_of(home)
    assert any((home / "archive").iterdir())

    monkeypatch.setenv("KRITINFO_ARCHIVE_RETENTION_DAYS", "0")
    idle = run_cli(home, "run")

    assert idle.returncode == 0, idle.stderr[-3000:]
    assert idle.stdout.startswith(f"{NOTHING_NEW}: no run"), idle.stdout
    assert list((home / "archive").iterdir()) == []
    assert runs_of(home) == runs
    assert (home / "serving.duckdb").read_bytes() == published


def _archived_as_delivered(home: Path) -> Path:
    """An archived file with the bytes it was delivered with (one without quarantined lines: the
    archive masks those)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        delivered = dict(con.execute("select source_file, sha256 from raw.ingested_files").fetchall())
    return next(
        path
        for path in sorted((home / "archive").iterdir())
        if hashlib.sha256(path.read_bytes()).hexdigest() == delivered.get(path.name)
    )


def test_a_delivery_sent_again_is_archived_without_a_run(home: Path):
    """The same name and bytes again is the same delivery: nothing new, no run, nothing published;
    the copy leaves landing/ as ingestion would take it."""
    published, runs = (home / "serving.duckdb").read_bytes(), runs_of(home)
    archived = _archived_as_delivered(home)
    archived_bytes = archived.read_bytes()
    shutil.copyfile(archived, home / "landing" / archived.name)

    started = time.perf_counter()
    idle = run_cli(home, "run")
    seconds = time.perf_counter() - started

    assert idle.returncode == 0, idle.stderr[-3000:]
    [line] = idle.stdout.splitlines()
    assert line.startswith("nothing new since the last publication (1 files in landing/ were sent again): no run"), line
    assert seconds < IDLE_RUN_SECONDS
    assert list((home / "landing").iterdir()) == []
    assert archived.read_bytes() == archived_bytes
    assert runs_of(home) == runs
    assert (home / "serving.duckdb").read_bytes() == published
    assert decide(Paths(home)).reason == NOTHING_NEW


def test_a_delivery_sent_again_beside_a_new_file_runs_for_the_new_file(home: Path):
    archived = _archived_as_delivered(home)
    shutil.copyfile(archived, home / "landing" / archived.name)
    (home / "landing" / "events-2099-01-01.ndjson").write_bytes(b"{}\n")
    assert decide(Paths(home)).reason == "1 new files in landing/"

    # Other bytes under an ingested name: a new delivery (ingested under a new name).
    (home / "landing" / "events-2099-01-01.ndjson").unlink()
    (home / "landing" / archived.name).write_bytes(archived.read_bytes() + b"\n")
    assert decide(Paths(home)).reason == "1 new files in landing/"


def test_a_new_file_a_changed_goal_an_unpublished_ingestion_or_a_removed_serving_copy_needs_a_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert decide(Paths(home)).reason == NOTHING_NEW

    (home / "landing" / "events-2099-01-01.ndjson").write_bytes(b"{}\n")
    assert decide(Paths(home)).reason == "1 new files in landing/"
    (home / "landing" / "events-2099-01-01.ndjson").unlink()

    goals = tmp_path / "goals.yml"
    goals.write_text(GOALS_FILE.read_text(encoding="utf-8").replace("target_value: 75", "target_value: 80"))
    monkeypatch.setenv("KRITINFO_GOALS_FILE", str(goals))
    assert decide(Paths(home)).reason == "changed since the last publication: goals"
    monkeypatch.delenv("KRITINFO_GOALS_FILE")

    # As a run leaves the warehouse that ingested and then failed or was killed before it published.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("update raw.events set ingested_at = now() where event_id = (select min(event_id) from raw.events)")
    assert decide(Paths(home)).reason == "changed since the last publication: raw"

    (home / "serving.duckdb").unlink()
    assert decide(Paths(home)).reason == "changed since the last publication: raw, serving_copy"
