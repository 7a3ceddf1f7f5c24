"""Ingestion into a real DuckDB warehouse: valid, invalid, duplicate and awkwardly encoded lines."""

import gzip
import os
import uuid

import duckdb
import pytest

from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from tests.helpers import example_event, example_events, line, national_id


@pytest.fixture
def home(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    return paths


def rows(paths, sql):
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_lines_end_loaded_duplicate_or_quarantined_and_reconcile(home):
    events = example_events()
    bad_enum = example_event()
    bad_enum["event_id"] = str(uuid.uuid4())
    bad_enum["channel"] = "fax"
    number = national_id("010190", "123") or national_id("010190", "124")
    with_id = example_event(1)
    with_id["event_id"] = str(uuid.uuid4())
    with_id["resource"]["note"] = [{"text": f"fnr {number}"}]
    first = [line(e) for e in events] + [line(events[0]), b"", b"{broken", line(bad_enum), line(with_id)]
    (home.landing / "2025-04-01.ndjson").write_bytes(b"\n".join(first) + b"\n")
    # Second file: BOM, CRLF, gzip; one redelivery from the first file and one new event.
    new_event = example_event(2)
    new_event["event_id"] = str(uuid.uuid4())
    second = b"\xef\xbb\xbf" + b"\r\n".join([line(events[1]), line(new_event)]) + b"\r\n"
    (home.landing / "2025-04-02.ndjson.gz").write_bytes(gzip.compress(second))
    # Files still being written are not touched.
    (home.landing / ".2025-04-03.ndjson.tmp").write_bytes(line(events[3]))

    report = ingest_new_files(home, workers=1)

    by_file = {f.source_file: f for f in report.files}
    assert set(by_file) == {"2025-04-01.ndjson", "2025-04-02.ndjson.gz"}
    first_counts = by_file["2025-04-01.ndjson"]
    assert (first_counts.lines_read, first_counts.blank_lines) == (8, 1)
    assert (first_counts.loaded, first_counts.duplicates, first_counts.quarantined) == (4, 1, 3)
    second_counts = by_file["2025-04-02.ndjson.gz"]
    assert (second_counts.lines_read, second_counts.loaded, second_counts.duplicates, second_counts.quarantined) == (
        2,
        1,
        1,
        0,
    )
    assert all(f.reconciles for f in report.files)

    assert rows(home, "select count(*) from raw.events") == [(5,)]
    quarantine = rows(home, "select source_line, reason_code, masked_text from raw.quarantine order by source_line")
    assert [(q[0], q[1]) for q in quarantine] == [(7, "json_syntax"), (8, "invalid_value"), (9, "identifier")]
    assert number not in quarantine[2][2]
    assert rows(home, "select source_file, source_line from raw.duplicate_deliveries order by 1, 2") == [
        ("2025-04-01.ndjson", 5),
        ("2025-04-02.ndjson.gz", 1),
    ]
    logged = rows(
        home, "select source_file, lines_read, loaded, duplicates, quarantined from raw.ingested_files order by 1"
    )
    assert logged == [("2025-04-01.ndjson", 8, 4, 1, 3), ("2025-04-02.ndjson.gz", 2, 1, 1, 0)]


def test_a_second_ingest_processes_only_new_files(home):
    (home.landing / "a.ndjson").write_bytes(b"\n".join(line(e) for e in example_events()))
    assert ingest_new_files(home, workers=1).total("loaded") == 4
    again = ingest_new_files(home, workers=1)
    assert again.files == []
    assert rows(home, "select count(*) from raw.events") == [(4,)]


def test_parallel_validation_gives_the_same_rows_as_serial(home, tmp_path, monkeypatch):
    from pipelines.ingest import loader

    monkeypatch.setattr(loader, "PARALLEL_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(loader, "CHUNK_BYTES", 3_000)
    lines = []
    for i in range(20):
        event = example_event(i % 4)
        event["event_id"] = str(uuid.UUID(int=i + 1, version=4))
        lines.append(line(event))
    lines.insert(7, b"not json")
    (home.landing / "many.ndjson").write_bytes(b"\n".join(lines))
    serial_home = Paths(tmp_path / "serial").ensure()
    (serial_home.landing / "many.ndjson").write_bytes(b"\n".join(lines))
    # Both copies arrive at the same moment, so their whole FileCounts (arrived_at too) compare.
    arrival = (home.landing / "many.ndjson").stat().st_mtime_ns
    os.utime(serial_home.landing / "many.ndjson", ns=(arrival, arrival))

    parallel = ingest_new_files(home, workers=2)
    serial = ingest_new_files(serial_home, workers=1)

    assert parallel.files == serial.files
    query = "select event_id, source_line from raw.events order by event_id"
    assert rows(home, query) == rows(serial_home, query)
    assert rows(home, "select source_line from raw.quarantine") == [(8,)]
