"""The real pipeline on a delivery it has never seen (tests/foreign/generator.py, written from the
contract alone), made messy on disk: every line ends where it should, every metric cell equals the
recomputation from the definitions (tests/recompute.py), coverage per region equals the generator's
own count, the serving copy shows no small count, and no planted identity number survives in any
written form anywhere under KRITINFO_HOME. One `kritinfo run` serves every test here."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.foreign.generator import Delivery, write_delivery, written_forms
from tests.pipeline.test_identifier_sweep import columns_holding, file_contents
from tests.recompute import (
    COUNTS,
    REGION_OF_COUNTY,
    REGISTRY,
    TYPES,
    RecomputedEvent,
    epj_product,
    expected_metrics,
    published_metrics,
    same,
)

THRESHOLD = 4
# A run of digits, possibly with the separators a number is written with on paper.
DIGIT_RUNS = re.compile(rb"\d[\d .\-]{9,}\d")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> tuple[Path, Delivery, object]:
    """(KRITINFO_HOME after the run, what the generator wrote, the CLI's result)."""
    home = tmp_path_factory.mktemp("foreign")
    delivery = write_delivery(home / "landing")
    return home, delivery, run_cli(home, "run")


@pytest.fixture(scope="module")
def events(foreign) -> list[RecomputedEvent]:
    return [RecomputedEvent.from_contract(e) for e in foreign[1].events]


def connect(home: Path, name: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / name), read_only=True)


def test_the_delivery_holds_the_cases_it_is_meant_to(foreign, events):
    """Not vacuous: the generator's assumptions are in the events."""
    _, delivery, _ = foreign
    units = defaultdict(set)
    for e in events:
        units[(e.organisation_id, e.month_end)].add((e.organisation_type, e.organisation_region))
    assert any(len({t for t, _ in u}) > 1 for u in units.values()), "one number under several types in a month"
    assert any(len({r for _, r in u}) > 1 for u in units.values()), "one number in several regions in a month"
    by_entry = defaultdict(list)
    for e in events:
        by_entry[e.entry].append(e)
    versions = {e.resource["meta"]["versionId"]: e.occurred_at for e in max(by_entry.values(), key=len)}
    assert versions["9"] == versions["10"], "versions 9 and 10 at the same instant"
    assert sum(sum(e.event_type == "created" for e in v) > 1 for v in by_entry.values()) > 50
    assert any(v[0].event_type != "created" for v in (sorted(v, key=lambda e: e.order) for v in by_entry.values()))
    local_first = [
        e
        for e in events
        if ((e.resource.get("verificationStatus") or {}).get("coding") or [{}])[0]
        .get("system", "")
        .startswith("http://epj.")
    ]
    assert len(local_first) > 500
    statuses = Counter((e.resource["resourceType"], e.resource["status"]) for e in events if "status" in e.resource)
    assert {
        ("Flag", "inactive"),
        ("Flag", "entered-in-error"),
        ("Procedure", "completed"),
        ("DeviceUseStatement", "on-hold"),
        ("Consent", "rejected"),
    } <= set(statuses)
    recorded = Counter(len(e.resource["recordedDate"]) for e in events if "recordedDate" in e.resource)
    assert recorded[10] > 500 and recorded[7] and recorded[4]
    assert len({e.source_system for e in events}) > len({e.source_system.lower().split()[0] for e in events}) + 5
    assert {e.critical_information_type for e in events} == {t["type_id"] for t in TYPES}
    counties = defaultdict(set)
    for e in events:
        counties[e.person].add(e.county)
    assert sum(len(c) > 1 for c in counties.values()) > 100, "persons move county"
    assert len({e.person for e in events}) == delivery.persons
    assert len(delivery.files) >= 30 and sum(c["duplicates"] for c in delivery.files.values()) > 400


def test_the_run_succeeds_and_publishes(foreign):
    home, _, result = foreign
    assert result.returncode == 0, result.stderr[-4000:]
    assert (home / "serving.duckdb").exists()
    assert not any((home / "landing").iterdir()), "every file was ingested"


def test_every_line_reconciles_with_what_the_generator_wrote(foreign):
    home, delivery, _ = foreign
    with connect(home, "warehouse.duckdb") as con:
        files = {
            row[0]: row[1:]
            for row in con.execute(
                "select source_file, lines_read, blank_lines, loaded, duplicates, quarantined from raw.ingested_files"
            ).fetchall()
        }
        quarantined = {
            (f, n): reason
            for f, n, reason in con.execute(
                "select source_file, source_line, reason_code from raw.quarantine"
            ).fetchall()
        }
        loaded = {row[0] for row in con.execute("select event_id from raw.events").fetchall()}
    assert files == {
        name: (c["lines"], c["blank"], c["loaded"], c["duplicates"], c["quarantined"])
        for name, c in delivery.files.items()
    }
    assert all(read == ok + duplicates + refused for read, _, ok, duplicates, refused in files.values())
    total = Counter()
    for counts in delivery.files.values():
        total.update(counts)
    assert total["lines"] == total["loaded"] + total["duplicates"] + total["quarantined"]
    assert quarantined == delivery.quarantined
    assert loaded == {e["event_id"] for e in delivery.events}


@pytest.fixture(scope="module")
def compared(foreign, events) -> tuple[dict, dict]:
    """(the warehouse's metrics table, the recomputation from the generator's events)."""
    home = foreign[0]
    with connect(home, "warehouse.duckdb") as con:
        published = published_metrics(con)
    return published, expected_metrics(events)


def test_the_metric_cells_are_those_of_the_recomputation(compared):
    published, expected = compared
    assert {key[0] for key in expected} == set(REGISTRY)
    assert set(published) - set(expected) == set()
    assert set(expected) - set(published) == set()


def test_every_metric_cell_equals_the_recomputation(compared):
    published, expected = compared
    differing = [
        key for key, value in expected.items() if key in published and not all(map(same, published[key], value))
    ]
    by_metric = Counter(key[0] for key in differing)
    examples = {
        metric: next((k, published[k], expected[k]) for k in differing if k[0] == metric) for metric in by_metric
    }
    assert not differing, f"{len(differing)} of {len(expected)} cells differ: {dict(by_metric)}; e.g. {examples}"
    assert sum(1 for v in expected.values() if v[0] or v[1]) > len(expected) / 2, "most cells count something"


def test_coverage_per_region_at_the_last_month_end_equals_the_generators_count(foreign):
    home, delivery, _ = foreign
    last = max(delivery.registered)
    counted = Counter()
    for county, persons in delivery.registered[last].items():
        counted[REGION_OF_COUNTY[county]] += persons
    for database in ("warehouse.duckdb", "serving.duckdb"):
        with connect(home, database) as con:
            mart = dict(
                con.execute(
                    "select health_region, persons_with_critical_info from coverage_by_region_month "
                    "where period_end = ?",
                    [last],
                ).fetchall()
            )
        assert mart == dict(counted), database
    assert min(counted.values()) > 100


def test_the_serving_copy_shows_no_small_count_and_only_the_warehouse_figures(foreign):
    home, _, _ = foreign
    with connect(home, "warehouse.duckdb") as warehouse, connect(home, "serving.duckdb") as serving:
        truth, shown = published_metrics(warehouse), published_metrics(serving)
    assert shown.keys() == truth.keys()
    small, changed, hidden = [], [], 0
    for key, row in shown.items():
        numerator, denominator, value = row
        counts = [numerator, denominator] + ([value] if key[0] in COUNTS else [])
        small += [key for count in counts if count is not None and 1 <= count <= THRESHOLD]
        pairs = list(zip(row, truth[key], strict=True))
        changed += [key for figure, true in pairs if figure is not None and not same(figure, true)]
        hidden += any(figure is None and true is not None for figure, true in pairs)
    assert small == []
    assert changed == []
    assert hidden > 0, "small counts exist in this delivery and are hidden"


def test_no_planted_number_in_any_written_form_is_kept_under_the_home(foreign):
    home, delivery, result = foreign
    forms = [form for number in delivery.planted for form in written_forms(number)]
    assert not [form for form in forms if form in result.stdout + result.stderr]
    needles = [form.encode() for form in forms]
    searched, found = 0, []
    for path, data in file_contents(home):
        searched += 1
        for run in DIGIT_RUNS.finditer(data):
            found.extend((str(path), needle) for needle in needles if needle in run.group())
    assert searched > 10
    assert found == []
    for database in ("warehouse.duckdb", "serving.duckdb"):
        assert columns_holding(home / database, forms) == [], database


def test_the_delivery_spans_the_reported_months(foreign, compared):
    _, delivery, _ = foreign
    _, expected = compared
    months = sorted({key[1] for key in expected if key[0] == "registration_coverage_population"})
    assert months[0] == date(2023, 1, 31) and months[-1] == max(delivery.registered) == date(2025, 6, 30)
    assert len(months) == len(delivery.registered) == 30


def test_unusual_data_is_counted_on_datakvalitet(foreign, events):
    """Valid but unusual data is loaded and counted, found again here from the events alone."""
    home, _, _ = foreign
    types, regions, spellings = defaultdict(set), defaultdict(set), defaultdict(set)
    by_entry = defaultdict(list)
    for e in events:
        types[(e.organisation_id, e.month_end)].add(e.organisation_type)
        regions[(e.organisation_id, e.month_end)].add(e.organisation_region)
        spellings[epj_product(e.source_system)].add(e.source_system)
        by_entry[e.entry].append(e)
    creations = {
        entry: sum(e.event_type == "created" for e in entry_events) for entry, entry_events in by_entry.items()
    }
    first_created = [
        min((e for e in entry_events if e.event_type == "created"), key=lambda e: e.order)
        for entry_events in by_entry.values()
        if any(e.event_type == "created" for e in entry_events)
    ]
    expected = {
        "organisation_several_types": len({org for (org, _), kinds in types.items() if len(kinds) > 1}),
        "organisation_several_regions": len({org for (org, _), places in regions.items() if len(places) > 1}),
        "entry_without_created": sum(n == 0 for n in creations.values()),
        "entry_created_more_than_once": sum(n > 1 for n in creations.values()),
        "entry_created_not_active": sum(not e.is_active for e in first_created),
        "version_not_numeric": sum(not e.resource["meta"]["versionId"].isdigit() for e in events),
        "epj_product_several_spellings": sum(len(names) > 1 for names in spellings.values()),
    }
    with connect(home, "serving.duckdb") as con:
        published = dict(con.execute("select finding, count from data_quality_unusual_data").fetchall())
    assert published == expected
    assert expected["organisation_several_types"] > 0 and expected["entry_created_more_than_once"] > 0
