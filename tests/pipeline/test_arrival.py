"""A file's arrival time: the simulator stamps each day's file at noon in Norway, and ingestion
records the file's modification time as arrived_at."""

from datetime import UTC, date, datetime

import duckdb

from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from pipelines.simulate import SimulationConfig, simulate

# Norway leaves CET (UTC+1) for CEST (UTC+2) on 30 March 2025: noon is 11:00 UTC before, 10:00 after.
SPAN = SimulationConfig(start=date(2025, 3, 28), end=date(2025, 4, 1), scale=0.02, seed=5)


def noon_in_norway_as_utc(day: date) -> datetime:
    hour = 11 if day < date(2025, 3, 30) else 10
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_simulated_files_arrive_at_noon_and_ingestion_records_it(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    simulate(paths.landing, SPAN)
    files = sorted(paths.landing.glob("events-*.ndjson"))
    assert files
    expected = {path.name: noon_in_norway_as_utc(date.fromisoformat(path.name[7:17])) for path in files}
    for path in files:
        assert datetime.fromtimestamp(path.stat().st_mtime, UTC) == expected[path.name]

    report = ingest_new_files(paths, workers=1)

    assert {f.source_file: f.arrived_at for f in report.files} == expected
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        logged = dict(con.execute("select source_file, arrived_at from raw.ingested_files").fetchall())
    assert logged == expected
