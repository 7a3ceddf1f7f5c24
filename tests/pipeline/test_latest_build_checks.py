"""The uniqueness tests of incremental models check the rows of the model's latest build
(macros/touched_keys.sql): a duplicate that a build makes fails them; rows earlier builds left,
checked when they were made, are not read again."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import DBT_PROJECT_DIR, dbt_executable

TEST = "unique_int_entry_states_entry_id__valid_from_in_latest_build"


@pytest.fixture
def home(tmp_path: Path, published_home: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(published_home, copy, symlinks=True)
    return copy


def run_test(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dbt_executable(), "test", "--select", TEST, "--project-dir", str(DBT_PROJECT_DIR)]
        + ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(home / "dbt-target")]
        + ["--log-level-file", "none"],
        env={**os.environ, "KRITINFO_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def duplicate_a_state(home: Path, made_by_the_latest_build: bool) -> None:
    """A copy of one entry state, made by the latest build or by one before it."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        (latest,) = con.execute("select max(built_at) from main.int_entry_states").fetchone()
        built = "$latest" if made_by_the_latest_build else "$latest - interval 1 day"
        con.execute(
            f"""insert into main.int_entry_states
            select * replace ({built} as built_at)
            from main.int_entry_states order by entry_id, valid_from limit 1""",
            {"latest": latest},
        )


def test_the_latest_build_passes_as_built(home: Path):
    result = run_test(home)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_duplicate_made_by_the_latest_build_fails(home: Path):
    duplicate_a_state(home, made_by_the_latest_build=True)
    result = run_test(home)
    assert result.returncode == 1
    assert f"Failure in test {TEST}" in result.stdout


def test_a_duplicate_among_earlier_rows_is_not_read_again(home: Path):
    # Rows from before the latest build were checked when they were built: the test no longer
    # reads them (a full build, which rebuilds every row, checks them all).
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        # The latest build rebuilt one entry; every other row is a day older.
        con.execute(
            """update main.int_entry_states set built_at = built_at - interval 1 day
            where entry_id <> (select max(entry_id) from main.int_entry_states)"""
        )
    duplicate_a_state(home, made_by_the_latest_build=False)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        duplicates = con.execute(
            """select count(*) from (select entry_id, valid_from from main.int_entry_states
            group by all having count(*) > 1)"""
        ).fetchone()[0]
    assert duplicates == 1
    result = run_test(home)
    assert result.returncode == 0, result.stdout[-3000:]
