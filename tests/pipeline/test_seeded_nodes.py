"""A build of the same dbt project after a first leaves out the seeds and what is built from them
alone (pipelines/transform/assets.py, built_from_seeds_alone): it still runs every test that reads
a seed beside another model, and builds the seeds again when one of them is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.transform.assets import NODE_RESULTS_FILE
from pipelines.transform.project import dbt_project
from tests.conftest import run_cli

MAIN_DBT_STEP = "kritinfo_dbt_assets"


def built_nodes(home: Path) -> set[str]:
    """The nodes dbt built or tested in the main dbt step of the home's latest run."""
    steps = [folder / MAIN_DBT_STEP for folder in (home / "dbt").iterdir() if (folder / MAIN_DBT_STEP).is_dir()]
    latest = max(steps, key=lambda step: (step / NODE_RESULTS_FILE).stat().st_mtime)
    results = json.loads((latest / NODE_RESULTS_FILE).read_text(encoding="utf-8"))["results"]
    return {result["unique_id"] for result in results}


def no_source_upstream(manifest: dict) -> set[str]:
    """The seeds, models and tests with no source among their ancestors (walked from the sources
    down); the run's hooks (operations) run every time."""
    children = manifest["child_map"]
    reached, frontier = set(), list(manifest["sources"])
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in reached:
                reached.add(child)
                frontier.append(child)
    built = {unique_id for unique_id in manifest["nodes"] if unique_id.startswith(("seed.", "model.", "test."))}
    return built - reached


def resend_an_archived_file(home: Path, name: str) -> None:
    """A file already delivered, under a new name: a delivery of duplicates, which starts a run."""
    archived = sorted((home / "archive").iterdir())[0]
    shutil.copy(archived, home / "landing" / name)


@pytest.fixture
def home(tmp_path: Path, published_home: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(published_home, copy, symlinks=True)
    return copy


def test_a_later_build_leaves_out_what_seeds_alone_make_until_a_seed_is_missing(home: Path):
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    seeds = {unique_id for unique_id in manifest["nodes"] if unique_id.startswith("seed.")}
    first = built_nodes(home)  # the first run: a full build
    left_out = no_source_upstream(manifest) & first
    # Tests of a model against a seed (relationships to counties, health regions and others).
    reading_a_seed_and_more = {
        unique_id
        for unique_id in first
        if unique_id.startswith("test.")
        and any(parent in seeds for parent in manifest["parent_map"][unique_id])
        and unique_id not in left_out
    }
    assert seeds <= left_out and reading_a_seed_and_more

    resend_an_archived_file(home, "events-resent-1.ndjson")
    later = run_cli(home, "run")
    assert later.returncode == 0, later.stderr[-3000:]
    assert built_nodes(home) == first - left_out

    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("drop table main.counties")
    resend_an_archived_file(home, "events-resent-2.ndjson")
    rebuilt = run_cli(home, "run")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert built_nodes(home) == first
