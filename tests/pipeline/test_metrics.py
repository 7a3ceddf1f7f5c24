"""The metric registry (dbt models/metrics, mart `metrics`) against an independent recomputation
of every metric from the raw events of a real pipeline run: the FHIR resources are parsed here, in
Python, and contract v1's definitions are written out again rather than read from the dbt models."""

from __future__ import annotations

import csv
import json
import math
import re
from calendar import monthrange
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from tests.helpers import MANDATE, SEEDS

OSLO = ZoneInfo("Europe/Oslo")
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
ATC = "http://www.whocc.no/atc"
PORTAL_SYSTEM = "kjernejournal-portal"
IPS_RESOURCE_TYPES = ("AllergyIntolerance", "Condition")

# metric id -> (grains, dimensions besides the total)
REGISTRY = {
    "registration_coverage_population": (("national", "region", "county"), ()),
    "registration_coverage_need": (("national", "region", "county"), ()),
    "automatic_share": (("national", "region"), ("organisation_type", "critical_information_type")),
    "api_organisations": (("national", "region"), ("organisation_type",)),
    "api_systems": (("national", "region"), ("organisation_type",)),
    "api_organisation_share": (("national", "region"), ("organisation_type",)),
    "drug_reaction_persons": (("national", "region", "county"), ()),
    "drug_reaction_atc_share": (("national", "region", "county"), ()),
    "delay_median_hours": (("national", "region"), ("channel",)),
    "delay_p90_hours": (("national", "region"), ("channel",)),
    "delay_within_24h_share": (("national", "region"), ("channel",)),
    "ips_completeness_share": (("national", "region", "county"), ("critical_information_type",)),
    "corrections_share": (("national", "region"), ("channel", "critical_information_type")),
    "cost_per_new_person": (("national",), ()),
}
COUNTS = ("api_organisations", "api_systems", "drug_reaction_persons")
QUANTILES = {"delay_median_hours": 0.5, "delay_p90_hours": 0.9}


# --- the events, parsed here ---------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    occurred_at: datetime
    channel: str
    organisation_type: str
    organisation_id: str
    organisation_region: str
    source_system: str
    person: str
    county: str
    critical_information_type: str
    resource: dict

    @property
    def day(self) -> date:
        return self.occurred_at.astimezone(OSLO).date()

    @property
    def month_end(self) -> date:
        return month_end_of(self.day)

    @property
    def entry(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"

    @property
    def order(self) -> tuple:
        """Contract v1: the latest event of an entry is the latest occurred_at, then versionId."""
        version = self.resource["meta"]["versionId"]
        number = int(version) if version.isdigit() else None
        return (self.occurred_at, number is not None, number or 0, version, self.event_id)

    def status_code(self, element: str) -> str | None:
        codings = (self.resource.get(element) or {}).get("coding") or [{}]
        return codings[0].get("code")

    @property
    def is_active(self) -> bool:
        return (
            self.event_type in ("created", "updated")
            and self.status_code("clinicalStatus") in (None, "active")
            and self.status_code("verificationStatus") not in ("entered-in-error", "refuted")
        )

    @property
    def codings(self) -> list[dict]:
        return (self.resource.get("code") or {}).get("coding") or []

    @property
    def is_drug_reaction(self) -> bool:
        """The contract's recognition: an AllergyIntolerance whose category contains medication."""
        return self.resource["resourceType"] == "AllergyIntolerance" and "medication" in self.resource.get("category", [])

    @property
    def has_atc_code(self) -> bool:
        return any(c.get("system") == ATC and c.get("code") for c in self.codings)

    @property
    def is_ips_complete(self) -> bool:
        has_coded = any(c.get("system") and c.get("code") for c in self.codings)
        statuses = self.status_code("clinicalStatus") is not None and self.status_code("verificationStatus") is not None
        criticality = self.resource["resourceType"] != "AllergyIntolerance" or self.resource.get("criticality") is not None
        return has_coded and statuses and criticality

    @property
    def is_correction(self) -> bool:
        return (
            self.event_type in ("entered-in-error", "inactivated")
            or self.status_code("verificationStatus") == "entered-in-error"
            or self.resource.get("status") == "entered-in-error"
        )

    @property
    def delay_hours(self) -> float | None:
        recorded = self.resource.get("recordedDate")
        if recorded is None:
            return None
        return (self.occurred_at - datetime.fromisoformat(recorded)).total_seconds() / 3600


def month_end_of(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def load_events(warehouse: duckdb.DuckDBPyConnection) -> list[Event]:
    rows = warehouse.execute(
        "select event_id, event_type, epoch_us(occurred_at), channel, organisation_type, organisation_id, "
        "organisation_health_region, source_system, patient_pseudonym, patient_municipality, "
        "critical_information_type, resource from raw.events"
    ).fetchall()
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return [
        Event(
            row[0], row[1], epoch + timedelta(microseconds=row[2]), row[3], row[4], row[5], row[6], row[7], row[8],
            row[9][:2], row[10], json.loads(row[11]),
        )
        for row in rows
    ]


# --- reference data ------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


COUNTIES = read_csv(SEEDS / "counties.csv")
REGION_OF_COUNTY = {row["county_code"]: row["health_region"] for row in COUNTIES}
REGIONS = [row["health_region"] for row in read_csv(SEEDS / "health_regions.csv")]
BUDGET_MNOK = {int(row["year"]): float(row["budget_mnok"]) for row in read_csv(SEEDS / "mandate_budget.csv")}
TYPES = read_csv(DBT_PROJECT / "seeds" / "critical_information_types.csv")
NEED_SHARE = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["estimated_need_share"]


def population(county: str, month_end: date) -> int:
    """The latest population not after the month end, else the earliest."""
    rows = sorted((row for row in COUNTIES if row["county_code"] == county), key=lambda r: r["population_date"])
    known = [row for row in rows if date.fromisoformat(row["population_date"]) <= month_end]
    return int((known[-1] if known else rows[0])["population"])


# --- history: state of entries and residence of persons at the end of a day ---------------------


class History:
    def __init__(self, events: list[Event]):
        self.by_entry: dict[str, list[Event]] = defaultdict(list)
        self.by_person: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            self.by_entry[event.entry].append(event)
            self.by_person[event.person].append(event)
        for versions in self.by_entry.values():
            versions.sort(key=lambda e: e.order)
        for person_events in self.by_person.values():
            person_events.sort(key=lambda e: (e.occurred_at, e.event_id))
        self.entries_of: dict[str, set[str]] = defaultdict(set)
        for entry, versions in self.by_entry.items():
            self.entries_of[versions[0].person].add(entry)

    def state(self, entry: str, day: date) -> Event | None:
        """The entry's latest event up to the end of the day."""
        versions = [e for e in self.by_entry[entry] if e.day <= day]
        return versions[-1] if versions else None

    def county(self, person: str, day: date) -> str:
        return [e for e in self.by_person[person] if e.day <= day][-1].county

    def active_entries(self, day: date) -> list[Event]:
        """The state of every entry active at the end of the day."""
        states = (self.state(entry, day) for entry in self.by_entry)
        return [s for s in states if s is not None and s.is_active]

    def first_registered(self, person: str) -> date | None:
        for day in sorted({e.day for e in self.by_person[person]}):
            if any((s := self.state(entry, day)) is not None and s.is_active for entry in self.entries_of[person]):
                return day
        return None


def reported_month_ends(events: list[Event]) -> list[date]:
    first, last = min(e.day for e in events), max(e.day for e in events)
    ends, end = [], month_end_of(first)
    while end <= last:
        ends.append(end)
        end = month_end_of(end + timedelta(days=1))
    return ends


# --- cells and the grid --------------------------------------------------------------------------


def places(grains: tuple[str, ...], region: str, county: str | None) -> list[tuple]:
    chosen = {"national": ("national", None, None), "region": ("region", region, None), "county": ("county", region, county)}
    return [chosen[grain] for grain in grains]


def cells(metric_id: str, region: str, county: str | None = None, **values: str) -> list[tuple]:
    """Every (grain, region, county, dimension name, dimension value) a fact counts in."""
    grains, dimensions = REGISTRY[metric_id]
    breakdowns = [("total", "all"), *((d, values[d]) for d in dimensions)]
    return [(*place, *breakdown) for place in places(grains, region, county) for breakdown in breakdowns]


def grid(metric_id: str, events: list[Event]) -> list[tuple]:
    grains, dimensions = REGISTRY[metric_id]
    values = {
        "channel": sorted({e.channel for e in events}),
        "organisation_type": sorted({e.organisation_type for e in events}),
        "critical_information_type": [
            t["type_id"] for t in TYPES if metric_id != "ips_completeness_share" or t["resource_type"] in IPS_RESOURCE_TYPES
        ],
    }
    breakdowns = [("total", "all"), *((d, v) for d in dimensions for v in values[d])]
    scope_list = [("national", None, None)] * ("national" in grains)
    scope_list += [("region", r, None) for r in REGIONS] * ("region" in grains)
    scope_list += [("county", REGION_OF_COUNTY[c], c) for c in REGION_OF_COUNTY] * ("county" in grains)
    return [(*scope, *breakdown) for scope in scope_list for breakdown in breakdowns]


def quantile(values: list[float], p: float) -> float:
    """Linear interpolation at position p × (n − 1) of the sorted values (as SQL quantile_cont)."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


# --- the independent recomputation ---------------------------------------------------------------


def expected_metrics(events: list[Event]) -> dict[tuple, tuple]:
    """(metric id, period end, grain, region, county, dimension name, value) -> (numerator,
    denominator, value) for every reported cell."""
    history = History(events)
    month_ends = reported_month_ends(events)
    parts: dict[str, dict[tuple, Counter]] = {m: defaultdict(Counter) for m in REGISTRY}
    distinct: dict[str, dict[tuple, dict[str, set]]] = {m: defaultdict(lambda: defaultdict(set)) for m in REGISTRY}
    delays: dict[tuple, list[float]] = defaultdict(list)

    def add(metric_id: str, month_end: date, keys: list[tuple], **counts: int) -> None:
        for key in keys:
            parts[metric_id][(month_end, *key)].update(counts)

    for event in events:
        region, month_end = event.organisation_region, event.month_end
        if event.event_type in ("created", "updated"):
            keys = cells("automatic_share", region, organisation_type=event.organisation_type,
                         critical_information_type=event.critical_information_type)
            add("automatic_share", month_end, keys, numerator=event.channel == "api", denominator=1)
        for metric_id in ("api_organisations", "api_systems", "api_organisation_share"):
            for key in cells(metric_id, region, organisation_type=event.organisation_type):
                found = distinct[metric_id][(month_end, *key)]
                found["organisations"].add(event.organisation_id)
                if event.channel == "api":
                    found["api_organisations"].add(event.organisation_id)
                    if event.source_system != PORTAL_SYSTEM:
                        found["api_systems"].add(event.source_system)
        if event.event_type == "created" and event.delay_hours is not None:
            for key in cells("delay_within_24h_share", region, channel=event.channel):
                delays[(month_end, *key)].append(event.delay_hours)

    for versions in history.by_entry.values():
        created = [e for e in versions if e.event_type == "created"]
        if not created:
            continue
        first = min(created, key=lambda e: (e.occurred_at, e.event_id))
        keys = cells("corrections_share", first.organisation_region, channel=first.channel,
                     critical_information_type=first.critical_information_type)
        add("corrections_share", first.month_end, keys, numerator=any(e.is_correction for e in versions), denominator=1)

    for month_end in month_ends:
        registered: dict[str, str] = {}
        for state in history.active_entries(month_end):
            county = history.county(state.person, month_end)
            region = REGION_OF_COUNTY[county]
            registered[state.person] = county
            if state.is_drug_reaction:
                for key in cells("drug_reaction_persons", region, county):
                    distinct["drug_reaction_persons"][(month_end, *key)]["persons"].add(state.person)
                add("drug_reaction_atc_share", month_end, cells("drug_reaction_atc_share", region, county),
                    numerator=state.has_atc_code, denominator=1)
            if state.resource["resourceType"] in IPS_RESOURCE_TYPES:
                keys = cells("ips_completeness_share", region, county, critical_information_type=state.critical_information_type)
                add("ips_completeness_share", month_end, keys, numerator=state.is_ips_complete, denominator=1)
        for county in REGION_OF_COUNTY:
            persons = sum(1 for c in registered.values() if c == county)
            inhabitants = population(county, month_end)
            for metric_id, denominator in (
                ("registration_coverage_population", inhabitants),
                ("registration_coverage_need", inhabitants * NEED_SHARE),
            ):
                for key in cells(metric_id, REGION_OF_COUNTY[county], county):
                    parts[metric_id][(month_end, *key)]["numerator"] += persons
                    parts[metric_id][(month_end, *key)]["denominator"] += denominator

    expected: dict[tuple, tuple] = {}
    for metric_id in REGISTRY:
        if metric_id == "cost_per_new_person":
            continue
        for month_end in month_ends:
            for key in grid(metric_id, events):
                cell = (month_end, *key)
                if metric_id in QUANTILES:
                    values = delays[cell]
                    result = (None, len(values), quantile(values, QUANTILES[metric_id]) if values else None)
                elif metric_id == "delay_within_24h_share":
                    values = delays[cell]
                    within = sum(1 for v in values if v <= 24)
                    result = (within, len(values), 100 * within / len(values) if values else None)
                elif metric_id in COUNTS or metric_id == "api_organisation_share":
                    found = distinct[metric_id][cell]
                    if metric_id == "api_organisation_share":
                        n, d = len(found["api_organisations"]), len(found["organisations"])
                        result = (n, d, 100 * n / d if d else None)
                    else:
                        counted = {"api_organisations": "api_organisations", "api_systems": "api_systems",
                                   "drug_reaction_persons": "persons"}[metric_id]
                        n = len(found[counted])
                        result = (n, None, n)
                else:
                    n, d = parts[metric_id][cell]["numerator"], parts[metric_id][cell]["denominator"]
                    result = (n, d, 100 * n / d if d else None)
                expected[(metric_id, *cell)] = result

    # A year not fully reported: the budget of its reported months, the persons new in them.
    new_per_year = Counter(
        day.year for p in history.by_person if (day := history.first_registered(p)) is not None and day <= month_ends[-1]
    )
    months_per_year = Counter(m.year for m in month_ends)
    for year, budget in BUDGET_MNOK.items():
        if months_per_year[year]:
            nok = budget * 1_000_000 * months_per_year[year] / 12
            persons = new_per_year[year]
            expected[("cost_per_new_person", date(year, 12, 31), "national", None, None, "total", "all")] = (
                nok, persons, nok / persons if persons else None,
            )
    return expected


# --- the comparison ------------------------------------------------------------------------------


def same(published: float | None, expected: float | None) -> bool:
    if published is None or expected is None:
        return published is None and expected is None
    return math.isclose(published, expected, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def recomputed(published_home) -> tuple[dict, dict, list[date]]:
    """(published cells, expected cells, reported month ends) of a real run."""
    with duckdb.connect(str(published_home / "warehouse.duckdb"), read_only=True) as warehouse:
        events = load_events(warehouse)
        published = {
            row[:7]: row[7:]
            for row in warehouse.execute(
                "select metric_id, period_end, grain, health_region, county_code, dimension_name, dimension_value, "
                "numerator, denominator, value from main.metrics"
            ).fetchall()
        }
    return published, expected_metrics(events), reported_month_ends(events)


def test_the_reported_cells_are_every_metric_at_every_place_and_breakdown(recomputed):
    published, expected, _ = recomputed
    assert {key[0] for key in expected} == set(REGISTRY)
    assert set(published) == set(expected)


def test_every_metric_matches_in_every_reported_cell(recomputed):
    published, expected, month_ends = recomputed
    mismatches = [(k, published[k], v) for k, v in expected.items() if not all(map(same, published[k], v))]
    assert not mismatches, f"{len(mismatches)} of {len(expected)} cells differ, e.g. {mismatches[:5]}"
    # Not vacuous: at the last complete month and half a year before, every monthly metric counted
    # something, and the yearly cost has a complete year with new persons.
    for month_end in (month_ends[-1], month_ends[-7]):
        for metric_id in REGISTRY.keys() - {"cost_per_new_person"}:
            assert any(k[:2] == (metric_id, month_end) and (v[0] or v[1]) for k, v in expected.items()), (metric_id, month_end)
    assert any(k[0] == "cost_per_new_person" and v[1] for k, v in expected.items())


# --- the registry's documentation ----------------------------------------------------------------


def registry_models() -> dict[str, dict]:
    documented = yaml.safe_load((DBT_PROJECT / "models" / "metrics" / "_metrics.yml").read_text(encoding="utf-8"))
    return {model["name"]: model for model in documented["models"]}


def test_every_metric_has_a_documented_model_that_quotes_the_mandate():
    mandate = re.sub(r"\s+", " ", MANDATE.read_text(encoding="utf-8"))
    models = registry_models()
    assert {name for name in models if name != "metrics"} == {f"metric_{m}" for m in REGISTRY}
    for metric_id, (grains, dimensions) in REGISTRY.items():
        model = models[f"metric_{metric_id}"]
        assert (DBT_PROJECT / "models" / "metrics" / f"metric_{metric_id}.sql").exists()
        meta = model["config"]["meta"]
        metric = meta["metric"]
        assert metric["id"] == metric_id
        for field in ("name_nb", "definition", "unit", "mandate"):
            assert metric[field].strip(), (metric_id, field)
        assert metric["denominator"].strip() or metric_id in COUNTS
        assert metric["numerator"].strip() or metric_id in QUANTILES
        assert tuple(metric["dimensions"]) == dimensions and tuple(metric["grains"]) == grains, metric_id
        assert re.sub(r"\s+", " ", metric["mandate"]).strip() in mandate, metric_id
        assert "publish" not in meta, f"{metric_id}: only the union `metrics` is published"
    suppress = models["metrics"]["config"]["meta"]["publish"]["suppress"]
    assert suppress["counts"] == ["numerator", "denominator"] and suppress["rates"] == ["value"]
