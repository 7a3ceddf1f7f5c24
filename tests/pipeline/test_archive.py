"""Ingested files leave landing/ for archive/ with every quarantined line masked, also after a crash."""

import gzip
import shutil
import uuid

import duckdb
import pytest

from pipelines.ingest import loader
from pipelines.ingest.archive import ingested_file_path
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from tests.helpers import example_event, example_events, line, national_id

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def home(tmp_path):
    return Paths(tmp_path / "home").ensure()


def planted_line(number: str) -> bytes:
    event = example_event(1)
    event["event_id"] = str(uuid.uuid4())
    event["resource"]["note"] = [{"text": f"fnr {number}"}]
    return line(event)


def quarantined_lines(paths: Paths, name: str) -> dict[int, str]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return dict(
            con.execute("select source_line, masked_text from raw.quarantine where source_file = ?", [name]).fetchall()
        )


def test_archived_files_keep_every_byte_but_the_quarantined_lines(home):
    first_number = national_id("050607", "123") or national_id("050607", "124")
    second_number = national_id("451282", "234") or national_id("451282", "235")  # a D-number
    events = [line(e) for e in example_events()]
    plain = [events[0], planted_line(first_number), b"", b'{"note": "Kari Nordmann", broken', events[1]]
    (home.landing / "plain.ndjson").write_bytes(b"\n".join(plain) + b"\n")
    crlf = [events[2], planted_line(second_number), events[3]]
    (home.landing / "crlf.ndjson.gz").write_bytes(gzip.compress(BOM + b"\r\n".join(crlf) + b"\r\n"))
    (home.landing / ".still-written.ndjson.tmp").write_bytes(planted_line(first_number))

    ingest_new_files(home, workers=1)

    assert sorted(p.name for p in home.landing.iterdir()) == [".still-written.ndjson.tmp"]
    assert sorted(p.name for p in home.archive.iterdir()) == ["crlf.ndjson.gz", "plain.ndjson"]

    masked = quarantined_lines(home, "plain.ndjson")
    assert set(masked) == {2, 4}
    archived = (home.archive / "plain.ndjson").read_bytes()
    assert archived == b"\n".join([plain[0], masked[2].encode(), b"", masked[4].encode(), plain[4]]) + b"\n"
    assert first_number.encode() not in archived and b"Kari" not in archived
    assert masked[4] == '{"note": "[text]", [text]'

    masked = quarantined_lines(home, "crlf.ndjson.gz")
    assert set(masked) == {2}
    archived = gzip.decompress((home.archive / "crlf.ndjson.gz").read_bytes())
    assert archived == BOM + b"\r\n".join([crlf[0], masked[2].encode(), crlf[2]]) + b"\r\n"
    assert second_number.encode() not in archived


def test_ingested_file_path_follows_the_file_into_the_archive(home):
    (home.landing / "a.ndjson").write_bytes(b"\n".join(line(e) for e in example_events()))
    assert ingested_file_path(home, "a.ndjson") == home.landing / "a.ndjson"
    ingest_new_files(home, workers=1)
    assert ingested_file_path(home, "a.ndjson") == home.archive / "a.ndjson"
    assert ingested_file_path(home, "a.ndjson").read_bytes() == b"\n".join(line(e) for e in example_events())


def test_a_crash_between_commit_and_archive_is_finished_by_the_next_ingest(home, monkeypatch):
    number = national_id("311299", "345") or national_id("311299", "346")
    lines = [line(example_event(0)), planted_line(number)]
    (home.landing / "a.ndjson").write_bytes(b"\n".join(lines) + b"\n")

    def crash(con, paths, names):
        if names:
            raise OSError("simulated crash after the commit")

    monkeypatch.setattr(loader, "archive_ingested", crash)
    with pytest.raises(OSError):
        ingest_new_files(home, workers=1)
    assert (home.landing / "a.ndjson").exists()
    monkeypatch.undo()

    again = ingest_new_files(home, workers=1)

    assert again.files == []  # committed once, not ingested twice
    assert not (home.landing / "a.ndjson").exists()
    masked = quarantined_lines(home, "a.ndjson")
    assert (home.archive / "a.ndjson").read_bytes() == lines[0] + b"\n" + masked[2].encode() + b"\n"
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select lines_read, loaded, quarantined from raw.ingested_files").fetchall() == [(2, 1, 1)]


def test_a_crash_between_archive_and_removal_leaves_the_archive_as_it_was(home):
    number = national_id("010203", "456") or national_id("010203", "457")
    (home.landing / "a.ndjson").write_bytes(planted_line(number) + b"\n")
    original = home.landing / "a.ndjson"
    kept = home.home / "kept-original.ndjson"
    shutil.copyfile(original, kept)
    ingest_new_files(home, workers=1)
    archived = (home.archive / "a.ndjson").read_bytes()
    shutil.copyfile(kept, original)  # as if the removal had not happened

    ingest_new_files(home, workers=1)

    assert not original.exists()
    assert (home.archive / "a.ndjson").read_bytes() == archived
    assert number.encode() not in archived
