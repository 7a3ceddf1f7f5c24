"""Property-based tests: mutated events never crash validation or ingestion, and the memoised
FHIR structure check gives the verdict of the full R4B model on any resource.

The seeds are the contract's example events and a small simulation; hypothesis mutates them
(drops fields, changes types, puts huge or nested junk in, truncates the line, inserts random
or invalid UTF-8 bytes, makes the line very long).
"""

from __future__ import annotations

import copy
import gzip
import json
import tempfile
import typing
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import duckdb
import orjson
from fhir_core import types as fhir_types
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pipelines.contract import fhir
from pipelines.contract.fhir import fhir_model, structure_error
from pipelines.contract.validation import REASON_CODES, AcceptedEvent, Rejection, validate_line
from pipelines.contract.vocabulary import PATIENT_REFERENCE_FIELD
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from pipelines.simulate import SimulationConfig, simulate
from tests.helpers import example_events

HUGE_TEXT = "x" * 200_000


@cache
def seed_events() -> tuple[dict, ...]:
    """The contract's examples and every event of a small simulation (all six resource types)."""
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder) / "landing"
        simulate(
            landing,
            SimulationConfig(
                start=date(2024, 1, 1),
                end=date(2024, 6, 30),
                scale=0.01,
                seed=5,
                malformed_rate=0.0,
                duplicate_rate=0.0,
            ),
        )
        simulated = [orjson.loads(raw) for path in sorted(landing.iterdir()) for raw in path.read_bytes().splitlines()]
    return (*example_events(), *simulated)


def locations(node: object, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside node (dict keys and list indexes), the node itself excluded."""
    found = []
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return found
    for key, value in items:
        found.append((*path, key))
        found.extend(locations(value, (*path, key)))
    return found


def parent_of(root: object, path: tuple) -> object:
    for key in path[:-1]:
        root = root[key]
    return root


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([HUGE_TEXT, 10**40, -(2**63) - 1, 2**64, "\ud800", "\x00", "", " ", "Patient/", "9999-99-99"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
date_times = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14)), timezone(timedelta(hours=1))]
    ),
)
# Values of the right type but at their limits, so a mutated line can get past validation.
plausible = st.one_of(
    date_times.map(lambda d: d.isoformat()),
    st.integers(1870, 10_000),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", " ", "x", HUGE_TEXT, "2025-02-30T10:00:00+01:00", "2025-03-14T09:02:11Z"]),
)


@st.composite
def mutated_object(draw, root: dict) -> object:
    """A deep copy of root with 1-4 fields dropped, changed in type or value, or added."""
    mutated = copy.deepcopy(root)
    for _ in range(draw(st.integers(1, 4))):
        paths = locations(mutated)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = parent_of(mutated, path)
        action = draw(st.sampled_from(["drop", "junk", "plausible", "add"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(junk)
        else:
            parent[path[-1]] = draw(junk if action == "junk" else plausible)
    return mutated


def serialised(value: object) -> bytes:
    # The standard library writes what orjson refuses (integers beyond 64 bits, NaN, lone surrogates).
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def mutated_lines(draw) -> bytes:
    """A line from a seed event, mutated as an object and/or as bytes."""
    raw = serialised(draw(mutated_object(draw(st.sampled_from(seed_events())))))
    damage = draw(st.sampled_from(["none", "truncate", "insert", "invalid_utf8", "random", "long"]))
    if damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage in ("insert", "invalid_utf8"):
        at = draw(st.integers(0, len(raw)))
        inserted = (
            draw(st.binary(min_size=1, max_size=16))
            if damage == "insert"
            else draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]))
        )
        raw = raw[:at] + inserted + raw[at:]
    elif damage == "random":
        raw = draw(st.binary(max_size=200))
    elif damage == "long":
        raw = raw[:-1] + b', "padding": "' + b"y" * 2_000_000 + b'"}'
    return raw


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_lines())
def test_validate_line_never_raises_and_gives_an_event_or_a_known_reason(raw):
    result = validate_line(raw)
    assert isinstance(result, (AcceptedEvent, Rejection))
    if isinstance(result, Rejection):
        assert result.reason_code in REASON_CODES
        assert isinstance(result.masked_text, str)


@st.composite
def landing_files(draw) -> list[tuple[str, bytes, list[int], int]]:
    """1-2 files of valid, mutated, blank and repeated lines, each as (name, bytes, line numbers
    of repetitions of a line the contract accepts, number of non-blank lines). A file starts with
    a valid line, so a leading BOM is always the file's and never part of random bytes."""
    files = []
    for index in range(draw(st.integers(1, 2))):
        lines: list[bytes] = []
        repeated_valid: list[int] = []
        for kind in ["valid"] + draw(st.lists(st.sampled_from(["valid", "mutated", "blank", "repeat"]), max_size=6)):
            if kind == "valid":
                event = copy.deepcopy(draw(st.sampled_from(seed_events())))
                event["event_id"] = str(uuid.UUID(int=draw(st.integers(1, 2**64)), version=4))
                lines.append(serialised(event))
            elif kind == "mutated":
                # A line break inside a value would make two lines; the producer's lines hold none.
                lines.append(draw(mutated_lines()).replace(b"\n", b" "))
            elif kind == "blank":
                lines.append(draw(st.sampled_from([b"", b"   ", b"\r"])))
            elif lines[-1].strip():
                previous = lines[-1]
                lines.append(previous)
                if isinstance(validate_line(previous), AcceptedEvent):
                    repeated_valid.append(len(lines))
        data = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n"]))
        name = f"fuzz-{index}.ndjson"
        if draw(st.booleans()):
            name, data = name + ".gz", gzip.compress(draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data)
        files.append((name, data, repeated_valid, sum(1 for line in lines if line.strip())))
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(landing_files())
def test_ingestion_never_crashes_and_every_line_ends_loaded_duplicate_or_quarantined(files):
    with tempfile.TemporaryDirectory() as folder:
        paths = Paths(Path(folder)).ensure()
        for name, data, _, _ in files:
            (paths.landing / name).write_bytes(data)

        report = ingest_new_files(paths, workers=1)

        counts = {f.source_file: f for f in report.files}
        assert set(counts) == {name for name, _, _, _ in files}
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            for name, _, repeated_valid, non_blank in files:
                file = counts[name]
                assert file.lines_read == non_blank
                assert file.lines_read == file.loaded + file.duplicates + file.quarantined
                rows = {
                    table: con.execute(f"select count(*) from raw.{table} where source_file = ?", [name]).fetchone()[0]
                    for table in ("events", "duplicate_deliveries", "quarantine")
                }
                assert (rows["events"], rows["duplicate_deliveries"], rows["quarantine"]) == (
                    file.loaded,
                    file.duplicates,
                    file.quarantined,
                )
                duplicate_lines = {
                    line
                    for (line,) in con.execute(
                        "select source_line from raw.duplicate_deliveries where source_file = ?", [name]
                    ).fetchall()
                }
                assert set(repeated_valid) <= duplicate_lines
                reasons = {
                    code
                    for (code,) in con.execute(
                        "select distinct reason_code from raw.quarantine where source_file = ?", [name]
                    ).fetchall()
                }
                assert reasons <= set(REASON_CODES)


@st.composite
def mutated_resources(draw) -> dict:
    """A seed event's resource, mutated, as ingestion sees it: parsed from JSON by orjson."""
    resource = draw(mutated_object(draw(st.sampled_from(seed_events()))["resource"]))
    try:
        parsed = orjson.loads(serialised(resource))
    except orjson.JSONDecodeError:
        assume(False)
    assume(
        isinstance(parsed, dict)
        and isinstance(parsed.get("resourceType"), str)
        and parsed["resourceType"] in PATIENT_REFERENCE_FIELD
    )
    return parsed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_resources())
def test_memoised_fhir_check_agrees_with_the_full_model(resource):
    resource_type = resource["resourceType"]
    try:
        fhir_model(resource_type).model_validate_json(orjson.dumps(resource))
        model_valid = True
    except ValidationError:
        model_valid = False
    assert (structure_error(resource_type, resource, orjson.dumps(resource)) is None) == model_valid


def accepted(adapter, value: str) -> bool:
    try:
        adapter.validate_json(orjson.dumps(value))
        return True
    except ValidationError:
        return False


date_times = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from(["", ".5", ".123456", ".1234567", "."]),
    st.sampled_from(["Z", "+01:00", "-14:00", "+14:00", "+14:01", "+1:00", "", "+02:00:00", "z"]),
) | st.text(max_size=40)
ids = st.from_regex(r"[A-Za-z0-9\-.]{0,300}", fullmatch=True) | st.text(max_size=80)
strings = st.from_regex(r"[!-~]{0,100}", fullmatch=True) | st.text(max_size=60)
# The types whose values the memo judges by a representative, and values to try.
REPRESENTED = {
    "id": (fhir_types.IdType, ids),
    "string": (fhir_types.StringType, strings),
    "dateTime": (fhir_types.DateTimeType, date_times),
    "instant": (fhir_types.InstantType, date_times),
}


@settings(max_examples=3000, deadline=None)
@given(st.data())
def test_a_remembered_representative_gets_the_same_verdict_as_the_value(data):
    # The memo judges a value by its representative: that is exact only if they never disagree.
    kind = data.draw(st.sampled_from(sorted(REPRESENTED)))
    annotated, values = REPRESENTED[kind]
    adapter, representative = TypeAdapter(annotated), fhir.REPRESENTATIVES[typing.get_args(annotated)[1].__class__]
    value = data.draw(values)
    assert accepted(adapter, representative(value)) == accepted(adapter, value)
