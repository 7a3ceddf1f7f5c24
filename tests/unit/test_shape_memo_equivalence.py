"""The FHIR structure check memoised per shape (pipelines/contract/fhir.py) gives every line the
verdict and the reason that validating each resource with the full R4B model gives.

Both run over the same lines, in the same order (so the memo is warm with the shapes of the
valid lines when their mutants come): a simulation with its malformed lines, the contract's
examples, the hostile lines, the v1.1 edge-case delivery, a foreign delivery written from the
contract alone, and mutants of valid resources: each value (and each object and list) replaced
by an invalid or unusual form of every JSON type, and extra keys at every depth.
"""

from __future__ import annotations

import copy
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from pipelines.contract import fhir
from pipelines.contract.validation import AcceptedEvent, validate_line
from pipelines.simulate import SimulationConfig, simulate
from tests.foreign.generator import write_delivery
from tests.helpers import example_events, line
from tests.pipeline.test_contract_v11_edge_cases import delivery
from tests.pipeline.test_hostile_input import bad_lines

DELIVERED_AT = datetime(2026, 11, 30, tzinfo=UTC)
STRINGS = (
    "",
    " ",
    "x ",
    " x",
    "a b",
    "x\n",
    "x\u0000",
    "\u00e6\u00f8\u00e5",
    "x" * 65,
    "x" * 2000,
    "-",
    "0",
    "-1",
    "1.5",
    "1e400",
    "true",
    "Patient/",
    "urn:oid:1.2",
    "http://example.org/a b",
    "2024",
    "2024-02",
    "2024-02-30",
    "2024-13-01",
    "2024-02-29T12:00:00",
    "2024-02-29T24:00:00+01:00",
    "2024-02-29T23:59:60+01:00",
    "2024-02-29T12:00:00.1234567Z",
    "2024-02-29T12:00:00+14:01",
    "2024-02-29T12:00:00z",
    "2024-02-29T12:00Z",
    "2024-02-29 12:00:00Z",
)
OTHERS = (None, True, False, 0, -1, 1.5, 10**30, [], {}, ["x"], {"x": "y"}, [None], [[]])


def read_lines(folder: Path) -> list[bytes]:
    return [raw for path in sorted(folder.iterdir()) for raw in path.read_bytes().splitlines() if raw.strip()]


def simulated_lines() -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder) / "landing"
        simulate(landing, SimulationConfig(start=date(2025, 1, 1), end=date(2025, 6, 30), scale=0.02, seed=14))
        return read_lines(landing)


def foreign_lines() -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        write_delivery(Path(folder) / "landing", persons=300)
        return read_lines(Path(folder) / "landing")


def places(node: object, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside node (keys and list indexes)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    found = []
    for key, value in items:
        found.append((*path, key))
        found.extend(places(value, (*path, key)))
    return found


def mutants(event: dict) -> list[dict]:
    """The event with one value of its resource changed, or one key added, per mutant."""
    out = []
    resource = event["resource"]
    for path in places(resource):
        old = resource
        for key in path:
            old = old[key]
        for new in (*STRINGS, *OTHERS) if isinstance(old, str) else (*STRINGS[:6], *OTHERS):
            mutant = copy.deepcopy(event)
            parent = mutant["resource"]
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = new
            out.append(mutant)
    for path in [(), *places(resource)]:
        for key, value in (("extra", "x"), ("_id", {"id": "x"}), ("id", "x y"), ("resourceType", "Patient")):
            mutant = copy.deepcopy(event)
            node = mutant["resource"]
            for part in path:
                node = node[part]
            if isinstance(node, dict):
                node[key] = value
                out.append(mutant)
    return out


def mutated_lines(valid: list[bytes]) -> list[bytes]:
    """Mutants of a valid event of each resource type and each set of keys."""
    seeds = {}
    for raw in valid:
        resource = orjson.loads(raw)["resource"]
        seeds.setdefault((resource["resourceType"], tuple(sorted(resource))), raw)
    return [line(mutant) for raw in seeds.values() for mutant in mutants(orjson.loads(raw))]


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    simulated = simulated_lines()
    events = [*example_events(), *delivery()]
    valid = [
        raw for raw in [*simulated, *map(line, events)] if isinstance(validate_line(raw, DELIVERED_AT), AcceptedEvent)
    ]
    return [*simulated, *map(line, events), *(raw for raw, _ in bad_lines()), *foreign_lines(), *mutated_lines(valid)]


def test_the_inputs_cover_valid_lines_and_every_kind_of_fhir_refusal(lines):
    results = [validate_line(raw, DELIVERED_AT) for raw in lines]
    fhir_reasons = {r.reason.split(":")[0] for r in results if getattr(r, "reason_code", None) == "fhir_invalid"}
    assert sum(isinstance(r, AcceptedEvent) for r in results) > 1_000
    assert len(fhir_reasons) > 50  # refused at many different places


def test_the_memoised_check_gives_the_verdict_and_reason_of_the_full_model_on_every_line(lines, monkeypatch):
    fhir._shapes.clear()
    memoised = [validate_line(raw, DELIVERED_AT) for raw in lines]
    assert fhir._shapes, "the memo was used"
    monkeypatch.setattr(
        fhir, "structure_error", lambda resource_type, resource, text: fhir.model_structure_error(resource_type, text)
    )
    reference = [validate_line(raw, DELIVERED_AT) for raw in lines]
    different = [(raw[:300], m, r) for raw, m, r in zip(lines, memoised, reference, strict=True) if m != r]
    assert not different, different[:3]
