"""load_validated_lines, which ingestion and the quarantine replay share: validated lines in,
what became of each line out, on a temporary DuckDB warehouse."""

from datetime import UTC, datetime

import pytest

from pipelines.ingest import warehouse
from pipelines.ingest.loader import LineCounts, RefusedLine, load_validated_lines, validate_lines
from tests.helpers import example_event, example_events, line

FILE = "2025-04-01.ndjson"
INGESTED_AT = datetime(2025, 4, 2, 6, 0, tzinfo=UTC)
REPLAYED_AT = datetime(2025, 4, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def con(tmp_path):
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def keys(lines) -> list[tuple[str, int]]:
    return sorted((row["source_file"], row["source_line"]) for row in lines.to_pylist())


def relations(con) -> set[str]:
    return {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}


def test_each_line_is_loaded_a_duplicate_or_quarantined_and_nothing_stays_on_the_connection(con):
    first, second = example_events()[:2]
    lines = [line(first), line(second), line(first), b"{broken"]
    before = relations(con)

    outcomes = load_validated_lines(con, [validate_lines(FILE, 1, lines)], INGESTED_AT)

    assert keys(outcomes.loaded) == [(FILE, 1), (FILE, 2)]
    assert keys(outcomes.duplicates) == [(FILE, 3)]  # the same event_id later in the file
    assert [(q.source_line, q.reason_code) for q in outcomes.quarantined] == [(4, "json_syntax")]
    assert outcomes.counts_by_file() == {FILE: LineCounts(loaded=2, duplicates=1, quarantined=1)}
    assert con.execute("select source_line from raw.events order by 1").fetchall() == [(1,), (2,)]
    assert con.execute("select source_line from raw.duplicate_deliveries").fetchall() == [(3,)]
    assert con.execute("select source_line, quarantined_at from raw.quarantine").fetchall() == [(4, INGESTED_AT)]
    assert relations(con) == before


def test_a_replayed_line_leaves_the_quarantine_once_or_keeps_its_place_with_its_new_reason(con):
    loaded_before = example_event(0)
    new_event = example_event(2)
    lines = [line(loaded_before), b"{broken", b"{broken", b"{broken"]
    load_validated_lines(con, [validate_lines(FILE, 1, lines)], INGESTED_AT)

    # Line 2 now holds a new event, line 3 a redelivery of line 1, line 4 still fails, for another reason.
    replayed = [
        validate_lines(FILE, 2, [line(new_event)]),
        validate_lines(FILE, 3, [line(loaded_before)]),
        validate_lines(FILE, 4, [b'{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03"}']),
    ]
    outcomes = load_validated_lines(con, replayed, REPLAYED_AT)

    assert keys(outcomes.loaded) == [(FILE, 2)]
    assert keys(outcomes.duplicates) == [(FILE, 3)]
    assert [(q.source_line, q.reason_code) for q in outcomes.quarantined] == [(4, "missing_field")]
    assert isinstance(outcomes.quarantined[0], RefusedLine)
    assert outcomes.counts_by_file() == {FILE: LineCounts(loaded=1, duplicates=1, quarantined=1)}
    assert con.execute("select event_id, source_line from raw.events order by 2").fetchall() == [
        (loaded_before["event_id"], 1),
        (new_event["event_id"], 2),
    ]
    assert con.execute("select source_line, reason_code, quarantined_at from raw.quarantine").fetchall() == [
        (4, "missing_field", INGESTED_AT)
    ]


def test_no_lines_changes_nothing(con):
    outcomes = load_validated_lines(con, [], INGESTED_AT)

    assert (outcomes.loaded.num_rows, outcomes.duplicates.num_rows, outcomes.quarantined) == (0, 0, [])
    assert outcomes.counts_by_file() == {}
    assert con.execute("select count(*) from raw.events").fetchall() == [(0,)]
