"""Every metric of the registry recomputed in plain Python from the events, following
docs/definitions.md (contract v1.1) as written, not the dbt models.

`expected_metrics(events)` gives, for every reported cell (metric, month or year end, place,
breakdown value), the numerator, denominator and value the definitions give. Events are built
from contract objects (`RecomputedEvent.from_contract`) or from warehouse rows by the caller.
"""

from __future__ import annotations

import csv
import math
import re
from bisect import bisect_right
from calendar import monthrange
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from tests.helpers import SEEDS

OSLO = ZoneInfo("Europe/Oslo")
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
ATC = "http://www.whocc.no/atc"
PORTAL_SYSTEM = "kjernejournal-portal"
IPS_RESOURCE_TYPES = ("AllergyIntolerance", "Condition")
HL7 = "http://terminology.hl7.org/CodeSystem/"
# The HL7 code system of each status element, per resource type (definitions: Status codings).
STATUS_SYSTEMS = {
    ("AllergyIntolerance", "clinicalStatus"): HL7 + "allergyintolerance-clinical",
    ("AllergyIntolerance", "verificationStatus"): HL7 + "allergyintolerance-verification",
    ("Condition", "clinicalStatus"): HL7 + "condition-clinical",
    ("Condition", "verificationStatus"): HL7 + "condition-ver-status",
}
ACTIVE_CLINICAL = ("active", "recurrence", "relapse")
ACTIVE_STATUS = {
    "Flag": ("active",),
    "Consent": ("active",),
    "Procedure": ("preparation", "in-progress", "on-hold"),
    "DeviceUseStatement": ("active", "on-hold"),
}
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

# metric id -> (grains, dimensions besides the total)
REGISTRY = {
    "registration_coverage_population": (("national", "region", "county"), ()),
    "registration_coverage_need": (("national", "region", "county"), ()),
    "automatic_share": (("national", "region"), ("organisation_type", "critical_information_type")),
    "api_organisations": (("national", "region"), ("organisation_type", "epj_product")),
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


# --- reference data ------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


COUNTIES = read_csv(SEEDS / "counties.csv")
REGION_OF_COUNTY = {row["county_code"]: row["health_region"] for row in COUNTIES}
REGIONS = [row["health_region"] for row in read_csv(SEEDS / "health_regions.csv")]
BUDGET_MNOK = {int(row["year"]): float(row["budget_mnok"]) for row in read_csv(SEEDS / "mandate_budget.csv")}
TYPES = read_csv(SEEDS / "critical_information_types.csv")
NEED_SHARE = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"][
    "estimated_need_share"
]


def population(county: str, month_end: date) -> int:
    """The latest population not after the month end, else the earliest."""
    rows = sorted((row for row in COUNTIES if row["county_code"] == county), key=lambda r: r["population_date"])
    known = [row for row in rows if date.fromisoformat(row["population_date"]) <= month_end]
    return int((known[-1] if known else rows[0])["population"])


def classify(resource: dict) -> str | None:
    """The type of critical information, by the contract's table: AllergyIntolerance by its category
    codes (medication first), the others by a category coding of system 7651, DeviceUseStatement by
    its type alone."""
    for kind in TYPES:
        if kind["resource_type"] != resource["resourceType"]:
            continue
        wanted = set(kind["category_code"].split("|")) - {""}
        if not wanted:
            return kind["type_id"]
        categories = resource.get("category") or []
        if isinstance(categories, dict):  # Procedure.category is one CodeableConcept
            categories = [categories]
        if resource["resourceType"] == "AllergyIntolerance":
            codes = set(categories)
        else:
            codes = {
                c.get("code")
                for concept in categories
                for c in concept.get("coding") or []
                if c.get("system") == kind["category_system"]
            }
        if codes & wanted:
            return kind["type_id"]
    return None


def epj_product(system: str) -> str:
    """Lower case, white space runs made one space, trailing words holding a digit removed."""
    words = system.lower().split()
    while words and any(c.isdigit() for c in words[-1]):
        words.pop()
    return " ".join(words)


# --- the events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecomputedEvent:
    event_id: str
    event_type: str
    occurred_at: datetime
    channel: str
    organisation_type: str
    organisation_id: str
    organisation_region: str
    source_system: str
    person: str
    municipality: str
    resource: dict

    @classmethod
    def from_contract(cls, obj: dict) -> RecomputedEvent:
        source, patient = obj["source"], obj["patient"]
        return cls(
            obj["event_id"].lower(),
            obj["event_type"],
            datetime.fromisoformat(obj["occurred_at"]),
            obj["channel"],
            source["organisation_type"],
            source["organisation_id"],
            source["health_region"],
            source["system"],
            patient["pseudonym"],
            patient["municipality"],
            obj["resource"],
        )

    @cached_property
    def day(self) -> date:
        return self.occurred_at.astimezone(OSLO).date()

    @property
    def month_end(self) -> date:
        return month_end_of(self.day)

    @property
    def entry(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"

    @property
    def county(self) -> str:
        return self.municipality[:2]

    @cached_property
    def critical_information_type(self) -> str:
        return classify(self.resource)

    @cached_property
    def order(self) -> tuple:
        """Entry order: occurred_at, then versionId as a number (one that is not a whole number below
        every numbered one, among themselves by text), then event_id."""
        version = self.resource["meta"]["versionId"]
        numbered = version.isdigit()
        return (self.occurred_at, numbered, int(version) if numbered else 0, "" if numbered else version, self.event_id)

    def status_code(self, element: str) -> str | None:
        """The code of the element's HL7 coding, wherever it stands; None without one."""
        system = STATUS_SYSTEMS.get((self.resource["resourceType"], element))
        codings = (self.resource.get(element) or {}).get("coding") or []
        return next((c.get("code") for c in codings if c.get("system") == system), None)

    @cached_property
    def is_active(self) -> bool:
        clinical = self.status_code("clinicalStatus")
        allowed = ACTIVE_STATUS.get(self.resource["resourceType"])
        return (
            self.event_type in ("created", "updated")
            and (clinical is None or clinical in ACTIVE_CLINICAL)
            and self.status_code("verificationStatus") not in ("entered-in-error", "refuted")
            and (allowed is None or self.resource.get("status") in allowed)
        )

    @property
    def codings(self) -> list[dict]:
        return (self.resource.get("code") or {}).get("coding") or []

    @property
    def is_drug_reaction(self) -> bool:
        return self.critical_information_type == "drug-reaction"

    @property
    def has_atc_code(self) -> bool:
        return any(c.get("system") == ATC and c.get("code") for c in self.codings)

    @property
    def is_ips_complete(self) -> bool:
        has_coded = any(c.get("system") and c.get("code") for c in self.codings)
        statuses = self.status_code("clinicalStatus") is not None and self.status_code("verificationStatus") is not None
        criticality = (
            self.resource["resourceType"] != "AllergyIntolerance" or self.resource.get("criticality") is not None
        )
        return has_coded and statuses and criticality

    @property
    def delay_hours(self) -> float | None:
        """occurred_at − recordedDate; a date is the start of that day in Oslo, a month or a year too coarse."""
        recorded = self.resource.get("recordedDate")
        if recorded is None:
            return None
        if DATE_ONLY.fullmatch(recorded):
            start = datetime.combine(date.fromisoformat(recorded), datetime.min.time(), OSLO)
        elif "T" in recorded:
            start = datetime.fromisoformat(recorded)
        else:
            return None
        return (self.occurred_at - start).total_seconds() / 3600


def month_end_of(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


# --- history: state of entries and residence of persons at the end of a day ---------------------


class History:
    def __init__(self, events: list[RecomputedEvent]):
        self.by_entry: dict[str, list[RecomputedEvent]] = defaultdict(list)
        self.by_person: dict[str, list[RecomputedEvent]] = defaultdict(list)
        for event in events:
            self.by_entry[event.entry].append(event)
            self.by_person[event.person].append(event)
        for versions in self.by_entry.values():
            versions.sort(key=lambda e: e.order)
        for person_events in self.by_person.values():
            person_events.sort(key=lambda e: (e.occurred_at, e.event_id))
        # Both orders start with occurred_at, so the days along them never fall: bisect finds a day.
        self.entry_days = {entry: [e.day for e in versions] for entry, versions in self.by_entry.items()}
        self.person_days = {person: [e.day for e in found] for person, found in self.by_person.items()}
        self.entries_of: dict[str, set[str]] = defaultdict(set)
        for entry, versions in self.by_entry.items():
            self.entries_of[versions[0].person].add(entry)

    def state(self, entry: str, day: date) -> RecomputedEvent | None:
        """The entry's last event, in entry order, on or before the day."""
        index = bisect_right(self.entry_days[entry], day)
        return self.by_entry[entry][index - 1] if index else None

    def county(self, person: str, day: date) -> str:
        """Where the person's last event (by occurred_at, then event_id) on or before the day says they live."""
        return self.by_person[person][bisect_right(self.person_days[person], day) - 1].county

    def active_entries(self, day: date) -> list[RecomputedEvent]:
        states = (self.state(entry, day) for entry in self.by_entry)
        return [s for s in states if s is not None and s.is_active]

    def first_registered(self, person: str) -> date | None:
        for day in sorted(set(self.person_days[person])):
            if any((s := self.state(entry, day)) is not None and s.is_active for entry in self.entries_of[person]):
                return day
        return None

    def new_entries(self) -> list[tuple[RecomputedEvent, list[RecomputedEvent]]]:
        """(creating event, the events after it in entry order) of every entry that has a `created`."""
        found = []
        for versions in self.by_entry.values():
            first = next((i for i, e in enumerate(versions) if e.event_type == "created"), None)
            if first is not None:
                found.append((versions[first], versions[first + 1 :]))
        return found


def reported_month_ends(events: list[RecomputedEvent]) -> list[date]:
    """From the month of the first event to the last month whose last day has passed in the data."""
    first, last = min(e.day for e in events), max(e.day for e in events)
    ends, end = [], month_end_of(first)
    while end <= last:
        ends.append(end)
        end = month_end_of(end + timedelta(days=1))
    return ends


# --- cells and the grid --------------------------------------------------------------------------


def places(grains: tuple[str, ...], region: str, county: str | None) -> list[tuple]:
    chosen = {
        "national": ("national", None, None),
        "region": ("region", region, None),
        "county": ("county", region, county),
    }
    return [chosen[grain] for grain in grains]


def cells(metric_id: str, region: str, county: str | None = None, **values: str) -> list[tuple]:
    """Every (grain, region, county, dimension name, dimension value) a fact counts in."""
    grains, dimensions = REGISTRY[metric_id]
    breakdowns = [("total", "all"), *((d, values[d]) for d in dimensions)]
    return [(*place, *breakdown) for place in places(grains, region, county) for breakdown in breakdowns]


def grid(metric_id: str, events: list[RecomputedEvent]) -> list[tuple]:
    """Every cell reported: each place of the metric's grains, the total and every value of its
    breakdowns (channels and organisation types seen in the events, every type of critical
    information the metric covers)."""
    grains, dimensions = REGISTRY[metric_id]
    values = {
        "channel": sorted({e.channel for e in events}),
        "organisation_type": sorted({e.organisation_type for e in events}),
        "epj_product": sorted({epj_product(e.source_system) for e in events if e.channel == "api"} - {PORTAL_SYSTEM}),
        "critical_information_type": [
            t["type_id"]
            for t in TYPES
            if metric_id != "ips_completeness_share" or t["resource_type"] in IPS_RESOURCE_TYPES
        ],
    }
    breakdowns = [("total", "all"), *((d, v) for d in dimensions for v in values[d])]
    area_list = [("national", None, None)] * ("national" in grains)
    area_list += [("region", r, None) for r in REGIONS] * ("region" in grains)
    area_list += [("county", REGION_OF_COUNTY[c], c) for c in REGION_OF_COUNTY] * ("county" in grains)
    return [(*area, *breakdown) for area in area_list for breakdown in breakdowns]


def quantile(values: list[float], p: float) -> float:
    """Linear interpolation at position p × (n − 1) of the sorted values."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


# --- the recomputation ---------------------------------------------------------------------------


def expected_metrics(events: list[RecomputedEvent]) -> dict[tuple, tuple]:
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

    # Flows, each event in its own source's region and organisation type.
    for event in events:
        region, month_end = event.organisation_region, event.month_end
        if event.event_type in ("created", "updated"):
            keys = cells(
                "automatic_share",
                region,
                organisation_type=event.organisation_type,
                critical_information_type=event.critical_information_type,
            )
            add("automatic_share", month_end, keys, numerator=event.channel == "api", denominator=1)
        product = epj_product(event.source_system)
        for metric_id in ("api_organisations", "api_systems", "api_organisation_share"):
            for key in cells(metric_id, region, organisation_type=event.organisation_type, epj_product=product):
                found = distinct[metric_id][(month_end, *key)]
                found["organisations"].add(event.organisation_id)
                if event.channel == "api":
                    found["api_organisations"].add(event.organisation_id)
                    if product != PORTAL_SYSTEM:
                        found["api_systems"].add(product)

    # New entries: one delay each, and whether a strictly later event left them not active.
    for creating, later in history.new_entries():
        region, month_end = creating.organisation_region, creating.month_end
        if (delay := creating.delay_hours) is not None:
            for key in cells("delay_within_24h_share", region, channel=creating.channel):
                delays[(month_end, *key)].append(delay)
        keys = cells(
            "corrections_share",
            region,
            channel=creating.channel,
            critical_information_type=creating.critical_information_type,
        )
        add("corrections_share", month_end, keys, numerator=any(not e.is_active for e in later), denominator=1)

    # Stocks at month ends, where the person lives that day.
    for month_end in month_ends:
        registered: dict[str, str] = {}
        for state in history.active_entries(month_end):
            county = history.county(state.person, month_end)
            region = REGION_OF_COUNTY[county]
            registered[state.person] = county
            if state.is_drug_reaction:
                for key in cells("drug_reaction_persons", region, county):
                    distinct["drug_reaction_persons"][(month_end, *key)]["persons"].add(state.person)
                add(
                    "drug_reaction_atc_share",
                    month_end,
                    cells("drug_reaction_atc_share", region, county),
                    numerator=state.has_atc_code,
                    denominator=1,
                )
            if state.resource["resourceType"] in IPS_RESOURCE_TYPES:
                keys = cells(
                    "ips_completeness_share", region, county, critical_information_type=state.critical_information_type
                )
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
                elif metric_id == "api_organisation_share":
                    found = distinct[metric_id][cell]
                    n, d = len(found["api_organisations"]), len(found["organisations"])
                    result = (n, d, 100 * n / d if d else None)
                elif metric_id in COUNTS:
                    counted = {
                        "api_organisations": "api_organisations",
                        "api_systems": "api_systems",
                        "drug_reaction_persons": "persons",
                    }[metric_id]
                    n = len(distinct[metric_id][cell][counted])
                    result = (n, None, n)
                else:
                    n, d = parts[metric_id][cell]["numerator"], parts[metric_id][cell]["denominator"]
                    result = (n, d, 100 * n / d if d else None)
                expected[(metric_id, *cell)] = result

    # A year not fully reported: the budget of its reported months, the persons new in them.
    new_per_year = Counter(
        day.year
        for p in history.by_person
        if (day := history.first_registered(p)) is not None and day <= month_ends[-1]
    )
    months_per_year = Counter(m.year for m in month_ends)
    for year, budget in BUDGET_MNOK.items():
        if months_per_year[year]:
            nok = budget * 1_000_000 * months_per_year[year] / 12
            persons = new_per_year[year]
            expected[("cost_per_new_person", date(year, 12, 31), "national", None, None, "total", "all")] = (
                nok,
                persons,
                nok / persons if persons else None,
            )
    return expected


def same(published: float | None, expected: float | None) -> bool:
    """Equal within 1e-9 relative (counts compare exactly, being whole numbers well below 2**53)."""
    if published is None or expected is None:
        return published is None and expected is None
    return math.isclose(published, expected, rel_tol=1e-9, abs_tol=1e-9)


def published_metrics(con) -> dict[tuple, tuple]:
    """The `metrics` table of a database, keyed as expected_metrics."""
    return {
        row[:7]: row[7:]
        for row in con.execute(
            "select metric_id, period_end, grain, health_region, county_code, dimension_name, dimension_value, "
            "numerator, denominator, value from main.metrics"
        ).fetchall()
    }
