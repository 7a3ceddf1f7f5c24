"""`kritinfo quarantine` list, summary and replay against a real DuckDB warehouse.

The story: a file arrives with four valid events and four refused lines. The operator reads
the quarantine (masked: the archive keeps no refused line in clear), writes the producer's
corrections of two lines in their places in the archived file and replays. The corrected lines
are loaded (or counted as a duplicate) once, the others still hold masked text and stay as they
are, and every file still reconciles.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from pipelines.cli import main
from pipelines.contract.masking import MASK_TOKEN
from pipelines.contract.validation import AcceptedEvent, validate_line
from pipelines.ingest.archive import ingested_file_path
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from tests.conftest import PLANTED_NATIONAL_ID
from tests.helpers import example_event, example_events, line

FILE = "2025-04-01.ndjson"
UNKNOWN_COUNTY = "9901"  # county 99 does not exist in the 2024 numbering
FIXED_MUNICIPALITY = "4601"


def unknown_county(municipality: str = UNKNOWN_COUNTY) -> dict:
    event = example_event(2)
    event["event_id"] = "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e01"
    event["patient"]["municipality"] = municipality
    return event


def redelivery(channel: str = "fax") -> dict:
    """A redelivery of the first event, refused for a wrong channel: once corrected, its
    event_id is already loaded, so it is a duplicate."""
    event = example_event(0)
    event["channel"] = channel
    return event


def refused_lines() -> dict[str, bytes]:
    """The file's refused lines by what is wrong with them (line order = dict order)."""
    with_identifier = example_event(1)
    with_identifier["event_id"] = "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e02"
    with_identifier["resource"]["note"] = [{"text": "fnr " + PLANTED_NATIONAL_ID}]
    return {
        "unknown_county": line(unknown_county()),
        "truncated": b'{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03", "event_type": "crea',
        "redelivery_with_wrong_channel": line(redelivery()),
        "identifier": line(with_identifier),
    }


@pytest.fixture
def home(tmp_path, monkeypatch) -> Paths:
    """A warehouse that has ingested one file: four valid events, then the refused lines."""
    paths = Paths(tmp_path / "home").ensure()
    monkeypatch.setenv("KRITINFO_HOME", str(paths.home))
    valid = [line(event) for event in example_events()]
    (paths.landing / FILE).write_bytes(b"\n".join(valid + list(refused_lines().values())) + b"\n")
    ingest_new_files(paths, workers=1)
    return paths


def line_number(name: str) -> int:
    return len(example_events()) + list(refused_lines()).index(name) + 1


def rows(paths: Paths, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def file_counts(paths: Paths) -> tuple[int, int, int, int]:
    return rows(
        paths, "select lines_read, loaded, duplicates, quarantined from raw.ingested_files where source_file = ?", FILE
    )[0]


def correct_line(paths: Paths, name: str, corrected: bytes) -> None:
    """What the operator does: write the producer's corrected line in its place in the ingested file."""
    path = ingested_file_path(paths, FILE)
    lines = path.read_bytes().split(b"\n")
    assert MASK_TOKEN.search(lines[line_number(name) - 1].decode())
    lines[line_number(name) - 1] = corrected
    path.write_bytes(b"\n".join(lines))


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["quarantine", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_file_line_reason_and_masked_text(home, capsys):
    code, out, err = cli(capsys)
    assert (code, err) == (0, "")
    for name, expected_reason in (
        ("unknown_county", "invalid_value"),
        ("truncated", "json_syntax"),
        ("redelivery_with_wrong_channel", "invalid_value"),
        ("identifier", "identifier"),
    ):
        assert f"{FILE}:{line_number(name)}  [{expected_reason}]" in out
    assert f"patient.municipality: '{UNKNOWN_COUNTY}' has no county '99'" in out
    assert "invalid JSON" in out
    assert "all 4 matching quarantined lines" in out
    assert PLANTED_NATIONAL_ID not in out

    code, out, _ = cli(capsys, "list", "--reason", "invalid_value", "--limit", "1")
    assert code == 0
    assert f"{FILE}:{line_number('unknown_county')}" in out
    assert f"{FILE}:{line_number('redelivery_with_wrong_channel')}" not in out
    assert "1 of 2 matching quarantined lines" in out


def test_summary_counts_per_reason_and_file(home, capsys):
    code, out, _ = cli(capsys, "summary")
    assert code == 0
    assert "4 quarantined lines in 1 files" in out
    summary = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert ["invalid_value", "2"] in summary
    assert ["json_syntax", "1"] in summary
    assert ["identifier", "1"] in summary
    assert [FILE, "4"] in summary


def test_an_unknown_reason_is_refused_with_the_valid_codes(home, capsys):
    code, out, err = cli(capsys, "list", "--reason", "fax")
    assert code == 2
    assert out == ""
    assert "unknown reason 'fax'" in err and "invalid_value" in err


STILL_INCOMPLETE = b'{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03", "event_type": "created"}'


def test_replay_after_a_fix_loads_corrected_lines_once_and_keeps_the_rest(home, capsys):
    events_before = rows(home, "select count(*) from raw.events")[0][0]
    read, loaded, duplicates, quarantined = file_counts(home)
    assert read == loaded + duplicates + quarantined == len(example_events()) + len(refused_lines())

    correct_line(home, "unknown_county", line(unknown_county(FIXED_MUNICIPALITY)))
    correct_line(home, "redelivery_with_wrong_channel", line(redelivery("api")))
    correct_line(home, "truncated", STILL_INCOMPLETE)  # whole now, but still without most fields
    code, out, err = cli(capsys, "replay")

    assert (code, err) == (0, "")
    assert "replayed 3 quarantined lines: 1 loaded, 1 duplicates" in out
    assert "1 still quarantined" in out
    assert "1 lines were left as they are: only their masked text is kept" in out
    # The corrected new event is loaded once, from its own file and line.
    assert rows(
        home,
        "select source_file, source_line, patient_municipality from raw.events where event_id = ?",
        "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e01",
    ) == [(FILE, line_number("unknown_county"), FIXED_MUNICIPALITY)]
    assert rows(home, "select count(*) from raw.events")[0][0] == events_before + 1
    assert rows(home, "select source_line from raw.duplicate_deliveries where source_file = ?", FILE) == [
        (line_number("redelivery_with_wrong_channel"),)
    ]
    assert file_counts(home) == (read, loaded + 1, duplicates + 1, quarantined - 2)
    assert rows(home, "select source_line, reason_code, masked_text from raw.quarantine order by 1")[0] == (
        line_number("truncated"),
        "missing_field",
        STILL_INCOMPLETE.decode(),
    )
    assert rows(home, "select source_line, reason_code from raw.quarantine order by 1")[1] == (
        line_number("identifier"),
        "identifier",
    )
    assert rows(home, "select source_line, outcome, reason_code from raw.quarantine_replays order by 1") == [
        (line_number("unknown_county"), "loaded", None),
        (line_number("truncated"), "still_quarantined", "missing_field"),
        (line_number("redelivery_with_wrong_channel"), "duplicate", None),
    ]

    # A second replay finds nothing new to load: the event still counts once, the file still reconciles.
    code, out, _ = cli(capsys, "replay")
    assert code == 0
    assert "replayed 1 quarantined lines: 0 loaded, 0 duplicates" in out
    assert rows(home, "select count(*) from raw.events")[0][0] == events_before + 1
    assert file_counts(home) == (read, loaded + 1, duplicates + 1, quarantined - 2)


def test_the_quarantine_and_the_archive_keep_every_refused_line_masked(home, capsys):
    archived = ingested_file_path(home, FILE).read_bytes().split(b"\n")
    for name, delivered in refused_lines().items():
        masked = rows(home, "select masked_text from raw.quarantine where source_line = ?", line_number(name))[0][0]
        assert archived[line_number(name) - 1] == masked.encode() != delivered
        assert MASK_TOKEN.search(masked)
        assert "DIPS Arena" not in masked and "fnr" not in masked  # free text
    assert PLANTED_NATIONAL_ID not in cli(capsys, "list")[1]
    # The valid lines are archived as delivered.
    assert archived[: len(example_events())] == [line(event) for event in example_events()]


def test_a_masked_line_is_never_replayed(home, capsys):
    number = line_number("identifier")
    masked = rows(home, "select masked_text from raw.quarantine where source_line = ?", number)[0][0]
    archived = ingested_file_path(home, FILE).read_bytes().split(b"\n")[number - 1]
    # The only text kept of the line is masked, and it would pass: replaying it would load a
    # line that is not what was delivered.
    assert PLANTED_NATIONAL_ID.encode() not in archived
    assert isinstance(validate_line(masked.encode()), AcceptedEvent)

    code, out, _ = cli(capsys, "replay", "--reason", "identifier")

    assert code == 0
    assert "no quarantined lines to replay match" in out
    assert "1 lines were left as they are" in out
    assert rows(home, "select reason_code from raw.quarantine where source_line = ?", number) == [("identifier",)]
    assert rows(home, "select count(*) from raw.events where event_id = ?", "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e02") == [
        (0,)
    ]
    assert rows(home, "select count(*) from raw.quarantine_replays") == [(0,)]


def test_replay_selects_by_reason_and_file(home, capsys):
    correct_line(home, "unknown_county", line(unknown_county(FIXED_MUNICIPALITY)))

    code, out, _ = cli(capsys, "replay", "--reason", "json_syntax")
    assert code == 0
    assert "no quarantined lines to replay match" in out and "1 lines were left as they are" in out
    code, out, _ = cli(capsys, "replay", "--file", "another.ndjson")
    assert "no quarantined lines to replay match" in out
    assert rows(home, "select count(*) from raw.quarantine where reason_code = 'invalid_value'") == [(2,)]

    code, out, _ = cli(capsys, "replay", "--file", FILE, "--reason", "invalid_value")
    assert "replayed 1 quarantined lines: 1 loaded" in out
    assert rows(home, "select count(*) from raw.quarantine where reason_code = 'invalid_value'") == [(1,)]


def test_a_line_still_failing_keeps_its_new_reason(home, capsys):
    # The producer's correction fixes the county but breaks the JSON.
    correct_line(home, "unknown_county", line(unknown_county(FIXED_MUNICIPALITY))[:-1])

    assert cli(capsys, "replay", "--reason", "invalid_value")[0] == 0

    assert rows(
        home, "select reason_code from raw.quarantine where source_line = ?", line_number("unknown_county")
    ) == [("json_syntax",)]
    read, loaded, duplicates, quarantined = file_counts(home)
    assert read == loaded + duplicates + quarantined


def test_a_missing_source_file_leaves_the_quarantine_as_it_is(home, capsys):
    ingested_file_path(home, FILE).unlink()

    code, out, _ = cli(capsys, "replay")

    assert code == 0
    assert "4 not found in their original file" in out
    assert rows(home, "select count(*) from raw.quarantine") == [(4,)]
    assert rows(home, "select distinct outcome from raw.quarantine_replays") == [("source_missing",)]


# Another process holds the warehouse until its stdin closes: DuckDB's own file lock (any
# writer), or the lock `kritinfo run` holds for a whole run, also between its steps.
HOLDERS = {
    "duckdb_connection": "import duckdb; con = duckdb.connect(str(home.warehouse))",
    "pipeline_run_lock": (
        "from pipelines.single_writer import warehouse_lock; held = warehouse_lock(home); held.__enter__()"
    ),
}


@pytest.mark.parametrize("holder_code", HOLDERS.values(), ids=HOLDERS.keys())
def test_replay_while_the_warehouse_is_held_fails_with_a_message(home, capsys, holder_code):
    script = (
        "import sys; from pathlib import Path; from pipelines.settings import Paths; "
        f"home = Paths(Path(sys.argv[1])); {holder_code}; print('ready', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(home.home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        code, out, err = cli(capsys, "replay")
    finally:
        holder.communicate("")
    assert code == 1
    assert out == ""
    assert "replay when it has finished" in err or "try again when it has finished" in err
    assert "Traceback" not in err
    assert rows(home, "select count(*) from raw.quarantine") == [(4,)]
    assert rows(home, "select count(*) from raw.quarantine_replays") == [(0,)]


def test_without_a_warehouse_the_command_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path / "nothing-yet"))
    code, out, err = cli(capsys, "summary")
    assert code == 1
    assert "run `kritinfo run` first" in err
