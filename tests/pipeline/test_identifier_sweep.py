"""Valid national identity numbers planted in many places of many events never reach storage.

A small simulation gets two extra files whose events carry fødselsnummer, D-numbers, H-numbers,
FH-numbers and numbers under the 2032 rule (built in tests/helpers.py from the published formula,
not by the guard), written plain or as producers write them (a space, dash, colon, dot, no-break
space, en dash or tab after the date, a dotted date, zero padding), identifiers with the
national-ID OIDs and a person's name, address and telecom. After a real `kritinfo run` every
planted line is quarantined as `identifier`, the counts reconcile, no file under KRITINFO_HOME
(nor dbt's target/ and logs/) holds any planted value in any written form, no column of either
database does, and coverage equals that of the same simulation without them.
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.contract.validation import AcceptedEvent, validate_line
from pipelines.settings import DBT_PROJECT_DIR
from pipelines.simulate import SimulationConfig, simulate
from tests.conftest import run_cli
from tests.helpers import line, national_id

SIMULATION = SimulationConfig(start=date(2024, 1, 1), end=date(2024, 9, 30), scale=0.01, seed=29, malformed_rate=0.0)
PLANTED_FILE = "zz-planted.ndjson"
PLANTED_GZIP_FILE = "zz-planted-crlf-bom.ndjson.gz"
NATIONAL_ID_OID = "urn:oid:2.16.578.1.12.4.1.4.1"
D_NUMBER_OID = "urn:oid:2.16.578.1.12.4.1.4.2"
# A person's name, address and telephone number, made up to be found nowhere else.
FAMILY_NAME, GIVEN_NAME = "Plantedottir", "Sporsmalina"
STREET, PHONE = "Hemmeligveien 417", "+47 93117412"
# At least 11 digits with up to 3 bytes between each two that a separator can be made of (ASCII
# separators, any byte of a non-ASCII character, a tab as JSON writes it): every written form.
DIGIT_RUNS = re.compile(rb"[0-9](?:(?:[ \t./:_\x80-\xff-]|\\t){0,3}[0-9]){10,}")
NOT_DIGITS = re.compile(rb"[^0-9]")
COVERAGE_TABLES = ("coverage_by_county_month", "coverage_by_region_month", "coverage_national_month")


def national_identity_numbers(kind: str) -> Iterator[str]:
    """Distinct valid numbers of one kind, walking birth dates and individual numbers.

    fnr: the current rule; d: D-number (day + 40); h: H-number (month + 40); 2032: a first
    check digit from the remainders 1-3 that only the rule from 2032 allows; fh: FH-number
    (first digit 8 or 9, then 8 digits with no date in them).
    """
    for step in itertools.count():
        if kind == "fh":
            digits = f"{8 + step % 2}{(7919 * step) % 10**8:08d}"
            number = national_id(digits[:6], digits[6:])
            if number:
                yield number
            continue
        day, month, year = 1 + step % 28, 1 + (step // 28) % 12, (7 * step) % 100
        day += 40 if kind == "d" else 0
        month += 40 if kind == "h" else 0
        number = national_id(
            f"{day:02d}{month:02d}{year:02d}", f"{(37 * step) % 1000:03d}", 1 + step % 3 if kind == "2032" else 0
        )
        if number:
            yield number


# How producers write a number: plain, with one separator after the date (as typed, as word
# processors and web pages write it), with a dotted date, zero-padded to a fixed width.
WRITTEN_FORMS: list[Callable[[str], str]] = [
    lambda n: n,
    lambda n: f"{n[:6]} {n[6:]}",
    lambda n: f"{n[:6]}-{n[6:]}",
    lambda n: f"{n[:6]}:{n[6:]}",
    lambda n: f"{n[:6]}.{n[6:]}",
    lambda n: f"{n[:6]}\u00a0{n[6:]}",
    lambda n: f"{n[:6]}\u2013{n[6:]}",
    lambda n: f"{n[:6]}\t{n[6:]}",
    lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]} {n[6:]}",
    lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:]}",
    lambda n: f"000{n}",
]


class Planter:
    """Builds planted lines from simulated events and remembers every value it planted."""

    def __init__(self, simulated: list[dict]):
        self.bases = itertools.cycle(
            [e for e in simulated if e["resource"]["resourceType"] in ("AllergyIntolerance", "Condition")]
        )
        self.sources = {kind: national_identity_numbers(kind) for kind in ("fnr", "d", "h", "2032", "fh")}
        self.kinds = itertools.cycle(self.sources)
        self.forms = itertools.cycle(WRITTEN_FORMS)
        self.planted: list[str] = []
        self.written: list[str] = []
        self.planted_by_kind: Counter = Counter()

    def number(self, kind: str | None = None, leading_nonzero: bool = False) -> str:
        kind = kind or next(self.kinds)
        number = next(n for n in self.sources[kind] if n not in self.planted and not (leading_nonzero and n[0] == "0"))
        self.planted.append(number)
        self.planted_by_kind[kind] += 1
        return number

    def written_number(self, kind: str | None = None) -> str:
        """A new number in the next written form."""
        written = next(self.forms)(self.number(kind))
        self.written.append(written)
        return written

    def event(self) -> dict:
        """A simulated event as a new person's new entry: valid, and counted were it loaded."""
        event = copy.deepcopy(next(self.bases))
        pseudonym = uuid.uuid4().hex + uuid.uuid4().hex
        event["event_id"] = str(uuid.uuid4())
        event["event_type"] = "created"
        event["patient"]["pseudonym"] = pseudonym
        resource = event["resource"]
        resource["id"] = f"planted-{uuid.uuid4().hex[:12]}"
        resource["patient" if resource["resourceType"] == "AllergyIntolerance" else "subject"]["reference"] = (
            f"Patient/{pseudonym}"
        )
        assert isinstance(validate_line(line(event)), AcceptedEvent), (
            "a planted event must be valid but for what is planted"
        )
        return event

    def lines(self) -> list[bytes]:
        plants: list[Callable[[dict], None]] = [
            lambda e: e["resource"]["code"].update(text=f"Pasient {self.written_number()} reagerte kraftig"),
            lambda e: e["resource"].update(note=[{"text": f"Ringte fastlege om {self.written_number()}."}]),
            lambda e: e["resource"]["code"]["coding"][0].update(
                display=e["resource"]["code"]["coding"][0].get("display", "kode") + f" ({self.written_number()})"
            ),
            lambda e: e["resource"].update(identifier=[{"system": NATIONAL_ID_OID, "value": self.number("fnr")}]),
            lambda e: e["resource"].update(identifier=[{"system": D_NUMBER_OID, "value": self.number("d")}]),
            lambda e: e.update(kommentar=f"fnr:{self.written_number()}"),
            lambda e: e.update(batch=int(self.number(leading_nonzero=True))),
            lambda e: e["source"].update(system=f"EPJ {self.written_number('h')}"),
            lambda e: e["resource"].update(
                extension=[{"url": "http://example.org/x", "valueString": self.number("2032")}]
            ),
            lambda e: e.update(ekstra={self.written_number(): "nøkkel"}),
            lambda e: e["resource"].update(note=[{"text": f"FH-nummer {self.written_number('fh')}"}]),
            lambda e: e["resource"].update(
                contained=[
                    {
                        "resourceType": "Patient",
                        "id": "p1",
                        "identifier": [{"system": NATIONAL_ID_OID, "value": self.number()}],
                        "name": [{"family": FAMILY_NAME, "given": [GIVEN_NAME]}],
                        "address": [{"line": [STREET], "city": "Bergen", "postalCode": "5003"}],
                        "telecom": [{"system": "phone", "value": PHONE}],
                    }
                ]
            ),
            lambda e: e["patient"].update(name=f"{GIVEN_NAME} {FAMILY_NAME}", address=STREET, telecom=PHONE),
        ]
        lines = []
        for _ in range(3):
            for plant in plants:
                event = self.event()
                plant(event)
                lines.append(line(event))
            # A number the raw line spells with JSON escapes only.
            escaped = "".join(f"\\u{ord(c):04x}" for c in self.written_number())
            lines.append(line(self.event())[:-1] + f', "merknad": "{escaped}"}}'.encode())
            # A line that is not JSON.
            lines.append(
                f'{{"event_id": "{uuid.uuid4()}", '
                f'"resource": {{"note": [{{"text": "fnr {self.written_number()}"'.encode()
            )
        return lines


def read_events(landing: Path) -> tuple[list[dict], list[bytes]]:
    raw = [r for path in sorted(landing.iterdir()) for r in path.read_bytes().splitlines() if r.strip()]
    return [json.loads(r) for r in raw], raw


def file_contents(folder: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file below folder, gzip members decompressed (a compressed digit is no digit)."""
    for path in folder.rglob("*"):
        try:
            if not path.is_file():
                continue
            data = path.read_bytes()
        except FileNotFoundError:  # dbt's target/ and logs/ are shared with concurrent runs
            continue
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        yield path, data


def columns_holding(database: Path, needles: list[str]) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every column of every table and view with a value holding a needle."""
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database()"
        ).fetchall()
        assert columns
        for schema, table, column in columns:
            condition = " or ".join([f'cast("{column}" as varchar) like ?'] * len(needles))
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where {condition}', [f"%{needle}%" for needle in needles]
            ).fetchone()[0]
            if hits:
                found.append((schema, table, column))
    return found


def coverage(serving: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return {table: con.execute(f"select * from {table} order by all").fetchall() for table in COVERAGE_TABLES}


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """(home with the planted files, home of the same simulation without them, planted lines
    per file, planted values, redelivered lines per planted file)."""
    planted_home = tmp_path_factory.mktemp("planted")
    clean_home = tmp_path_factory.mktemp("clean")
    for home in (planted_home, clean_home):
        simulate(home / "landing", SIMULATION)
    simulated, simulated_lines = read_events(planted_home / "landing")
    planter = Planter(simulated)
    plain, in_gzip = planter.lines(), planter.lines()
    # Redeliveries of simulated lines beside the planted ones: counted as duplicates.
    redelivered = simulated_lines[:2]
    (planted_home / "landing" / PLANTED_FILE).write_bytes(b"\n".join(plain + redelivered) + b"\n")
    (planted_home / "landing" / PLANTED_GZIP_FILE).write_bytes(
        gzip.compress(b"\xef\xbb\xbf" + b"\r\n".join(redelivered + in_gzip) + b"\r\n")
    )
    planted_lines = {
        PLANTED_FILE: list(range(1, len(plain) + 1)),
        PLANTED_GZIP_FILE: list(range(len(redelivered) + 1, len(redelivered) + len(in_gzip) + 1)),
    }
    for home in (planted_home, clean_home):
        result = run_cli(home, "run")
        assert result.returncode == 0, result.stderr[-4000:]
        assert not any(value in result.stdout + result.stderr for value in planter.planted + planter.written)
    assert min(planter.planted_by_kind[kind] for kind in planter.sources) >= 10
    # Each number as digits and as written, also as JSON writes it (a tab as \t).
    written = {form for w in planter.written for form in (w, json.dumps(w, ensure_ascii=False)[1:-1])}
    values = planter.planted + sorted(written - set(planter.planted)) + [FAMILY_NAME, GIVEN_NAME, STREET, PHONE]
    return planted_home, clean_home, planted_lines, values, len(redelivered)


def test_every_planted_line_is_quarantined_for_an_identifier(homes):
    planted_home, _, planted_lines, _, _ = homes
    with duckdb.connect(str(planted_home / "warehouse.duckdb"), read_only=True) as con:
        quarantined = con.execute(
            "select source_file, source_line, reason_code from raw.quarantine where source_file in (?, ?)",
            [PLANTED_FILE, PLANTED_GZIP_FILE],
        ).fetchall()
    assert sorted(quarantined) == sorted(
        (name, number, "identifier") for name, numbers in planted_lines.items() for number in numbers
    )


def test_counts_reconcile_and_nothing_planted_is_loaded(homes):
    planted_home, clean_home, planted_lines, _, redelivered = homes
    with duckdb.connect(str(planted_home / "warehouse.duckdb"), read_only=True) as con:
        files = {
            row[0]: row[1:]
            for row in con.execute(
                "select source_file, lines_read, loaded, duplicates, quarantined from raw.ingested_files"
            ).fetchall()
        }
        loaded = con.execute("select count(*) from raw.events").fetchone()[0]
    for name, lines in planted_lines.items():
        assert files[name] == (len(lines) + redelivered, 0, redelivered, len(lines))
    assert all(read == ok + duplicates + quarantined for read, ok, duplicates, quarantined in files.values())
    with duckdb.connect(str(clean_home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.events").fetchone()[0] == loaded


def test_no_file_under_the_home_or_dbt_holds_a_planted_value(homes):
    planted_home, _, _, values, _ = homes
    assert not any((planted_home / "landing").iterdir()), "ingested files leave landing/"
    assert {p.name for p in (planted_home / "archive").iterdir()} >= {PLANTED_FILE, PLANTED_GZIP_FILE}
    assert (planted_home / "dagster").is_dir() and any((planted_home / "dagster").rglob("*.db"))
    # A number is looked for by its digits in every run of digits and separators, so every
    # written form of it is found, also one the guard does not know.
    needles = [v.encode() for v in values if v.isdigit() and len(v) == 11]
    texts = [v.encode() for v in (FAMILY_NAME, GIVEN_NAME, STREET, PHONE)]
    searched, found = 0, []
    for folder in (planted_home, DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs"):
        for path, data in file_contents(folder):
            searched += 1
            # Every run of digits (and separators) is searched for the numbers: one pass over the
            # file instead of one per number, and dbt's target/ holds over 100 MB.
            for run in DIGIT_RUNS.finditer(data):
                digits = NOT_DIGITS.sub(b"", run.group())
                found.extend((str(path), needle) for needle in needles if needle in digits)
            found.extend((str(path), text) for text in texts if text in data)
    assert searched > 100
    assert found == []


def test_no_column_of_the_warehouse_or_the_serving_copy_holds_a_planted_value(homes):
    planted_home, _, _, values, _ = homes
    for database in ("warehouse.duckdb", "serving.duckdb"):
        assert columns_holding(planted_home / database, values) == [], database


def test_coverage_equals_that_of_the_simulation_without_the_planted_files(homes):
    planted_home, clean_home, _, _, _ = homes
    with_planted = coverage(planted_home / "serving.duckdb")
    assert all(with_planted.values())
    assert with_planted == coverage(clean_home / "serving.duckdb")
