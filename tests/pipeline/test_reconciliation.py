"""Reconciliation checks: they pass on a real run, catch tampering, block publishing, and the
volume warning follows its rule on hand-made counts."""

import shutil
from datetime import date, timedelta

import duckdb

from pipelines.ingest.checks import file_reconciliation_failures, staging_reconciliation_failures, volume_drops
from tests.conftest import run_cli
from tests.helpers import example_event, line


def test_checks_pass_on_a_real_run(published_home):
    with duckdb.connect(str(published_home / "warehouse.duckdb"), read_only=True) as con:
        assert file_reconciliation_failures(con) == []
        assert staging_reconciliation_failures(con) == []


def test_a_failed_reconciliation_blocks_publishing(published_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(published_home, home)
    before = (home / "serving.duckdb").read_bytes()
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        victim = con.execute("select source_file from raw.ingested_files order by source_file limit 1").fetchone()[0]
        con.execute(
            "delete from raw.events where event_id = (select min(event_id) from raw.events where source_file = ?)",
            [victim],
        )
        assert [row[0] for row in file_reconciliation_failures(con)] == [victim]
    event = example_event()
    event["event_id"] = "7f0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d00"
    (home / "landing" / "zz-new.ndjson").write_bytes(line(event) + b"\n")

    result = run_cli(home, "run")

    assert result.returncode != 0
    assert (home / "serving.duckdb").read_bytes() == before


def test_volume_drop_flags_a_recent_day_far_below_its_weekday_median():
    start = date(2025, 1, 1)
    days = [start + timedelta(days=i) for i in range(70)]
    counts = {day: 100 for day in days}
    counts[days[-1]] = 40  # 60 % below the median of its weekday
    counts[days[-2]] = 60  # 40 % below: within a 50 % tolerance
    with duckdb.connect() as con:
        con.execute("create table stg_registration_events (occurred_on date)")
        con.executemany(
            "insert into stg_registration_events select ?::date from range(?)", [(d, n) for d, n in counts.items()]
        )
        flagged = volume_drops(con, share=0.5)
    assert [(day, events) for day, events, _ in flagged] == [(days[-1], 40)]
