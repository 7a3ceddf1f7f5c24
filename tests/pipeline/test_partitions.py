"""Event-day partitions for real: re-materialising a partition replaces exactly its slice, a
backfill of a range runs from Dagster's CLI, and a late event lands in its own day."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.partitions import recent_days_tags
from pipelines.simulate import SimulationConfig, simulate
from tests.conftest import run_cli

DAGSTER = str(Path(sys.executable).parent / "dagster")
SMALL = SimulationConfig(start=date(2024, 1, 1), end=date(2024, 4, 30), scale=0.02, seed=5, malformed_rate=0.0)


def dagster_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KRITINFO_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    result = subprocess.run(
        [DAGSTER, *args, "-m", "pipelines.definitions"], env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def staged(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * from stg_registration_events order by event_id").fetchall()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("partitioned")
    simulate(home / "landing", SMALL)
    assert run_cli(home, "run").returncode == 0
    return home


def test_rematerialising_partitions_replaces_exactly_their_slices(home):
    before = staged(home)
    days = sorted({row[3] for row in before})
    target = days[len(days) // 2]
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        # Corrupt the slice: lose one day and double another.
        con.execute("delete from stg_registration_events where occurred_on = ?", [target])
        con.execute(
            "insert into stg_registration_events select * from stg_registration_events where occurred_on = ?",
            [target + timedelta(days=1)],
        )
    assert staged(home) != before

    dagster_cli(
        home,
        "asset",
        "materialize",
        "--select",
        "stg_registration_events",
        "--partition-range",
        f"{target}...{target + timedelta(days=1)}",
    )

    assert staged(home) == before


def test_a_late_event_is_staged_in_its_own_day_by_a_routine_run(home):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        event_id, event_day = con.execute(
            "select event_id, occurred_on from stg_registration_events "
            "where resource_type = 'Condition' and event_type = 'created' order by occurred_at limit 1"
        ).fetchone()
        day_count = con.execute(
            "select count(*) from stg_registration_events where occurred_on = ?", [event_day]
        ).fetchone()[0]
        resource = con.execute("select resource from raw.events where event_id = ?", [event_id]).fetchone()[0]
        envelope = con.execute(
            "select event_type, occurred_at, channel, organisation_type, organisation_id, organisation_health_region, "
            "organisation_municipality, source_system, patient_pseudonym, patient_birth_year, patient_sex, "
            "patient_municipality from raw.events where event_id = ?",
            [event_id],
        ).fetchone()
    late = json.loads(resource)
    late["id"] = "late-entry-1"
    event = {
        "event_id": "3a9e6f1c-2b4d-4e8f-9a1b-5c6d7e8f9a0b",
        "event_type": "created",
        "occurred_at": envelope[1].isoformat(),
        "channel": envelope[2],
        "source": {
            "organisation_type": envelope[3],
            "organisation_id": envelope[4],
            "health_region": envelope[5],
            "municipality": envelope[6],
            "system": envelope[7],
        },
        "patient": {
            "pseudonym": envelope[8],
            "birth_year": envelope[9],
            "sex": envelope[10],
            "municipality": envelope[11],
        },
        "resource": late,
    }
    (home / "landing" / "late-delivery.ndjson").write_text(json.dumps(event) + "\n", encoding="utf-8")
    # A routine run restages only the late-arrival window ending today, months after this event.
    dagster_cli(
        home, "job", "execute", "-j", "kritinfo_everything", "--tags", json.dumps(recent_days_tags(date.today()))
    )

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        staged_late = con.execute(
            "select occurred_on from stg_registration_events where entry_id = 'Condition/late-entry-1'"
        ).fetchall()
        count = con.execute(
            "select count(*) from stg_registration_events where occurred_on = ?", [event_day]
        ).fetchone()[0]
        total = con.execute(
            "select (select count(*) from raw.events) = (select count(*) from stg_registration_events)"
        ).fetchone()[0]
    assert staged_late == [(event_day,)]
    assert count == day_count + 1
    assert total
