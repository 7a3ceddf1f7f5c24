"""A failed run ends with lines a person can act on: the failed step, the failing check or dbt test,
and where its rows or figures can be seen. Each case plants the trace a bug would leave in a copy
of a published home (valid data never stops a run)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli


@pytest.fixture
def home(tmp_path: Path, published_home: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(published_home, copy, symlinks=True)
    return copy


def kritinfo_lines(stderr: str) -> list[str]:
    return [line for line in stderr.strip().splitlines() if line.startswith("kritinfo run: ")]


def test_a_failing_dbt_test_is_named_last_with_where_its_rows_are(home: Path):
    # A loaded event whose channel is outside the contract, marked as newly ingested so its day is
    # restaged: no reconciliation count changes, only dbt's accepted_values test can see it.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        (event_id,) = con.execute("select min(event_id) from raw.events").fetchone()
        con.execute("update raw.events set channel = 'fax', ingested_at = now() where event_id = ?", [event_id])
    published = (home / "serving.duckdb").read_bytes()

    result = run_cli(home, "run")

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"kritinfo run: step \w+ failed: dbt test accepted_values_stg_registration_events_channel\S* failed on 1 rows; "
        r"its rows: select \* from \S+ in \S+",
        last_line,
    ), result.stderr[-3000:]
    relation, warehouse = re.search(r"select \* from (\S+) in (\S+)$", last_line).groups()
    assert Path(warehouse) == home / "warehouse.duckdb"
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute(f"select * from {relation}").fetchall() == [("fax", 1)]
    assert (home / "serving.duckdb").read_bytes() == published


def test_a_failing_reconciliation_check_is_named_with_its_figures(home: Path):
    # One event loaded twice, which ingestion's anti-join never does: the file's counters and the
    # staged days no longer match the rows.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("insert into raw.events select * from raw.events order by event_id limit 1")
        loaded, staged = con.execute(
            "select (select count(*) from raw.events), (select count(*) from main.stg_registration_events)"
        ).fetchone()

    result = run_cli(home, "run")

    assert result.returncode == 1
    lines = kritinfo_lines(result.stderr)
    assert any(
        re.fullmatch(
            r"kritinfo run: step \w+ failed: check files_reconcile on raw/ingested_files failed "
            r"\(files \d+, failing_files \['[^']+'\]\)",
            line,
        )
        for line in lines
    ), lines
    assert loaded == staged + 1
    assert any(
        f"check staging_matches_loaded_events on stg_registration_events failed (loaded {loaded}, staged {staged}, "
        in line
        for line in lines
    ), (lines, loaded, staged)
