"""The simulated world: organisations, persons, entries and the events that change them.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same config gives
the same world. Instants are integer epoch seconds; calendar days are Europe/Oslo days
(``date.toordinal()``). See the package docstring for the assumptions and the calibration.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import accumulate, pairwise
from typing import ClassVar, NamedTuple

from pipelines.contract.vocabulary import (
    ALLERGEN_SYSTEM,
    ATC_SYSTEM,
    HEALTH_REGIONS,
    ICD10_SYSTEM,
    ORGANISATION_TYPES,
    PORTAL_SYSTEM,
    CriticalInformationType,
    critical_information_types,
)
from pipelines.settings import SEEDS_DIR
from pipelines.simulate import resources as R
from pipelines.simulate.config import SimulationConfig

DAY = 86_400
YEAR = 365.25 * DAY

# --- calibration (see the package docstring for the arithmetic) ---------------------------
# The only published anchors are in published_statistics.csv (ehelse.no e-helsemonitor: 97,000 persons
# registered at the end of 2022, +15 % on 2021). Every number in this module is an assumption, chosen
# to be plausible and, together, to meet those anchors; docs/simulator.md lists them.

# National baseline rate of NEW persons (first entry ever) per year at scale 1.0, at mid-year;
# linear in between, flat after the last knot, zero before the core record opened in 2014.
NEW_PERSONS_PER_YEAR: dict[int, float] = {
    2014: 7_900,
    2015: 10_800,
    2016: 12_300,
    2017: 13_300,
    2018: 14_300,
    2019: 15_300,
    2020: 15_800,
    2021: 17_200,
    2022: 18_700,
    2023: 19_700,
    2024: 20_700,
    2025: 21_700,
    2026: 22_700,
}
LAUNCH = date(2014, 1, 1)

# Day-of-week (Mon..Sun) and month factors, each averaging 1: registrations follow clinic hours,
# weekends a fifth of a weekday, July (holidays) at 60 %.
WEEKDAY_FACTOR = (1.3, 1.3, 1.3, 1.3, 1.3, 0.32, 0.18)
MONTH_FACTOR = (1.05, 1.05, 1.05, 1.0, 1.0, 1.0, 0.6, 0.95, 1.1, 1.1, 1.1, 1.0)

# Age at first registration: (low, high, weight, death hazard per year). Critical information
# gathers in the old; the hazards decide how many leave the register and so the stock.
AGE_BANDS = (
    (0, 17, 0.05, 0.002),
    (18, 39, 0.12, 0.003),
    (40, 59, 0.23, 0.010),
    (60, 79, 0.38, 0.035),
    (80, 99, 0.22, 0.130),
)
SEX_WEIGHTS = (("female", 0.56), ("male", 0.439), ("unknown", 0.001))
# Persons whose birthday in the year they are first registered is still to come (birthdays are uniform).
BIRTHDAY_STILL_TO_COME_SHARE = 0.5

# Entries per person (1..4, mean 1.5) and when the further ones come.
ENTRIES_PER_PERSON = (0.66, 0.22, 0.08, 0.04)
SAME_SESSION_SHARE = 0.35  # further entry registered minutes after the previous one
SAME_SESSION_GAP = (60, 15 * 60)  # seconds between two entries registered in one session
LATER_ENTRY_MEAN_YEARS = 2.0

# Type mix of entries (type_id of the seed -> weight), drug reactions by far the most common;
# a type the seed adds later gets DEFAULT.
TYPE_WEIGHTS = {
    "drug-reaction": 0.52,
    "other-allergy": 0.07,
    "intubation-problem": 0.03,
    "anaesthesia-problem": 0.04,
    "critical-condition": 0.10,
    "ongoing-treatment": 0.04,
    "implant-condition": 0.03,
    "limitation-of-life-prolonging-treatment": 0.03,
    "other-procedure-change": 0.02,
    "infection": 0.03,
    "cpr-minus-and-treatment-decisions": 0.05,
    "mechanical-implant": 0.04,
}
DEFAULT_TYPE_WEIGHT = 0.02
# Treatment limitations are decided for the old and very ill.
CONSENT_AGE_FACTOR = ((0, 0.05), (40, 0.3), (60, 1.0), (75, 3.0))

# Hazard per year that an entry ends on its own (resolved, completed, no longer relevant).
TYPE_END_HAZARD = {
    "drug-reaction": 0.01,
    "other-allergy": 0.03,
    "intubation-problem": 0.01,
    "anaesthesia-problem": 0.01,
    "critical-condition": 0.03,
    "ongoing-treatment": 0.30,
    "implant-condition": 0.03,
    "limitation-of-life-prolonging-treatment": 0.10,
    "other-procedure-change": 0.15,
    "infection": 0.40,
    "cpr-minus-and-treatment-decisions": 0.10,
    "mechanical-implant": 0.04,
}
DEFAULT_END_HAZARD = 0.05

# --- what an entry says (assumptions, not published figures; docs/simulator.md, "Types and resources") ---

MEDICATION = "medication"  # the AllergyIntolerance category of a drug reaction
# Share of drug reactions recorded as an intolerance (non-immune) rather than an allergy.
DRUG_INTOLERANCE_SHARE = 0.2
# Share of allergies whose reaction (manifestation and severity) is recorded.
REACTION_RECORDED_SHARE = 0.8
# Criticality of an allergy: after a severe reaction mostly high, otherwise mostly low.
SEVERE_REACTION_HIGH_CRITICALITY_SHARE = 0.85
LOW_CRITICALITY_SHARE = 0.6  # without a severe reaction; the rest high, then unable-to-assess
HIGH_CRITICALITY_SHARE = 0.25

# --- the lifecycle of an entry (docs/simulator.md, "Lifecycle"; the shares that end entries count
# towards the calibrated stock) ---

ENTERED_IN_ERROR_SHARE = 0.015  # entry withdrawn as entered in error, minutes to days after creation
ENTERED_IN_ERROR_WITHIN = (10 * 60, 5 * DAY)  # seconds after creation: a mistake is seen within days
REFUTED_SHARE = 0.006  # allergy/condition later refuted (an update to verificationStatus refuted)
REFUTED_WITHIN = (DAY, 180 * DAY)  # seconds after creation: refuted within six months
UPDATE_MEAN_YEARS = 10.0  # mean time between revisions of a living entry
MIN_UPDATE_GAP = 3600  # seconds: a revision is never within the hour of the previous version
CRITICALITY_REVISION_SHARE = 0.3  # revisions of an allergy that change its criticality
CONFIRM_WITHIN_DAYS = 60  # unconfirmed/provisional entries are confirmed within this many days
SAME_ORGANISATION_SHARE = 0.6  # later events of an entry by the organisation that created it
MIN_EVENT_GAP = 60  # seconds between two events of one entry, so their order is unambiguous
# Seconds over which the entries of a person who leaves the register are inactivated one by one.
LEAVING_SPREAD = 600

MOVE_SHARE = 0.12  # persons who move once while registered
MOVE_WITHIN_COUNTY_SHARE = 0.75
ELSEWHERE_SHARE = 0.08  # events registered by an organisation outside the person's county/region

# Organisations and their share of registrations.
ORGANISATION_TYPE_WEIGHTS = {
    "hospital": 0.50,
    "gp": 0.28,
    "municipal": 0.10,
    "emergency": 0.05,
    "private-specialist": 0.07,
}
HOSPITALS_PER_REGION = {"helse-sor-ost": 11, "helse-vest": 5, "helse-midt-norge": 3, "helse-nord": 4}
INHABITANTS_PER_GP_OFFICE = 4_000
INHABITANTS_PER_PRIVATE_SPECIALIST = 25_000
MUNICIPALITIES_PER_EMERGENCY_SERVICE = 2
EPJ_SYSTEMS = {
    "hospital": (("DIPS Arena", 1.0),),
    "gp": (("CGM Allmenn", 0.45), ("Infodoc Plenario", 0.35), ("System X", 0.20)),
    "municipal": (("Gerica", 0.45), ("Profil", 0.35), ("CosDoc", 0.20)),
    "emergency": (("CGM Allmenn", 0.5), ("Infodoc Plenario", 0.5)),
    "private-specialist": (("Pridok", 0.4), ("Infodoc Plenario", 0.3), ("CGM Allmenn", 0.3)),
}
# Central Norway runs Epic (Helseplattformen) in its hospitals and part of its municipalities.
HELSEPLATTFORMEN = "Helseplattformen"
HELSEPLATTFORMEN_MUNICIPAL_SHARE = 0.3  # of Central Norway's municipal services, GP offices, emergency services
HOSPITAL_IN_LARGEST_MUNICIPALITY_SHARE = 0.7  # the rest lie anywhere in their county

# Time of day of a registration (Europe/Oslo): weekdays mostly office hours, some evenings and nights;
# weekends 08-22. Assumed, as is the weekday/month pattern above.
WEEKDAY_OFFICE_HOURS_SHARE = 0.85  # 08-16
WEEKDAY_EVENING_SHARE = 0.10  # 16-22; the rest 22-08
# Delay from recording in the EPJ to reaching the core record, log-normal (median, clipped to bounds),
# in seconds: an API sends at once, a portal registration is typed in again later.
API_DELAY = (15 * 60, 60, 6 * 3600)  # (median, minimum, maximum)
PORTAL_DELAY = (18 * 3600, 3600, 14 * DAY)
DELAY_LOG_SD = 1.0


# --- reference data ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class County:
    code: str
    region: str
    population: int
    municipalities: tuple[str, ...]
    municipality_cum: tuple[float, ...]  # cumulative weights: larger municipalities first


def load_counties() -> tuple[County, ...]:
    """Counties of the 2024 structure from the seed; municipality numbers are synthetic.

    Only the first two digits (the county) of a municipality number mean anything: the county
    with ``n`` municipalities gets the numbers ``CC01``..``CCnn``, sized by a Zipf law.
    """
    with open(SEEDS_DIR / "counties.csv", newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda row: row["county_code"])
    latest: dict[str, dict] = {}
    for row in rows:  # several population dates may be present: keep the latest
        if row["county_code"] not in latest or row["population_date"] > latest[row["county_code"]]["population_date"]:
            latest[row["county_code"]] = row
    counties = []
    for code, row in sorted(latest.items()):
        n = int(row["municipalities"])
        numbers = tuple(f"{code}{k:02d}" for k in range(1, n + 1))
        weights = [1 / k**1.1 for k in range(1, n + 1)]
        counties.append(County(code, row["health_region"], int(row["population"]), numbers, tuple(accumulate(weights))))
    return tuple(counties)


def _choose(rng: random.Random, items, cum: tuple[float, ...]):
    return items[bisect(cum, rng.random() * cum[-1])]


def _cum(weights) -> tuple[float, ...]:
    return tuple(accumulate(weights))


# --- the world -----------------------------------------------------------------------------


@dataclass(slots=True)
class Organisation:
    organisation_id: str
    organisation_type: str
    region: str
    county: str
    municipality: str
    system: str
    source_api: dict = field(default_factory=dict)
    source_portal: dict = field(default_factory=dict)


@dataclass(slots=True)
class Person:
    index: int
    pseudonym: str
    birth_year: int
    sex: str
    county: County
    municipality: str
    arrival_ts: int
    end_ts: float  # death or leaving the register (may lie beyond the range)
    move_ts: float = math.inf
    move_county: County | None = None
    move_municipality: str = ""

    def county_at(self, ts: float) -> County:
        return self.move_county if ts >= self.move_ts and self.move_county is not None else self.county

    def municipality_at(self, ts: float) -> str:
        return self.move_municipality if ts >= self.move_ts else self.municipality


class Session(NamedTuple):
    """Who registers an entry and how; entries registered together share it."""

    organisation: Organisation
    channel: str


class EntryContent(NamedTuple):
    """What an entry says, drawn by the builder of its resource type; the defaults are "not applicable"."""

    category: str = ""  # AllergyIntolerance: its FHIR category; otherwise the 7651 code
    code: tuple[str, str, str] | None = None  # (system, code, display); None where the entry is text
    text: str = ""
    allergy_type: str = "allergy"
    reaction: tuple[str, str] | None = None  # (manifestation, severity)
    criticality: str | None = None


class SimulatedEvent(NamedTuple):
    """One change to one entry as the model draws it; ``writer`` turns it into a line of the contract.

    A NamedTuple rather than a dataclass: one is made per event (half a million at scale 1), and a tuple
    is the cheapest to build.
    """

    ts: int  # occurred_at, epoch seconds
    event_id: int  # the UUID as its 128-bit value
    event_type: str
    version: int  # meta.versionId
    entry: R.Entry
    state: R.State
    organisation: Organisation
    channel: str
    municipality: str  # the patient's municipality at ts
    person: Person
    day: int  # Europe/Oslo day ordinal of ts


def uuid4_int(rng: random.Random) -> int:
    """The 128-bit value of uuid.UUID(int=rng.getrandbits(128), version=4)."""
    value = rng.getrandbits(128)
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48
    value &= ~(0xF000 << 64)
    value |= 4 << 76
    return value


def _organisation_number(rng: random.Random, taken: set[str]) -> str:
    """A synthetic 9-digit organisation number with a valid modulus-11 check digit."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        body = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        check = 11 - sum(w * d for w, d in zip(weights, body, strict=True)) % 11
        if check == 10:
            continue
        number = "".join(map(str, body)) + str(0 if check == 11 else check)
        if number not in taken:
            taken.add(number)
            return number


class World:
    """Draws the organisations, persons and events of one configuration."""

    def __init__(self, config: SimulationConfig):
        self.config = config
        self.rng = random.Random(config.seed)
        # Coding gaps draw from their own stream, so the calibrated population stays as it is.
        self.coding_rng = random.Random(f"{config.seed}|coding")
        self.types: tuple[CriticalInformationType, ...] = critical_information_types()
        self.counties = load_counties()
        self.county_cum = _cum(c.population for c in self.counties)
        self.population = sum(c.population for c in self.counties)
        self.tag = self._run_tag()
        self.start_ord = config.start.toordinal()
        self.end_ord = config.end.toordinal()
        self.horizon_ts = self._midnight(date.fromordinal(self.end_ord + 1))
        self._midnights: dict[int, int] = {}
        self._organisations()
        self._type_tables()
        self._org_type_cum = _cum(ORGANISATION_TYPE_WEIGHTS[t] for t in ORGANISATION_TYPES)
        self._age_cum = _cum(b[2] for b in AGE_BANDS)
        self._sex_cum = _cum(w for _, w in SEX_WEIGHTS)
        self._entries_cum = _cum(ENTRIES_PER_PERSON)
        self._atc_cum = _cum(R.ATC_WEIGHTS)
        self._allergen_cum = _cum(R.ALLERGEN_WEIGHTS)
        self._reaction_cum = _cum(R.REACTION_WEIGHTS)
        # API share by region and day index.
        n_days = self.end_ord - self.start_ord + 1
        self._api_share = {
            region: [config.api_share(region, date.fromordinal(self.start_ord + i)) for i in range(n_days)]
            for region in HEALTH_REGIONS
        }
        self.events: list[SimulatedEvent] = []
        self.persons: list[Person] = []
        self.entries = 0
        self.new_persons: dict[tuple[str, str], int] = {}
        self.expected_new_persons: dict[tuple[str, str], list[float]] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _run_tag(self) -> str:
        """Letters that keep entry ids and pseudonyms of different runs apart."""
        c = self.config
        key = (
            f"{c.seed}|{c.start}|{c.end}|{c.scale!r}|{sorted(c.api_go_live.items())}"
            f"|{c.api_rate_uplift!r}|{c.ramp_months}"
        )
        return hashlib.sha256(key.encode()).hexdigest()[:8].translate(str.maketrans("0123456789", "ghijklmnop"))

    def _midnight(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=R.OSLO).timestamp())

    def midnight(self, ordinal: int) -> int:
        ts = self._midnights.get(ordinal)
        if ts is None:
            ts = self._midnights[ordinal] = self._midnight(date.fromordinal(ordinal))
        return ts

    @staticmethod
    def local_ordinal(ts: float) -> int:
        return datetime.fromtimestamp(ts, R.OSLO).toordinal()

    def pseudonym(self, index: int) -> str:
        return hashlib.sha256(f"kritinfo-sim|{self.tag}|person|{index}".encode()).hexdigest()

    def _organisations(self) -> None:
        rng = self.rng
        taken: set[str] = set()
        self.by_type_county: dict[tuple[str, str], list[Organisation]] = {}
        self.by_type_region: dict[tuple[str, str], list[Organisation]] = {}
        self.organisations: list[Organisation] = []

        def add(org_type: str, county: County, municipality: str) -> None:
            systems = EPJ_SYSTEMS[org_type]
            system = _choose(rng, [s for s, _ in systems], _cum(w for _, w in systems))
            if county.region == "helse-midt-norge" and (
                org_type == "hospital"
                or (org_type in ("municipal", "gp", "emergency") and rng.random() < HELSEPLATTFORMEN_MUNICIPAL_SHARE)
            ):
                system = HELSEPLATTFORMEN
            org = Organisation(
                _organisation_number(rng, taken), org_type, county.region, county.code, municipality, system
            )
            common = {
                "organisation_type": org_type,
                "organisation_id": org.organisation_id,
                "health_region": county.region,
                "municipality": municipality,
            }
            org.source_api = {**common, "system": system}
            org.source_portal = {**common, "system": PORTAL_SYSTEM}
            self.organisations.append(org)
            self.by_type_county.setdefault((org_type, county.code), []).append(org)
            self.by_type_region.setdefault((org_type, county.region), []).append(org)

        for region in HEALTH_REGIONS:
            counties = [c for c in self.counties if c.region == region]
            cum = _cum(c.population for c in counties)
            for i in range(HOSPITALS_PER_REGION.get(region, 1)):
                county = counties[i] if i < len(counties) else _choose(rng, counties, cum)
                if rng.random() < HOSPITAL_IN_LARGEST_MUNICIPALITY_SHARE:
                    municipality = county.municipalities[0]
                else:
                    municipality = _choose(rng, county.municipalities, county.municipality_cum)
                add("hospital", county, municipality)
        for county in self.counties:
            for _ in range(max(1, round(county.population / INHABITANTS_PER_GP_OFFICE))):
                add("gp", county, _choose(rng, county.municipalities, county.municipality_cum))
            for municipality in county.municipalities:
                add("municipal", county, municipality)
            for _ in range(max(1, round(len(county.municipalities) / MUNICIPALITIES_PER_EMERGENCY_SERVICE))):
                add("emergency", county, _choose(rng, county.municipalities, county.municipality_cum))
            for _ in range(max(1, round(county.population / INHABITANTS_PER_PRIVATE_SPECIALIST))):
                add("private-specialist", county, _choose(rng, county.municipalities, county.municipality_cum))

    def _type_tables(self) -> None:
        """Cumulative type weights per age band (treatment limitations skew old), profiles."""
        unknown = {t.resource_type for t in self.types} - set(self._CONTENT_BUILDERS)
        if unknown:
            raise ValueError(f"the seed names resource types the simulator cannot build: {sorted(unknown)}")
        self._profiles = {t.type_id: R.profile_url(t, self.types) for t in self.types}
        self._verifications = {}
        for t in self.types:
            values, weights = R.initial_verifications(t.resource_type)
            self._verifications[t.resource_type] = (values, _cum(weights))
        self._type_cum_by_band = []
        for low, high, _, _ in AGE_BANDS:
            mid = (low + high) / 2
            factor = [f for age, f in CONSENT_AGE_FACTOR if mid >= age][-1]
            weights = [
                TYPE_WEIGHTS.get(t.type_id, DEFAULT_TYPE_WEIGHT) * (factor if t.resource_type == "Consent" else 1.0)
                for t in self.types
            ]
            self._type_cum_by_band.append(_cum(weights))

    def pick_organisation(self, county: County) -> Organisation:
        rng = self.rng
        org_type = _choose(rng, ORGANISATION_TYPES, self._org_type_cum)
        if rng.random() < ELSEWHERE_SHARE:
            county = _choose(rng, self.counties, self.county_cum)
        if org_type in ("hospital", "private-specialist"):
            pool = self.by_type_region.get((org_type, county.region)) or self.by_type_county[(org_type, county.code)]
        else:
            pool = self.by_type_county.get((org_type, county.code)) or self.by_type_region[(org_type, county.region)]
        return pool[int(rng.random() * len(pool))]

    def pick_channel(self, org: Organisation, day_ordinal: int) -> str:
        share = self._api_share[org.region][day_ordinal - self.start_ord]
        return "api" if share > 0 and self.rng.random() < share else "portal"

    def recording_delay(self, channel: str) -> int:
        """Seconds between recording in the EPJ and reaching the core record."""
        median, shortest, longest = API_DELAY if channel == "api" else PORTAL_DELAY
        return int(min(longest, max(shortest, math.exp(self.rng.gauss(math.log(median), DELAY_LOG_SD)))))

    def time_of_day(self, weekday: int) -> int:
        rng = self.rng
        if weekday >= 5:
            return int(8 * 3600 + rng.random() * 14 * 3600)
        u = rng.random()
        if u < WEEKDAY_OFFICE_HOURS_SHARE:
            return int(8 * 3600 + rng.random() * 8 * 3600)
        if u < WEEKDAY_OFFICE_HOURS_SHARE + WEEKDAY_EVENING_SHARE:
            return int(16 * 3600 + rng.random() * 6 * 3600)
        return int(22 * 3600 + rng.random() * 10 * 3600)

    # -- the rate of new persons -----------------------------------------------------------

    @staticmethod
    def national_rate(day: date) -> float:
        """Baseline new persons per year (scale 1) on a day: linear between mid-year knots."""
        if day < LAUNCH:
            return 0.0
        t = day.year + (day.timetuple().tm_yday - 0.5) / (366 if day.year % 4 == 0 else 365)
        years = sorted(NEW_PERSONS_PER_YEAR)
        x0 = years[0] + 0.5
        if t <= x0:
            return NEW_PERSONS_PER_YEAR[years[0]]
        for y0, y1 in pairwise(years):
            if t <= y1 + 0.5:
                w = t - (y0 + 0.5)
                return NEW_PERSONS_PER_YEAR[y0] * (1 - w) + NEW_PERSONS_PER_YEAR[y1] * w
        return NEW_PERSONS_PER_YEAR[years[-1]]

    # -- generation ------------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        config = self.config
        for ordinal in range(self.start_ord, self.end_ord + 1):
            day = date.fromordinal(ordinal)
            base = (
                self.national_rate(day)
                / 365.25
                * WEEKDAY_FACTOR[day.weekday()]
                * MONTH_FACTOR[day.month - 1]
                * config.scale
                / self.population
            )
            if base <= 0:
                continue
            month = f"{day.year:04d}-{day.month:02d}"
            midnight = self.midnight(ordinal)
            for county in self.counties:
                lam0 = base * county.population
                lam = lam0 * config.rate_multiplier(county.region, day)
                expected = self.expected_new_persons.setdefault((county.region, month), [0.0, 0.0])
                expected[0] += lam0
                expected[1] += lam
                n = _poisson(rng, lam)
                if n:
                    key = (county.region, month)
                    self.new_persons[key] = self.new_persons.get(key, 0) + n
                for _ in range(n):
                    ts = midnight + self.time_of_day(day.weekday())
                    if ts < self.horizon_ts:
                        self._person(county, ts)

    def _person(self, county: County, arrival_ts: int) -> None:
        rng = self.rng
        index = len(self.persons)
        band = bisect(self._age_cum, rng.random() * self._age_cum[-1])
        low, high, _, death_hazard = AGE_BANDS[band]
        age = rng.randint(low, high)
        arrival_year = datetime.fromtimestamp(arrival_ts, R.OSLO).year
        birth_year = arrival_year - age - (1 if rng.random() < BIRTHDAY_STILL_TO_COME_SHARE and age > 0 else 0)
        sex = _choose(rng, SEX_WEIGHTS, self._sex_cum)[0]
        person = Person(
            index,
            self.pseudonym(index),
            birth_year,
            sex,
            county,
            _choose(rng, county.municipalities, county.municipality_cum),
            arrival_ts,
            arrival_ts + rng.expovariate(death_hazard) * YEAR,
        )
        if rng.random() < MOVE_SHARE:
            last = min(person.end_ts, self.horizon_ts)
            person.move_ts = arrival_ts + rng.random() * (last - arrival_ts)
            if rng.random() < MOVE_WITHIN_COUNTY_SHARE and len(county.municipalities) > 1:
                person.move_county = county
                others = [m for m in county.municipalities if m != person.municipality]
                person.move_municipality = others[int(rng.random() * len(others))]
            else:
                target = _choose(rng, self.counties, self.county_cum)
                person.move_county = target
                person.move_municipality = _choose(rng, target.municipalities, target.municipality_cum)
                if person.move_municipality == person.municipality:
                    person.move_ts = math.inf
        self.persons.append(person)

        n_entries = 1 + bisect(self._entries_cum, rng.random() * self._entries_cum[-1])
        ts = arrival_ts
        session: Session | None = None
        for i in range(n_entries):
            if i > 0:
                if rng.random() < SAME_SESSION_SHARE:
                    ts = ts + rng.randint(*SAME_SESSION_GAP)
                else:
                    ts = int(ts + rng.expovariate(1 / LATER_ENTRY_MEAN_YEARS) * YEAR)
                    session = None
                if ts >= self.horizon_ts or ts >= person.end_ts:
                    break
            session = self.entry(person, self._pick_type(band), ts, session)

    def _pick_type(self, band: int) -> CriticalInformationType:
        cum = self._type_cum_by_band[band]
        return self.types[bisect(cum, self.rng.random() * cum[-1])]

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.random() * len(options))]

    def entry(self, person: Person, kind: CriticalInformationType, created_ts: int, session: Session | None) -> Session:
        """One entry of ``kind`` and all its events; ``session`` when registered together with the previous entry.

        Returns the session (organisation and channel) a further entry in the same sitting shares.
        """
        self.entries += 1
        resource_id = f"kj-{R.id_prefix(kind.resource_type)}-{self.tag}-{self.entries}"
        day = self.local_ordinal(created_ts)
        if session is None:
            organisation = self.pick_organisation(person.county_at(created_ts))
            session = Session(organisation, self.pick_channel(organisation, day))
        content = self._CONTENT_BUILDERS[kind.resource_type](self, kind, session.channel)
        entry = R.Entry(
            kind.resource_type,
            resource_id,
            self._profiles[kind.type_id],
            kind.type_id,
            content.category,
            kind.label_nb,
            content.code,
            content.text,
            content.allergy_type,
            content.reaction,
            created_ts - self.recording_delay(session.channel),
            f"Patient/{person.pseudonym}",
        )
        self._lifecycle(entry, kind, content.criticality, person, session, created_ts, day)
        return session

    # -- what an entry says, one builder per resource type ---------------------------------

    def _allergy_intolerance(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        rng = self.rng
        if MEDICATION in kind.category_codes:
            atc_code, substance = _choose(rng, R.ATC_CODES, self._atc_cum)
            category, code, text = MEDICATION, (ATC_SYSTEM, atc_code, substance), ""
            if channel == "portal" and self.coding_rng.random() < self.config.portal_substance_as_text_share:
                code, text = None, substance
            allergy_type = "intolerance" if rng.random() < DRUG_INTOLERANCE_SHARE else "allergy"
        else:
            allergen_code, allergen, allergen_category = _choose(rng, R.ALLERGENS, self._allergen_cum)
            code, text, allergy_type = (ALLERGEN_SYSTEM, allergen_code, allergen), "", "allergy"
            category = allergen_category if allergen_category in kind.category_codes else kind.category_codes[0]
        reaction = None
        if rng.random() < REACTION_RECORDED_SHARE:
            reaction = _choose(rng, R.REACTIONS, self._reaction_cum)
        return EntryContent(category, code, text, allergy_type, reaction, self._criticality(reaction))

    def _criticality(self, reaction: tuple[str, str] | None) -> str | None:
        u = self.rng.random()
        if reaction is not None and reaction[1] == "severe":
            criticality = "high" if u < SEVERE_REACTION_HIGH_CRITICALITY_SHARE else "low"
        elif u < LOW_CRITICALITY_SHARE:
            criticality = "low"
        elif u < LOW_CRITICALITY_SHARE + HIGH_CRITICALITY_SHARE:
            criticality = "high"
        else:
            criticality = "unable-to-assess"
        if self.coding_rng.random() < self.config.missing_criticality_share:
            return None
        return criticality

    def _condition(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        category = _first_category(kind)
        icd10 = R.ICD10_BY_CATEGORY.get(category, R.ICD10_OTHER)
        code, display = icd10[int(self.rng.random() * len(icd10))]
        return EntryContent(category, code=(ICD10_SYSTEM, code, display))

    def _procedure(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        return EntryContent(_first_category(kind), text=self._pick(R.ONGOING_TREATMENTS))

    def _flag(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        return EntryContent(_first_category(kind), text=self._pick(R.PROCEDURE_CHANGES))

    def _device_use_statement(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        return EntryContent(text=self._pick(R.DEVICES))

    def _consent(self, kind: CriticalInformationType, channel: str) -> EntryContent:
        options = R.CPR_MINUS if kind.type_id.startswith("cpr") else R.LIMITATIONS
        return EntryContent(_first_category(kind), text=self._pick(options))

    # The functions, not bound methods: a World holding its own bound methods would be a reference cycle,
    # left for the garbage collector instead of being freed at once.
    _CONTENT_BUILDERS: ClassVar[dict[str, Callable[[World, CriticalInformationType, str], EntryContent]]] = {
        "AllergyIntolerance": _allergy_intolerance,
        "Condition": _condition,
        "Procedure": _procedure,
        "Flag": _flag,
        "DeviceUseStatement": _device_use_statement,
        "Consent": _consent,
    }

    # -- what happens to an entry ------------------------------------------------------------

    def _lifecycle(
        self,
        entry: R.Entry,
        kind: CriticalInformationType,
        criticality: str | None,
        person: Person,
        session: Session,
        created_ts: int,
        day: int,
    ) -> None:
        """Created; then withdrawn as entered in error, or confirmed and revised until refuted, inactivated
        (the entry ends on its own or the person leaves) or the end of the simulated range."""
        rng = self.rng
        rt = entry.resource_type
        verifications, weights = self._verifications[rt]
        verification = verifications[0] if len(verifications) == 1 else _choose(rng, verifications, weights)
        state = R.shared_state(R.initial_status(rt), verification, criticality, None)
        self._emit(created_ts, "created", 1, entry, state, session.organisation, session.channel, person, day)

        u = rng.random()
        if u < ENTERED_IN_ERROR_SHARE:
            self._enter_in_error(entry, state, session.organisation, person, created_ts)
            return
        own_end = created_ts + rng.expovariate(TYPE_END_HAZARD.get(kind.type_id, DEFAULT_END_HAZARD)) * YEAR
        end = min(own_end, person.end_ts)
        refuted_at = math.inf
        if rt in R.HAS_CLINICAL_STATUS and u < ENTERED_IN_ERROR_SHARE + REFUTED_SHARE:
            refuted_at = created_ts + rng.randint(*REFUTED_WITHIN)
        state, version = self._revise(
            entry, state, session.organisation, person, created_ts, min(end, refuted_at, self.horizon_ts)
        )
        if refuted_at < min(end, self.horizon_ts):
            self._refute(entry, state, version + 1, session.organisation, person, refuted_at)
        elif end < self.horizon_ts:
            self._inactivate(entry, state, version + 1, session.organisation, person, end, person.end_ts <= own_end)

    def _enter_in_error(
        self, entry: R.Entry, state: R.State, creator: Organisation, person: Person, created_ts: int
    ) -> None:
        ts = created_ts + self.rng.randint(*ENTERED_IN_ERROR_WITHIN)
        if ts >= self.horizon_ts:
            return
        if entry.resource_type in R.HAS_CLINICAL_STATUS:  # FHIR: no clinicalStatus once entered in error
            withdrawn = R.shared_state(None, "entered-in-error", state.criticality, None)
        else:
            withdrawn = R.shared_state("entered-in-error", None, state.criticality, None)
        self._later(ts, "entered-in-error", 2, entry, withdrawn, creator, person)

    def _revise(
        self, entry: R.Entry, state: R.State, creator: Organisation, person: Person, created_ts: int, stop: float
    ) -> tuple[R.State, int]:
        """Confirmation of an unconfirmed or provisional entry, then revisions until ``stop``.

        Returns the last state and version.
        """
        rng = self.rng
        version = 1
        ts = created_ts
        if state.verification in ("unconfirmed", "provisional"):
            ts = created_ts + rng.randint(DAY, CONFIRM_WITHIN_DAYS * DAY)
            if ts < stop:
                version += 1
                state = R.shared_state(state.status, "confirmed", state.criticality, self._note(entry.resource_type))
                self._later(ts, "updated", version, entry, state, creator, person)
        while True:
            ts = int(ts + max(MIN_UPDATE_GAP, rng.expovariate(1 / UPDATE_MEAN_YEARS) * YEAR))
            if ts >= stop:
                return state, version
            version += 1
            criticality = state.criticality
            if entry.resource_type == "AllergyIntolerance" and rng.random() < CRITICALITY_REVISION_SHARE:
                criticality = "high" if criticality != "high" else "low"
            state = R.shared_state(state.status, state.verification, criticality, self._note(entry.resource_type))
            self._later(ts, "updated", version, entry, state, creator, person)

    def _refute(
        self, entry: R.Entry, state: R.State, version: int, creator: Organisation, person: Person, refuted_at: float
    ) -> None:
        ts = max(int(refuted_at), self._last_ts + MIN_EVENT_GAP)
        if ts < self.horizon_ts:
            refuted = R.shared_state(state.status, "refuted", state.criticality, state.note)
            self._later(ts, "updated", version, entry, refuted, creator, person)

    def _inactivate(
        self,
        entry: R.Entry,
        state: R.State,
        version: int,
        creator: Organisation,
        person: Person,
        end: float,
        person_left: bool,
    ) -> None:
        """The entry ends on its own, or with all the entries of a person who leaves the register."""
        ts = int(end) + (self.rng.randint(0, LEAVING_SPREAD) if person_left else 0)
        ts = max(ts, self._last_ts + MIN_EVENT_GAP)
        if ts < self.horizon_ts:
            inactive = self._pick(R.inactive_statuses(entry.resource_type))
            inactivated = R.shared_state(inactive, state.verification, state.criticality, state.note)
            self._later(ts, "inactivated", version, entry, inactivated, creator, person)

    def _note(self, resource_type: str) -> str:
        return self._pick(R.PROCEDURE_CHANGES if resource_type == "Flag" else R.NOTES)

    def _later(
        self,
        ts: int,
        event_type: str,
        version: int,
        entry: R.Entry,
        state: R.State,
        creator: Organisation,
        person: Person,
    ) -> None:
        """An event after creation: by the creating organisation or another one, channel as of then."""
        day = self.local_ordinal(ts)
        if self.rng.random() < SAME_ORGANISATION_SHARE:
            organisation = creator
        else:
            organisation = self.pick_organisation(person.county_at(ts))
        channel = self.pick_channel(organisation, day)
        self._emit(ts, event_type, version, entry, state, organisation, channel, person, day)

    def _emit(
        self,
        ts: int,
        event_type: str,
        version: int,
        entry: R.Entry,
        state: R.State,
        organisation: Organisation,
        channel: str,
        person: Person,
        day: int,
    ) -> None:
        self._last_ts = ts
        self.events.append(
            SimulatedEvent(
                ts,
                uuid4_int(self.rng),
                event_type,
                version,
                entry,
                state,
                organisation,
                channel,
                person.municipality_at(ts),
                person,
                day,
            )
        )


def _first_category(kind: CriticalInformationType) -> str:
    """The 7651 category code of a type coded by one category ("" for a type without one)."""
    return kind.category_codes[0] if kind.category_codes else ""


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k = 0
        p = rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))
