"""Nothing personal stays in clear under KRITINFO_HOME, and what the runs leave behind is bounded.

A small simulation gets files of refused lines, each carrying a made-up name, birth date,
national identity number, phone and address: a wrong enumeration, invalid FHIR, truncated JSON,
an identifier, a line that is not JSON, and a file written in UTF-16. After two real
`kritinfo run`s (the second with one more such file, gzipped) no planted string is found in any
file under the home (gzip members decompressed, in UTF-8 and in UTF-16) nor in any column of
either database, the quarantine still tells each line's reason, and the counts reconcile. The
runs kept only the newest dbt and Dagster runs the retention allows, and `kritinfo doctor`
reports every area and who holds the locks.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import housekeeping
from pipelines.contract.masking import MASK_TOKEN
from pipelines.settings import DBT_PROJECT_DIR, Paths, Retention
from pipelines.simulate import SimulationConfig, simulate
from tests.conftest import KRITINFO
from tests.helpers import example_event, line, national_id
from tests.pipeline.test_identifier_sweep import columns_holding, file_contents

SIMULATION = SimulationConfig(start=date(2025, 1, 1), end=date(2025, 3, 31), scale=0.01, seed=3, malformed_rate=0.0)
NAME, BIRTH_DATE, NORWEGIAN_BIRTH_DATE = "Ingrid Planteby", "1961-07-23", "23.07.1961"
NUMBER = national_id("230761", "412") or national_id("230761", "413")
PHONE, ADDRESS = "+47 48 21 93 67", "Skjulestien 88"
PLANTED = [NAME, "Planteby", BIRTH_DATE, NORWEGIAN_BIRTH_DATE, NUMBER, PHONE, "48 21 93 67", "48219367", ADDRESS]
NARRATIVE = f"{NAME} født {NORWEGIAN_BIRTH_DATE}, tlf {PHONE}, {ADDRESS}"
PLAIN_FILE, UTF16_FILE, GZIP_FILE = "zz-refused.ndjson", "zz-refused-utf16.ndjson", "zz-refused-later.ndjson.gz"
ENVIRONMENT = {"KRITINFO_KEEP_DBT_RUNS": "1", "KRITINFO_KEEP_DAGSTER_RUNS": "1"}


def carrying_plants(index: int, event_id: str, with_number: bool = False, extra_fields: bool = False) -> dict:
    """An example event with the planted values in a note (the national ID, which the
    identifier guard refuses, only if asked), and if asked in fields the contract does not have."""
    event = example_event(index)
    event["event_id"] = event_id
    event["resource"]["note"] = [{"text": NARRATIVE + (f", fnr {NUMBER}" if with_number else "")}]
    if extra_fields:
        event["patient"]["fodselsdato"] = BIRTH_DATE
        event["patient"]["tlf"] = int(PHONE.replace(" ", "")[3:])
        event["source"]["bosted"] = ADDRESS
    return event


def refused_lines() -> list[tuple[bytes, str, str]]:
    """(line, reason code, part of the reason) of the plain file's lines, in order."""
    wrong_enum = carrying_plants(0, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d01", extra_fields=True)
    wrong_enum["channel"] = NAME
    invalid_fhir = carrying_plants(1, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d02")
    invalid_fhir["resource"]["recordedDate"] = NARRATIVE
    identifier = carrying_plants(2, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d03", with_number=True)
    identifier["resource"]["contained"] = [
        {"resourceType": "Patient", "birthDate": BIRTH_DATE, "name": [{"text": NAME}], "address": [{"line": [ADDRESS]}]}
    ]
    truncated = line(carrying_plants(3, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d04", extra_fields=True))
    return [
        (line(wrong_enum), "invalid_value", "channel: '[text]' is not one of api, portal"),
        (line(invalid_fhir), "fhir_invalid", "FHIR R4 validation failed at recordedDate"),
        (line(identifier), "identifier", "direct identifier: national identity number"),
        (truncated[: truncated.index(b"fodselsdato") + 30], "json_syntax", "invalid JSON"),
        (f"{NAME};{NORWEGIAN_BIRTH_DATE};{NUMBER};{PHONE};{ADDRESS}".encode(), "identifier", "invalid JSON"),
    ]


def utf16_lines() -> list[bytes]:
    return [
        line(carrying_plants(0, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d05", with_number=True)),
        line(carrying_plants(1, "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d06")),
    ]


def run(home: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KRITINFO_HOME": str(home), **environment}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([KRITINFO, *args], env=env, capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """KRITINFO_HOME after two runs: the simulation and two files of refused lines, then one more."""
    home = tmp_path_factory.mktemp("at-rest")
    landing = home / "landing"
    simulate(landing, SIMULATION)
    (landing / PLAIN_FILE).write_bytes(b"\n".join(raw for raw, _, _ in refused_lines()) + b"\n")
    # Its newlines are b"\n\x00": read as UTF-8 lines, a third line holds the last NUL.
    (landing / UTF16_FILE).write_bytes("".join(raw.decode() + "\n" for raw in utf16_lines()).encode("utf-16"))
    result = run(home, "run", **ENVIRONMENT)
    assert result.returncode == 0, result.stderr[-4000:]
    (landing / GZIP_FILE).write_bytes(gzip.compress(b"\r\n".join(raw for raw, _, _ in refused_lines()) + b"\r\n"))
    result = run(home, "run", **ENVIRONMENT)
    assert result.returncode == 0, result.stderr[-4000:]
    return home


def test_no_planted_string_is_anywhere_under_the_home(home):
    needles = [value.encode(encoding) for value in PLANTED for encoding in ("utf-8", "utf-16-le", "utf-16-be")]
    searched, found = 0, []
    for path, data in file_contents(home):
        searched += 1
        found += [(str(path), needle) for needle in needles if needle in data]
    assert searched > 50
    assert {"warehouse.duckdb", "serving.duckdb"} <= {p.name for p in home.iterdir()}
    assert any((home / "dagster").rglob("*.db")) and any((home / "dbt").rglob("*.log"))
    assert any((home / "dagster" / "logs").glob("run-*.log"))  # the run's log, searched too
    assert found == []
    for database in ("warehouse.duckdb", "serving.duckdb"):
        assert columns_holding(home / database, PLANTED) == [], database


def test_every_refused_line_is_quarantined_masked_with_a_readable_reason(home):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        quarantined = {
            (file, number): (code, reason, text)
            for file, number, code, reason, text in con.execute(
                "select source_file, source_line, reason_code, reason, masked_text from raw.quarantine "
                "where source_file like 'zz-%'"
            ).fetchall()
        }
        counts = con.execute(
            "select source_file, lines_read, loaded, duplicates, quarantined from raw.ingested_files"
        ).fetchall()
    for file in (PLAIN_FILE, GZIP_FILE):
        for number, (_, code, reason_part) in enumerate(refused_lines(), start=1):
            got_code, reason, text = quarantined[(file, number)]
            assert (got_code, reason_part in reason) == (code, True), (file, number, reason)
            assert MASK_TOKEN.search(text)
    # The UTF-16 file: no line of it is UTF-8 JSON.
    assert [quarantined[(UTF16_FILE, n)][0] for n in (1, 2, 3)] == ["json_syntax"] * 3
    # Keys, codes and dates stay readable in the masked text.
    _, _, wrong_enum = quarantined[(PLAIN_FILE, 1)]
    kept = json.loads(wrong_enum)
    assert kept["channel"] == "[text]" and kept["resource"]["note"] == [{"text": "[text]"}]
    assert kept["event_id"] == "3a0c4b57-6a1f-4f0e-9d55-1b2f3a4c5d01"
    assert kept["occurred_at"] == example_event(0)["occurred_at"]
    assert kept["resource"]["code"]["coding"][0]["code"] == example_event(0)["resource"]["code"]["coding"][0]["code"]
    # Every file reconciles; the refused files are wholly quarantined.
    assert all(read == loaded + duplicates + refused for _, read, loaded, duplicates, refused in counts)
    refused_files = {name: (read, refused) for name, read, _, _, refused in counts if name.startswith("zz-")}
    assert refused_files == {PLAIN_FILE: (5, 5), GZIP_FILE: (5, 5), UTF16_FILE: (3, 3)}


def test_no_key_and_no_hash_can_reverse_the_masks(home):
    # Masks are fixed tokens: the same value masked in two files reads the same, and nothing
    # under the home is a key (the keyed hash and its secrets/ folder are gone).
    assert not (home / "secrets").exists()
    assert not [p for p in home.rglob("*") if "key" in p.name.lower() or "secret" in p.name.lower()]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        texts = dict(
            con.execute(
                "select source_file, masked_text from raw.quarantine where source_line = 3 and source_file in (?, ?)",
                [PLAIN_FILE, GZIP_FILE],
            ).fetchall()
        )
        assert con.execute("select count(*) from raw.quarantine where masked_text like '%[id:%'").fetchone() == (0,)
    assert texts[PLAIN_FILE] == texts[GZIP_FILE]


def test_the_retention_bounds_dbt_and_dagster_across_runs(home):
    # Two runs, each keeping one: only the second run's dbt files and Dagster history are left.
    assert len([p for p in (home / "dbt").iterdir() if p.is_dir()]) == 1
    assert len(list((home / "dagster" / "history" / "runs").glob("*-*.db"))) == 1
    assert len([p for p in (home / "dagster" / "storage").iterdir() if p.is_dir()]) <= 1
    assert len(list((home / "dagster" / "logs").iterdir())) == 1  # the log of the second `kritinfo run`
    # Nothing of a run is left inside the repository but dbt's parse output.
    assert not [p for p in (DBT_PROJECT_DIR / "target").iterdir() if p.is_dir()]


def test_doctor_reports_every_area_the_locks_and_the_retention(home):
    result = run(home, "doctor")
    assert result.returncode == 0, result.stderr
    for area in ("landing", "archive", "warehouse", "serving copy", "dagster", "dbt runs"):
        assert f"\n  {area} " in result.stdout
    assert "warehouse.lock: free" in result.stdout
    assert "KRITINFO_KEEP_DBT_RUNS" in result.stdout and "KRITINFO_ARCHIVE_RETENTION_DAYS" in result.stdout
    # With a retention of none, it lists what would go, and removes nothing.
    result = run(home, "doctor", KRITINFO_KEEP_DBT_RUNS="0", KRITINFO_ARCHIVE_RETENTION_DAYS="0")
    assert "the next `kritinfo run` would remove:" in result.stdout
    archived = len(list((home / "archive").iterdir()))
    assert "  dbt runs: 1 (" in result.stdout and f"  archive: {archived} (" in result.stdout
    assert (home / "archive" / PLAIN_FILE).exists()


def test_doctor_names_the_process_holding_the_lock(home):
    script = (
        "import sys; from pathlib import Path; from pipelines.settings import Paths; "
        "from pipelines.single_writer import warehouse_lock; held = warehouse_lock(Paths(Path(sys.argv[1]))); "
        "held.__enter__(); print('ready', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run(home, "doctor")
    finally:
        holder.communicate("")
    assert f"warehouse.lock: pid {holder.pid} (" in result.stdout


def test_archived_files_older_than_the_retention_are_removed(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    old, new = paths.archive / "old.ndjson", paths.archive / "new.ndjson"
    for path in (old, new):
        path.write_bytes(b"{}\n")
    os.utime(old, (time.time() - 11 * 86_400,) * 2)
    for n in range(3):
        (paths.dbt_runs / f"run-{n}").mkdir()
        os.utime(paths.dbt_runs / f"run-{n}", (time.time() - n * 60,) * 2)

    removals = housekeeping.planned_removals(paths, Retention(dbt_runs=2, archive_days=10))

    assert {(r.area, Path(r.what).name) for r in removals if "dbt_project" not in r.what} == {
        ("archive", "old.ndjson"),
        ("dbt runs", "run-2"),
    }
    housekeeping.apply(paths, removals)
    assert sorted(p.name for p in paths.archive.iterdir()) == ["new.ndjson"]
    assert sorted(p.name for p in paths.dbt_runs.iterdir()) == ["run-0", "run-1"]
