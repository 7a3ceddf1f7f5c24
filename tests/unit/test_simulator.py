"""The national simulator: determinism, contract conformance, mess, calibration, injected effect."""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from pipelines.contract.validation import Rejection, validate_line
from pipelines.contract.vocabulary import (
    CHANNELS,
    EVENT_TYPES,
    HEALTH_REGIONS,
    PATIENT_REFERENCE_FIELD,
    PORTAL_SYSTEM,
    PROFILE_BASE,
    critical_information_types,
)
from pipelines.settings import SEEDS_DIR
from pipelines.simulate import SimulationConfig, SimulationSummary, simulate
from pipelines.simulate.model import YEAR, Person, World
from pipelines.simulate.writer import serialize

OSLO = ZoneInfo("Europe/Oslo")
NO_MESS = {"duplicate_rate": 0.0, "late_rate": 0.0, "malformed_rate": 0.0}


# --- helpers --------------------------------------------------------------------------------


def _files(landing: Path) -> list[Path]:
    return sorted(landing.glob("events-*.ndjson"))


def _lines(landing: Path) -> list[tuple[Path, bytes]]:
    return [(path, line) for path in _files(landing) for line in path.read_bytes().split(b"\n") if line]


def _file_day(path: Path) -> date:
    return date.fromisoformat(path.name[len("events-") : -len(".ndjson")])


def _accepted(raw: bytes) -> tuple[bool, str]:
    """Whether the contract's validator accepts the line, and its reason if not."""
    result = validate_line(raw)
    return not isinstance(result, Rejection), getattr(result, "reason", "")


def _fhir_model(resource_type: str):
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    return getattr(module, resource_type)


def _region_of_county() -> dict[str, str]:
    with open(SEEDS_DIR / "counties.csv", newline="", encoding="utf-8") as f:
        return {row["county_code"]: row["health_region"] for row in csv.DictReader(f)}


def _type_of(resource: dict) -> str | None:
    """Independent classification following the contract's recognition table and the seed."""
    for kind in critical_information_types():
        if kind.resource_type != resource["resourceType"]:
            continue
        if not kind.category_codes:
            return kind.type_id
        if kind.resource_type == "AllergyIntolerance":
            found = set(resource.get("category", []))
        else:
            categories = resource.get("category", [])
            categories = categories if isinstance(categories, list) else [categories]
            found = {
                c["code"] for cc in categories for c in cc.get("coding", []) if c.get("system") == kind.category_system
            }
        if found & set(kind.category_codes):
            return kind.type_id
    return None


def _run(tmp_path_factory, name: str, config: SimulationConfig) -> tuple[Path, SimulationSummary]:
    landing = tmp_path_factory.mktemp(name) / "landing"
    return landing, simulate(landing, config)


# --- fixtures (module-scoped: each world is drawn once) --------------------------------------

# Around helse-vest's go-live (2024-09-01), so both channels occur.
CLEAN = SimulationConfig(start=date(2023, 6, 1), end=date(2025, 6, 30), scale=0.02, seed=7, **NO_MESS)
MESSY = SimulationConfig(
    start=date(2024, 1, 1),
    end=date(2024, 12, 31),
    scale=0.02,
    seed=11,
    duplicate_rate=0.05,
    late_rate=0.1,
    malformed_rate=0.03,
)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return _run(tmp_path_factory, "clean", CLEAN)


@pytest.fixture(scope="module")
def clean_events(clean):
    landing, _ = clean
    return [(path, line, orjson.loads(line)) for path, line in _lines(landing)]


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return _run(tmp_path_factory, "messy", MESSY)


# --- determinism ----------------------------------------------------------------------------


def test_same_config_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    config = SimulationConfig(
        start=date(2024, 6, 1),
        end=date(2024, 12, 31),
        scale=0.003,
        seed=3,
        duplicate_rate=0.05,
        late_rate=0.1,
        malformed_rate=0.02,
    )
    first = simulate(tmp_path / "a", config)
    second = simulate(tmp_path / "b", config)
    other = simulate(tmp_path / "c", replace(config, seed=4))

    names_a = [p.name for p in _files(tmp_path / "a")]
    assert names_a and names_a == [p.name for p in _files(tmp_path / "b")]
    for name in names_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.lines_written == second.lines_written and first.events == second.events

    contents_a = {p.name: p.read_bytes() for p in _files(tmp_path / "a")}
    contents_c = {p.name: p.read_bytes() for p in _files(tmp_path / "c")}
    assert contents_a != contents_c
    ids_a = {orjson.loads(line)["patient"]["pseudonym"] for _, line in _lines(tmp_path / "a") if _accepted(line)[0]}
    ids_c = {orjson.loads(line)["patient"]["pseudonym"] for _, line in _lines(tmp_path / "c") if _accepted(line)[0]}
    assert not ids_a & ids_c  # another seed is another population
    assert other.events > 0


def test_existing_target_file_is_refused_before_anything_is_written(tmp_path):
    config = SimulationConfig(start=date(2024, 3, 1), end=date(2024, 4, 30), scale=0.01, seed=5)
    simulate(tmp_path, config)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(FileExistsError, match="events-2024-"):
        simulate(tmp_path, config)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp files, nothing rewritten


# --- contract conformance -------------------------------------------------------------------


def test_every_line_is_a_valid_event_when_there_is_no_mess(clean, clean_events):
    _, summary = clean
    assert summary.duplicates_written == summary.malformed_written == summary.late_events == 0
    assert len(clean_events) == summary.lines_written == summary.events > 1000
    refused = [(path.name, reason) for path, line, _ in clean_events for ok, reason in [_accepted(line)] if not ok]
    assert refused == []
    ids = [obj["event_id"] for _, _, obj in clean_events]
    assert len(set(ids)) == len(ids)
    for path, _, obj in clean_events:  # no late events: delivered the day they occurred
        assert datetime.fromisoformat(obj["occurred_at"]).astimezone(OSLO).date() == _file_day(path)


def test_resources_are_valid_fhir_r4_with_the_patient_reference_in_the_right_field(clean_events):
    for _, _, obj in clean_events:
        resource = obj["resource"]
        _fhir_model(resource["resourceType"]).model_validate(resource)
        field = PATIENT_REFERENCE_FIELD[resource["resourceType"]]
        assert resource[field] == {"reference": f"Patient/{obj['patient']['pseudonym']}"}
        assert resource["meta"]["profile"][0].startswith(PROFILE_BASE + "Kj")
        occurred = datetime.fromisoformat(obj["occurred_at"])
        # The offset is Europe/Oslo's at that instant, and seconds precision.
        assert occurred.utcoffset() == occurred.astimezone(OSLO).utcoffset()
        assert len(obj["occurred_at"]) == 25 and occurred.microsecond == 0
        if "recordedDate" in resource:
            assert datetime.fromisoformat(resource["recordedDate"]) < occurred


def test_types_are_coded_as_the_contract_says(clean_events):
    seen = Counter()
    substance_as_text = 0
    for _, _, obj in clean_events:
        resource = obj["resource"]
        kind = _type_of(resource)
        assert kind is not None, resource
        seen[kind] += 1
        coding = (resource.get("code") or {}).get("coding", [{}])[0]
        if kind == "drug-reaction" and "coding" not in resource["code"]:
            # Only a registration in the portal leaves the substance as text (later versions keep it).
            assert resource["code"]["text"]
            if obj["event_type"] == "created":
                assert obj["channel"] == "portal"
                substance_as_text += 1
        elif kind == "drug-reaction":
            assert coding["system"] == "http://www.whocc.no/atc" and len(coding["code"]) == 7
        elif resource["resourceType"] == "AllergyIntolerance":
            assert coding["system"] == "urn:oid:2.16.578.1.12.4.1.1.7514"
            assert resource["category"][0] in ("food", "environment", "biologic")
        elif resource["resourceType"] == "Condition":
            assert coding["system"] == "urn:oid:2.16.578.1.12.4.1.1.7110"
        if resource["resourceType"] in ("AllergyIntolerance", "Condition"):
            assert "recordedDate" in resource
    assert set(seen) == {t.type_id for t in critical_information_types()}
    assert 0 < substance_as_text < 0.2 * seen["drug-reaction"]  # created events are fewer still


def test_lifecycle_versions_event_types_and_statuses(clean_events):
    assert {obj["event_type"] for _, _, obj in clean_events} == set(EVENT_TYPES)
    by_entry = defaultdict(list)
    for _, _, obj in clean_events:
        r = obj["resource"]
        by_entry[(r["resourceType"], r["id"])].append(obj)
    entries_per_person = Counter()
    for versions in by_entry.values():
        versions.sort(key=lambda o: datetime.fromisoformat(o["occurred_at"]))
        assert [o["resource"]["meta"]["versionId"] for o in versions] == [str(i) for i in range(1, len(versions) + 1)]
        assert versions[0]["event_type"] == "created"
        assert all(o["event_type"] != "created" for o in versions[1:])
        assert len({o["patient"]["pseudonym"] for o in versions}) == 1
        entries_per_person[versions[0]["patient"]["pseudonym"]] += 1
        for o in versions:
            r = o["resource"]
            clinical = (r.get("clinicalStatus") or {}).get("coding", [{}])[0].get("code")
            verification = (r.get("verificationStatus") or {}).get("coding", [{}])[0].get("code")
            if o["event_type"] == "inactivated":
                if "verificationStatus" in r:
                    assert clinical in ("inactive", "resolved")
                else:
                    assert r["status"] in ("inactive", "completed", "stopped")
            elif o["event_type"] == "entered-in-error":
                if "verificationStatus" in r:
                    assert verification == "entered-in-error" and clinical is None
                else:
                    assert r["status"] == "entered-in-error"
            else:
                assert clinical in (None, "active")
                assert r.get("status") in (None, "active", "in-progress")
        # Nothing happens to an entry after it was inactivated or entered in error.
        assert all(o["event_type"] not in ("inactivated", "entered-in-error") for o in versions[:-1])
    assert max(entries_per_person.values()) >= 3  # some persons have several entries
    municipalities = defaultdict(set)
    for _, _, obj in clean_events:
        municipalities[obj["patient"]["pseudonym"]].add(obj["patient"]["municipality"])
    assert any(len(m) > 1 for m in municipalities.values())  # some persons move


def test_channels_organisations_and_api_go_live(clean_events):
    region_of = _region_of_county()
    go_live = CLEAN.api_go_live
    channels = Counter()
    organisations = {}
    for _, _, obj in clean_events:
        source = obj["source"]
        channels[obj["channel"]] += 1
        assert len(source["organisation_id"]) == 9 and source["organisation_id"].isdigit()
        assert region_of[source["municipality"][:2]] == source["health_region"]
        assert obj["patient"]["municipality"][:2] in region_of
        # One organisation keeps its type, region and municipality.
        fixed = (source["organisation_type"], source["health_region"], source["municipality"])
        assert organisations.setdefault(source["organisation_id"], fixed) == fixed
        if obj["channel"] == "portal":
            assert source["system"] == PORTAL_SYSTEM
        else:
            assert source["system"] != PORTAL_SYSTEM
            day = datetime.fromisoformat(obj["occurred_at"]).astimezone(OSLO).date()
            assert day >= go_live[source["health_region"]], obj["event_id"]
    assert set(channels) == set(CHANNELS)
    api_regions = {obj["source"]["health_region"] for _, _, obj in clean_events if obj["channel"] == "api"}
    assert api_regions == {"helse-vest"}  # the only region live before 2025-06-30


def test_each_type_builds_entries_the_contract_accepts_as_that_type():
    """The builder of each resource type and the lifecycle, driven directly, type by type: every version of
    every entry is a line the contract's validator accepts, recognises as the type it was built as, and
    valid FHIR R4."""
    live = {region: date(2024, 1, 1) for region in HEALTH_REGIONS}  # both channels from the start
    world = World(
        SimulationConfig(
            start=date(2024, 1, 1), end=date(2025, 12, 31), scale=0.01, seed=13, api_go_live=live, ramp_months=0
        )
    )
    county = world.counties[0]
    created = world.midnight(date(2024, 3, 4).toordinal()) + 10 * 3600
    entries_per_type = 100
    for kind in world.types:
        for _ in range(entries_per_type):
            index = len(world.persons)
            # Persons who leave after a year: every entry not withdrawn or refuted before is inactivated.
            person = Person(
                index, world.pseudonym(index), 1950, "female", county, county.municipalities[0], created, created + YEAR
            )
            world.persons.append(person)
            world.entry(person, kind, created, None)
    seen = Counter()
    for event in world.events:
        accepted = validate_line(serialize(event))
        assert not isinstance(accepted, Rejection), (event.entry.type_id, event.event_type, accepted.reason)
        assert accepted.critical_information_type == event.entry.type_id
        assert accepted.resource_type == event.entry.resource_type
        resource = orjson.loads(accepted.resource_json)
        _fhir_model(resource["resourceType"]).model_validate(resource)
        seen[(event.entry.type_id, event.event_type, event.channel)] += 1
    for kind in world.types:
        assert seen[(kind.type_id, "created", "api")] + seen[(kind.type_id, "created", "portal")] == entries_per_type
        assert seen[(kind.type_id, "created", "api")] and seen[(kind.type_id, "created", "portal")], kind.type_id
        assert any(seen[(kind.type_id, "inactivated", channel)] for channel in CHANNELS), kind.type_id
    assert {event_type for _, event_type, _ in seen} == set(EVENT_TYPES)
    verifications = {event.state.verification for event in world.events}
    assert {"unconfirmed", "provisional", "confirmed", "refuted", "entered-in-error"} <= verifications


# --- mess -----------------------------------------------------------------------------------


def test_duplicates_malformed_and_late_lines_match_the_summary(messy):
    landing, summary = messy
    lines = _lines(landing)
    assert len(lines) == summary.lines_written
    assert summary.files_written == len(_files(landing))
    first_seen: dict[str, bytes] = {}
    first_delivery: dict[str, date] = {}
    duplicates = malformed = 0
    for path, line in lines:
        ok, _ = _accepted(line)
        if not ok:
            malformed += 1
            continue
        obj = orjson.loads(line)
        occurred_day = datetime.fromisoformat(obj["occurred_at"]).astimezone(OSLO).date()
        lateness = (_file_day(path) - occurred_day).days
        assert 0 <= lateness <= 30, (path.name, obj["event_id"])
        if obj["event_id"] in first_seen:
            assert first_seen[obj["event_id"]] == line  # a redelivery is the identical line
            duplicates += 1
        else:
            first_seen[obj["event_id"]] = line
            first_delivery[obj["event_id"]] = _file_day(path)
    assert summary.malformed_written > 10 and malformed == summary.malformed_written
    assert summary.duplicates_written > 10 and duplicates == summary.duplicates_written
    assert len(first_seen) == summary.events
    late = sum(
        1
        for eid, line in first_seen.items()
        if first_delivery[eid] > datetime.fromisoformat(orjson.loads(line)["occurred_at"]).astimezone(OSLO).date()
    )
    assert late == summary.late_events > 0
    assert summary.lines_written == summary.events + summary.duplicates_written + summary.malformed_written
    assert all(n > 0 for n in summary.malformed_by_kind.values())  # every kind of breakage occurs


def test_lines_are_ordered_by_occurred_at_then_event_id(messy):
    landing, _ = messy
    for path in _files(landing):
        keys = []
        for line in path.read_bytes().split(b"\n"):
            if line and _accepted(line)[0]:
                obj = orjson.loads(line)
                keys.append((datetime.fromisoformat(obj["occurred_at"]), obj["event_id"]))
        assert keys == sorted(keys), path.name


# --- calibration and the injected effect ------------------------------------------------------


def _active_persons(lines, at_end_of: date) -> int:
    """Persons with at least one active entry at the end of a day (contract v1 definition)."""
    cutoff = datetime.combine(at_end_of + timedelta(days=1), datetime.min.time(), OSLO)
    latest: dict[tuple[str, str], tuple] = {}
    seen: set[str] = set()
    for _, line in lines:
        obj = orjson.loads(line)
        if obj["event_id"] in seen:
            continue
        seen.add(obj["event_id"])
        occurred = datetime.fromisoformat(obj["occurred_at"])
        if occurred >= cutoff:
            continue
        r = obj["resource"]
        key = (r["resourceType"], r["id"])
        rank = (occurred, int(r["meta"]["versionId"]))
        if key not in latest or rank > latest[key][0]:
            latest[key] = (rank, obj)
    persons = set()
    for _, obj in latest.values():
        r = obj["resource"]
        clinical = (r.get("clinicalStatus") or {}).get("coding", [{}])[0].get("code", "active")
        verification = (r.get("verificationStatus") or {}).get("coding", [{}])[0].get("code")
        if (
            obj["event_type"] in ("created", "updated")
            and clinical == "active"
            and verification not in ("entered-in-error", "refuted")
        ):
            persons.add(obj["patient"]["pseudonym"])
    return len(persons)


def test_persons_with_critical_information_match_published_figures(tmp_path):
    scale = 0.02
    config = SimulationConfig(start=date(2014, 1, 1), end=date(2023, 1, 31), scale=scale, seed=2024)
    simulate(tmp_path, config)
    lines = [(p, line) for p, line in _lines(tmp_path) if _accepted(line)[0]]
    end_2022 = _active_persons(lines, date(2022, 12, 31))
    end_2021 = _active_persons(lines, date(2021, 12, 31))
    assert abs(end_2022 - 97_000 * scale) <= 0.15 * 97_000 * scale, end_2022
    assert abs(end_2021 - 84_000 * scale) <= 0.15 * 84_000 * scale, end_2021
    assert 1.05 < end_2022 / end_2021 < 1.25  # about +15 % in 2022


def test_injected_effect_is_visible_in_new_persons_per_region(tmp_path):
    """Difference in differences of new persons: Helse Vest (live, ramped) against Helse Sør-Øst (never live)."""
    go_live, ramped = date(2024, 3, 1), date(2024, 6, 1)
    config = SimulationConfig(
        start=date(2023, 6, 1),
        end=date(2025, 5, 31),
        scale=0.4,
        seed=99,
        api_go_live={"helse-vest": go_live},
        ramp_months=3,
        **NO_MESS,
    )
    summary = simulate(tmp_path, config)
    region_of = _region_of_county()
    first: dict[str, tuple[datetime, str]] = {}
    for _, line in _lines(tmp_path):
        obj = orjson.loads(line)
        occurred = datetime.fromisoformat(obj["occurred_at"])
        person = obj["patient"]["pseudonym"]
        if person not in first or occurred < first[person][0]:
            first[person] = (occurred, region_of[obj["patient"]["municipality"][:2]])
    counts = Counter()
    for occurred, region in first.values():
        day = occurred.astimezone(OSLO).date()
        period = "before" if day < go_live else "after" if day >= ramped else None
        if period:
            counts[(region, period)] += 1
    k = [
        counts[("helse-vest", "after")],
        counts[("helse-vest", "before")],
        counts[("helse-sor-ost", "after")],
        counts[("helse-sor-ost", "before")],
    ]
    # Same calendar windows for both regions, so the baseline trend and the seasons cancel.
    estimate = (k[0] / k[1]) / (k[2] / k[3]) - 1
    standard_error = (1 + estimate) * math.sqrt(sum(1 / n for n in k))
    assert abs(estimate - config.api_rate_uplift) < 4 * standard_error, (estimate, standard_error)
    assert estimate > 0.3
    # No API before go-live, and none at all from the region that never goes live.
    api = Counter()
    for _, line in _lines(tmp_path):
        obj = orjson.loads(line)
        if obj["channel"] == "api":
            api[obj["source"]["health_region"]] += 1
            assert datetime.fromisoformat(obj["occurred_at"]).astimezone(OSLO).date() >= go_live
    assert set(api) == {"helse-vest"}
    # The truth the summary exposes agrees with the config.
    expected = summary.expected_new_persons_by_region_month
    without, with_effect = expected[("helse-vest", "2024-12")]
    assert with_effect == pytest.approx(without * (1 + config.api_rate_uplift))
    without, with_effect = expected[("helse-vest", "2024-01")]
    assert with_effect == pytest.approx(without)
    without, with_effect = expected[("helse-sor-ost", "2024-12")]
    assert with_effect == pytest.approx(without)
    assert sum(summary.new_persons_by_region_month.values()) == summary.persons == len(first)


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        SimulationConfig(start=date(2025, 1, 2), end=date(2025, 1, 1))
    with pytest.raises(ValueError):
        SimulationConfig(scale=0)
    with pytest.raises(ValueError):
        SimulationConfig(api_go_live={"helse-ost": date(2025, 1, 1)})
    with pytest.raises(ValueError):
        SimulationConfig(late_rate=1.5)
