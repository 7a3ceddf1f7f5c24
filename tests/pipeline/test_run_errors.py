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


def failed_run_last_line(home: Path) -> tuple[str, str]:
    """A run that fails and leaves the published copy as it was: its stderr and last line."""
    published = (home / "serving.duckdb").read_bytes()
    result = run_cli(home, "run")
    assert result.returncode == 1
    assert (home / "serving.duckdb").read_bytes() == published
    return result.stderr, result.stderr.strip().splitlines()[-1]


def test_a_failing_dbt_test_is_named_last_with_where_its_rows_are(home: Path):
    # A newly loaded event (its file's counters agreeing) of a type of critical information the
    # seed does not know: only dbt's relationships test on int_entry_states can see it.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        (source_file,) = con.execute("select min(source_file) from raw.events").fetchone()
        con.execute(
            "insert into raw.events select * replace ("
            "  'planted-' || event_id as event_id, 'vaccine' as critical_information_type,"
            "  (select max(source_line) + 1 from raw.events where source_file = $file) as source_line,"
            "  now() as ingested_at"
            ") from raw.events where source_file = $file order by event_id limit 1",
            {"file": source_file},
        )
        con.execute(
            "update raw.ingested_files set lines_read = lines_read + 1, loaded = loaded + 1 where source_file = ?",
            [source_file],
        )

    stderr, last_line = failed_run_last_line(home)

    assert re.fullmatch(
        r"kritinfo run: step \w+ failed: dbt test relationships_int_entry_states_critical_information_type\S* "
        r"failed on 1 rows; its rows: select \* from \S+ in \S+",
        last_line,
    ), stderr[-3000:]
    relation, warehouse = re.search(r"select \* from (\S+) in (\S+)$", last_line).groups()
    assert Path(warehouse) == home / "warehouse.duckdb"
    with duckdb.connect(warehouse, read_only=True) as con:
        assert con.execute(f"select * from {relation}").fetchall() == [("vaccine",)]


def test_a_row_refused_by_a_contract_names_the_model_and_the_rule(home: Path):
    # A loaded event whose channel is outside the contract, marked as newly ingested so it is
    # staged again: no reconciliation count changes, the staging model's contract refuses the row.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        (event_id,) = con.execute("select min(event_id) from raw.events").fetchone()
        con.execute("update raw.events set channel = 'fax', ingested_at = now() where event_id = ?", [event_id])

    stderr, last_line = failed_run_last_line(home)

    assert re.fullmatch(
        r"kritinfo run: step \w+ failed: dbt model stg_registration_events: .*CHECK constraint failed.*"
        r"channel IN \('api', 'portal'\).*",
        last_line,
    ), stderr[-3000:]
    assert event_id not in stderr


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
