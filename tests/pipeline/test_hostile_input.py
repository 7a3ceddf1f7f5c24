"""Hostile and odd input (issue 10, points 1, 2 and 5), with one `kritinfo run` for real.

One landing folder holds, beside good deliveries, every kind of file that cannot be read as an
event file (a name that is not UTF-8, a name holding a national identity number, links to a
named pipe, to /dev/zero and to /etc/passwd, a named pipe, a gzip bomb, damaged gzip), a file of
bad lines (poison nesting, an event dated 9999, a truncated line, a line over the byte bound, a
name in valueHumanName and in the display of the patient reference), a UTF-16 file with a name
and a national identity number, and a different file delivered under a name already ingested.
No planted name or number is found anywhere under KRITINFO_HOME afterwards. The good events all
fall in the current month, so the run also shows that a history with no complete month publishes.
Expected figures are counted here from what the test wrote, not read from the pipeline.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.layout import NO_COMPLETE_MONTH
from pipelines.contract.vocabulary import PATIENT_REFERENCE_FIELD
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from tests.conftest import run_cli
from tests.helpers import example_event, line, national_id
from tests.pipeline.test_identifier_sweep import columns_holding

LINE_BOUND = 20_000
FILE_BOUND = 1_000_000
RUN_TIMEOUT_S = 900
PASSWD_MARKER = "root:x:0:0"
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
# Made up to be found nowhere else: names, and a national identity number built from the formula.
NAME_IN_EXTENSION, NAME_IN_DISPLAY, NAME_IN_UTF16 = (
    "Sporsmalina Plantedottir",
    "Hemmelig Navnesen",
    "Utfoldina Sekstensen",
)
PLANTED_ID = national_id("230375", "412") or national_id("230375", "413")
PAGES = ["views/oversikt.py", "views/maal.py", "views/effekt.py", "views/definisjoner.py", "views/datakvalitet.py"]


def good_event(index: int, number: int) -> dict:
    """An example event with its own id, occurring on the 1st of the current month in Norway."""
    event = example_event(index)
    oslo = ZoneInfo("Europe/Oslo")
    first = datetime.now(oslo).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    event["event_id"] = str(uuid.UUID(int=number, version=4))
    event["occurred_at"] = (first + timedelta(minutes=number)).isoformat()
    return event


def bad_lines() -> list[tuple[bytes, str]]:
    """(line, reason it must be quarantined for)."""
    dated_9999 = good_event(0, 900)
    dated_9999["occurred_at"] = "9999-12-31T12:00:00+00:00"
    too_long = good_event(1, 901)
    too_long["resource"]["note"] = [{"text": "x" * LINE_BOUND}]
    human_name = good_event(2, 903)
    human_name["resource"]["extension"] = [
        {"url": "http://example.org/fhir/StructureDefinition/contact", "valueHumanName": {"text": NAME_IN_EXTENSION}}
    ]
    display = good_event(3, 904)
    display["resource"][PATIENT_REFERENCE_FIELD[display["resource"]["resourceType"]]]["display"] = NAME_IN_DISPLAY
    return [
        (b'{"a":' * 300 + b'"\\u0030"' + b"}" * 300, "too_deep"),
        (b"[" * 1_000 + b'{"name": "Kari"}' + b"]" * 1_000, "too_deep"),
        (line(dated_9999), "implausible_date"),
        (line(good_event(2, 902))[:-40], "json_syntax"),
        (line(too_long), "line_too_long"),
        (line(human_name), "identifier"),
        (line(display), "identifier"),
    ]


def utf16_delivery() -> bytes:
    """An event in UTF-16 (with its byte-order mark) carrying a name and a national identity number."""
    event = good_event(0, 905)
    event["resource"]["note"] = [{"text": f"{NAME_IN_UTF16}, fnr {PLANTED_ID}"}]
    return (line(event).decode("utf-8") + "\n").encode("utf-16")


# Landing entries that must go to rejected/, with the reason code each must be recorded with.
# The undecodable name is shown with its byte escaped.
REJECTED = {
    "bad-\\xff-name.ndjson": "undecodable_name",
    "export-[fnr].ndjson": "identifier_in_name",
    "fifo.ndjson": "not_regular_file",
    "link-to-pipe.ndjson": "symlink",
    "link-to-zero.ndjson": "symlink",
    "link-to-passwd.ndjson": "symlink",
    "bomb.ndjson.gz": "too_large",
    "damaged.ndjson.gz": "bad_gzip",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, low_bounds) -> dict:
    home = tmp_path_factory.mktemp("hostile")
    paths = Paths(home).ensure()
    landing = paths.landing
    good = [good_event(i % 4, i + 1) for i in range(8)]

    # Delivered and ingested before: then a different file under the same name, and the same file again.
    (landing / "reused-name.ndjson").write_bytes(line(good[0]) + b"\n")
    (landing / "same-again.ndjson").write_bytes(line(good[1]) + b"\n")
    ingest_new_files(paths, workers=1)
    assert not list(landing.iterdir())
    redelivery = line(good[2]) + b"\n" + line(good[0]) + b"\n"  # one new event, one redelivered
    (landing / "reused-name.ndjson").write_bytes(redelivery)
    (landing / "same-again.ndjson").write_bytes(line(good[1]) + b"\n")

    (landing / "good.ndjson").write_bytes(b"\n".join(line(e) for e in good[3:6]) + b"\n")
    (landing / "good-2.ndjson.gz").write_bytes(gzip.compress(b"\n".join(line(e) for e in good[6:]) + b"\n"))
    bad = bad_lines()
    (landing / "bad-lines.ndjson").write_bytes(b"\n".join(raw for raw, _ in bad) + b"\n")

    with open(os.path.join(os.fsencode(landing), b"bad-\xff-name.ndjson"), "wb") as f:
        f.write(line(good_event(3, 950)))
    (landing / f"export-{PLANTED_ID[:6]} {PLANTED_ID[6:]}.ndjson").write_bytes(line(good_event(0, 951)) + b"\n")
    (landing / "utf16.ndjson").write_bytes(utf16_delivery())
    os.mkfifo(landing / "fifo.ndjson")
    os.mkfifo(home / "elsewhere-pipe")
    (landing / "link-to-pipe.ndjson").symlink_to(home / "elsewhere-pipe")
    (landing / "link-to-zero.ndjson").symlink_to("/dev/zero")
    (landing / "link-to-passwd.ndjson").symlink_to("/etc/passwd")
    bomb = gzip.compress(b"\n" * (50 * FILE_BOUND), compresslevel=9)
    assert len(bomb) < FILE_BOUND / 10
    (landing / "bomb.ndjson.gz").write_bytes(bomb)
    (landing / "damaged.ndjson.gz").write_bytes(gzip.compress(line(good[3]))[:-12])

    started = time.monotonic()
    result = run_cli(home, "run", timeout=RUN_TIMEOUT_S)
    return {
        "home": home,
        "paths": paths,
        "result": result,
        "seconds": time.monotonic() - started,
        "good": good,
        "bad": bad,
        "redelivery": redelivery,
    }


@pytest.fixture(scope="module")
def low_bounds():
    """The run's bounds, lowered so that a small file and line cross them (read by run_cli's env)."""
    saved = {name: os.environ.get(name) for name in ("KRITINFO_MAX_LINE_BYTES", "KRITINFO_MAX_FILE_BYTES")}
    os.environ["KRITINFO_MAX_LINE_BYTES"] = str(LINE_BOUND)
    os.environ["KRITINFO_MAX_FILE_BYTES"] = str(FILE_BOUND)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name)
        else:
            os.environ[name] = value


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_run_publishes_the_good_files_and_exits_3_naming_each_rejected_file(hostile):
    result = hostile["result"]
    assert result.returncode == 3, result.stderr[-4000:]
    assert hostile["seconds"] < RUN_TIMEOUT_S
    reported = [text for text in result.stderr.splitlines() if text.startswith("kritinfo run: rejected landing file ")]
    assert sorted(text.split(" ")[5].rstrip(":") for text in reported) == sorted(REJECTED)
    assert result.stderr.splitlines()[-1] == (
        "kritinfo run: 8 landing files rejected (see above and raw.rejected_files); the other files were published"
    )
    assert (hostile["home"] / "serving.duckdb").exists()
    # Every good event, once: 8 written, none refused.
    assert query(hostile["paths"].serving, "select events_loaded from publish_info") == [(len(hostile["good"]),)]


def test_each_unreadable_entry_is_in_rejected_unopened_with_its_reason(hostile):
    paths = hostile["paths"]
    recorded = query(paths.warehouse, "select shown_name, reason_code, stored_as, sha256 from raw.rejected_files")
    assert {shown: code for shown, code, _, _ in recorded} == REJECTED
    assert not list(paths.landing.iterdir())
    # Entries without content of their own are kept; regular files, never checked, are not.
    kept = {stored: paths.rejected / stored for _, _, stored, _ in recorded if stored}
    assert sorted(os.listdir(paths.rejected)) == sorted(kept)
    assert {shown for shown, _, stored, _ in recorded if stored is None} == {
        "bad-\\xff-name.ndjson",
        "export-[fnr].ndjson",
        "bomb.ndjson.gz",
        "damaged.ndjson.gz",
    }
    by_name = {shown: kept[stored] for shown, _, stored, _ in recorded if stored}
    # Moved as they were: links are still links to the same targets, the pipe is still a pipe.
    assert os.readlink(by_name["link-to-passwd.ndjson"]) == "/etc/passwd"
    assert os.readlink(by_name["link-to-zero.ndjson"]) == "/dev/zero"
    assert stat.S_ISFIFO(os.lstat(by_name["fifo.ndjson"]).st_mode)
    # Regular files are recorded with the sha256 of their bytes; links and pipes are never read.
    hashed = {shown for shown, _, _, sha256 in recorded if sha256}
    assert hashed == {"bad-\\xff-name.ndjson", "export-[fnr].ndjson", "bomb.ndjson.gz", "damaged.ndjson.gz"}
    assert not query(paths.warehouse, f"select * from raw.quarantine where masked_text like '%{PASSWD_MARKER}%'")


def test_each_bad_line_is_quarantined_with_its_reason_and_every_file_reconciles(hostile):
    paths = hostile["paths"]
    quarantined = query(
        paths.warehouse,
        "select source_line, reason_code from raw.quarantine where source_file = 'bad-lines.ndjson' order by 1",
    )
    assert quarantined == [(number, code) for number, (_, code) in enumerate(hostile["bad"], start=1)]
    files = query(
        paths.warehouse,
        "select source_file, lines_read, loaded, duplicates, quarantined from raw.ingested_files order by 1",
    )
    renamed = next(name for name, *_ in files if name.startswith("reused-name~"))
    utf16_lines = sum(1 for text in utf16_delivery().split(b"\n") if text.strip())
    assert files == sorted(
        [
            ("bad-lines.ndjson", len(hostile["bad"]), 0, 0, len(hostile["bad"])),
            ("utf16.ndjson", utf16_lines, 0, 0, utf16_lines),
            ("good-2.ndjson.gz", 2, 2, 0, 0),
            ("good.ndjson", 3, 3, 0, 0),
            ("reused-name.ndjson", 1, 1, 0, 0),
            (renamed, 2, 1, 1, 0),
            ("same-again.ndjson", 1, 1, 0, 0),
        ]
    )
    assert all(read == loaded + duplicates + refused for _, read, loaded, duplicates, refused in files)
    assert query(paths.warehouse, "select count(*) from raw.events") == [(len(hostile["good"]),)]


def test_a_new_file_under_a_used_name_is_its_own_delivery_and_the_same_file_is_not_ingested_twice(hostile):
    paths = hostile["paths"]
    sha256 = hashlib.sha256(hostile["redelivery"]).hexdigest()
    archived = sorted(os.listdir(paths.archive))
    assert f"reused-name~{sha256[:12]}.ndjson" in archived
    assert (paths.archive / f"reused-name~{sha256[:12]}.ndjson").read_bytes() == hostile["redelivery"]
    assert query(paths.warehouse, "select sha256 from raw.ingested_files where source_file like 'reused-name~%'") == [
        (sha256,)
    ]
    assert query(
        paths.warehouse, "select count(*) from raw.ingested_files where source_file = 'same-again.ndjson'"
    ) == [(1,)]


def test_the_first_month_publishes_empty_month_tables_and_every_page_says_so(hostile, monkeypatch):
    serving = hostile["paths"].serving
    assert query(serving, "select count(*) from coverage_national_month") == [(0,)]
    assert query(serving, "select count(*) from metrics") == [(0,)]
    # The arrival-day data quality counts the lines all the same.
    assert query(serving, "select sum(loaded) from data_quality_daily") == [(len(hostile["good"]),)]
    monkeypatch.setenv("KRITINFO_HOME", str(hostile["home"]))
    for page in PAGES:
        app = AppTest.from_file(APP, default_timeout=120)
        app.run()
        app.switch_page(page)
        app.run()
        assert not app.exception, (page, app.exception)
        if page != "views/datakvalitet.py":
            assert NO_COMPLETE_MONTH in [info.value for info in app.info], page


def planted_forms() -> list[bytes]:
    """Every planted string as bytes in UTF-8 and both UTF-16 byte orders."""
    texts = [NAME_IN_EXTENSION, NAME_IN_DISPLAY, NAME_IN_UTF16, PLANTED_ID]
    return [text.encode(encoding) for text in texts for encoding in ("utf-8", "utf-16-le", "utf-16-be")]


def test_no_planted_name_or_number_is_anywhere_under_the_home(hostile):
    home = hostile["home"]
    # The number's digits in order, whatever stands between them (separators, masks cut short).
    digits = re.compile(rb"\D{0,3}".join(re.escape(d.encode()) for d in PLANTED_ID))
    for path in home.rglob("*"):
        if path.is_symlink() or not path.is_file():  # links in rejected/ are never followed
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for planted in planted_forms():
            assert planted not in data, (path, planted)
        assert not digits.search(data), path
    for database in ("warehouse.duckdb", "serving.duckdb"):
        assert columns_holding(home / database, [NAME_IN_EXTENSION, NAME_IN_DISPLAY, NAME_IN_UTF16, PLANTED_ID]) == []
