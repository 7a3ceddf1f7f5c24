"""A second source of registration events, written from docs/contract.md alone (stdlib only).

Its assumptions differ on purpose from a tidy simulator, staying inside what the contract allows:
one organisation number sends under several organisation types, municipalities and health
regions (and moves between them over time); entries have many versions, repeated `created`
events, events ordered before their creation and versions "9" and "10" at the same instant;
local codings stand before the HL7 status coding and contradict it; Flag, Consent, Procedure and
DeviceUseStatement carry a `status`, also inactive or entered-in-error; `recordedDate` is a
date-time with an offset, a date, a month, a year or absent; events arrive months late; EPJ
names carry versions and vary in spelling; persons move county.

`write_delivery` makes it messy on disk: several files (plain and gzip, BOM, CRLF, blank lines),
redeliveries in the same and in other files, malformed lines, and lines with planted national
identity numbers in several written forms. It returns what it wrote, so that a test can check
every line's fate and every figure against the events alone.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.helpers import national_id

OSLO = ZoneInfo("Europe/Oslo")
START, END = date(2023, 1, 1), date(2025, 6, 30)
HL7 = "http://terminology.hl7.org/CodeSystem/"
CATEGORY_7651 = "urn:oid:2.16.578.1.12.4.1.1.7651"
ATC = "http://www.whocc.no/atc"
ALLERGEN_7514 = "urn:oid:2.16.578.1.12.4.1.1.7514"
ICD10 = "urn:oid:2.16.578.1.12.4.1.1.7110"
SNOMED = "http://snomed.info/sct"
LOCAL_STATUS = "http://epj.example.no/fhir/CodeSystem/lokal-status"
PROFILE = "http://nhn.no/kj/fhir/StructureDefinition/"
PORTAL = "kjernejournal-portal"

# Real municipality numbers (2024 numbering) per health region; the first two digits are the county.
MUNICIPALITIES = {
    "helse-sor-ost": [
        "0301",
        "3201",
        "3203",
        "3205",
        "3107",
        "3105",
        "3301",
        "3303",
        "3403",
        "3405",
        "3905",
        "3907",
        "4001",
        "4003",
        "4204",
        "4203",
    ],
    "helse-vest": ["1103", "1108", "1106", "4601", "4602", "4621"],
    "helse-midt-norge": ["1506", "1508", "1505", "5001", "5006", "5007"],
    "helse-nord": ["1804", "1806", "1833", "5501", "5503", "5601", "5603"],
}
REGION_WEIGHTS = {"helse-sor-ost": 56, "helse-vest": 20, "helse-midt-norge": 14, "helse-nord": 10}
REGION_OF_MUNICIPALITY = {m: r for r, ms in MUNICIPALITIES.items() for m in ms}

# EPJ products as their senders spell them: versions, case and spacing vary.
EPJ_SPELLINGS = {
    "dips": ["DIPS Arena 21.3", "DIPS Arena", "dips  arena", "DIPS Arena v22", " DIPS\tArena 23.1.4 "],
    "cgm": ["CGM Allmenn 2024.1", "cgm allmenn", "CGM  Allmenn"],
    "infodoc": ["Infodoc Plenario 5.2", "infodoc plenario"],
    "systemx": ["System X", "SYSTEM X 11"],
    "gerica": ["Gerica", "Gerica 3.1"],
    "pridok": ["Pridok", "pridok r2"],
}

# Types of critical information (contract table) and how often each is registered.
TYPE_WEIGHTS = {
    "drug-reaction": 30,
    "other-allergy": 12,
    "intubation-problem": 4,
    "anaesthesia-problem": 5,
    "critical-condition": 12,
    "ongoing-treatment": 6,
    "implant-condition": 4,
    "limitation-of-life-prolonging-treatment": 5,
    "other-procedure-change": 6,
    "infection": 5,
    "cpr-minus-and-treatment-decisions": 6,
    "mechanical-implant": 5,
}
CONDITION_CODES = {
    "intubation-problem": "3",
    "anaesthesia-problem": "4",
    "critical-condition": "5",
    "implant-condition": "7",
    "infection": "10",
}
CONSENT_CODES = {"limitation-of-life-prolonging-treatment": "8", "cpr-minus-and-treatment-decisions": "11"}
RESOURCE_OF_TYPE = {
    "drug-reaction": "AllergyIntolerance",
    "other-allergy": "AllergyIntolerance",
    **{t: "Condition" for t in CONDITION_CODES},
    **{t: "Consent" for t in CONSENT_CODES},
    "ongoing-treatment": "Procedure",
    "other-procedure-change": "Flag",
    "mechanical-implant": "DeviceUseStatement",
}

# Resource statuses (FHIR R4 value sets) that leave an entry active, and some that do not.
STATUS_ACTIVE = {
    "Flag": ["active"],
    "Consent": ["active"],
    "Procedure": ["in-progress", "on-hold", "preparation"],
    "DeviceUseStatement": ["active", "on-hold"],
}
STATUS_INACTIVE = {
    "Flag": ["inactive", "entered-in-error"],
    "Consent": ["inactive", "rejected", "entered-in-error", "draft"],
    "Procedure": ["completed", "stopped", "not-done", "entered-in-error"],
    "DeviceUseStatement": ["completed", "stopped", "entered-in-error", "intended"],
}
CLINICAL = {
    "AllergyIntolerance": ("allergyintolerance-clinical", ["active"], ["inactive", "resolved"]),
    "Condition": ("condition-clinical", ["active", "recurrence", "relapse"], ["inactive", "remission", "resolved"]),
}
VERIFICATION = {
    "AllergyIntolerance": ("allergyintolerance-verification", ["confirmed", "unconfirmed"]),
    "Condition": ("condition-ver-status", ["confirmed", "provisional", "differential", "unconfirmed"]),
}


@dataclass
class Unit:
    """Under what an organisation number registers from a day on."""

    since: date
    until: date | None
    organisation_type: str
    health_region: str
    municipality: str


@dataclass
class Organisation:
    organisation_id: str
    units: list[Unit]
    products: list[str]
    api_from: date | None

    def units_on(self, day: date) -> list[Unit]:
        return [u for u in self.units if u.since <= day and (u.until is None or day < u.until)]


@dataclass
class Person:
    pseudonym: str
    birth_year: int
    sex: str
    homes: list[tuple[datetime, str]]  # (from this instant, municipality)

    def municipality_at(self, instant: datetime) -> str:
        return [m for since, m in self.homes if since <= instant][-1]


@dataclass
class Delivery:
    """What write_delivery put in landing/."""

    events: list[dict]  # every distinct valid event: what must be loaded
    files: dict[str, Counter]  # file name -> lines, blank, loaded, duplicates, quarantined
    quarantined: dict[tuple[str, int], str]  # (file, line) -> the reason code it must get
    planted: list[str]  # national identity numbers planted, 11 digits each
    persons: int
    registered: dict[date, Counter]  # month end -> county -> persons registered, by the generator


def oslo_day(instant: datetime) -> date:
    return instant.astimezone(OSLO).date()


def month_ends(first: date, last: date) -> list[date]:
    ends, year, month = [], first.year, first.month
    while True:
        nxt = date(year + month // 12, month % 12 + 1, 1)
        end = nxt - timedelta(days=1)
        if end > last:
            return ends
        ends.append(end)
        year, month = nxt.year, nxt.month


class Generator:
    def __init__(self, seed: int, persons: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.organisations = self._organisations()
        self.persons = [self._person(i) for i in range(persons)]
        # entry -> steps in the order this generator meant them: (instant, event, meant active)
        self.steps: dict[str, list[tuple[datetime, dict, bool]]] = {}

    # --- the world ---------------------------------------------------------------------------------

    def _org_number(self) -> str:
        return str(self.rng.randrange(810_000_000, 999_999_999))

    def _organisations(self) -> list[Organisation]:
        rng, organisations = self.rng, []
        for region, municipalities in MUNICIPALITIES.items():
            for municipality in municipalities:
                # A municipality: GP offices and the emergency ward under one number, nursing homes
                # later under the same number.
                units = [
                    Unit(START, None, "gp", region, municipality),
                    Unit(START, None, "emergency", region, municipality),
                ]
                if rng.random() < 0.5:
                    units.append(Unit(date(2024, rng.randrange(1, 13), 1), None, "municipal", region, municipality))
                organisations.append(
                    Organisation(self._org_number(), units, ["cgm", rng.choice(["infodoc", "gerica"])], self._go_live())
                )
            # A trust with units in two counties of its region; after a merger one of them belongs to
            # a unit in another region.
            other = rng.choice([r for r in MUNICIPALITIES if r != region])
            merger = date(2024, 3, 1)
            units = [
                Unit(START, None, "hospital", region, municipalities[0]),
                Unit(START, merger, "hospital", region, municipalities[-1]),
                Unit(merger, None, "hospital", other, MUNICIPALITIES[other][1]),
            ]
            organisations.append(Organisation(self._org_number(), units, ["dips"], self._go_live()))
        # A private chain registering as specialist and as GP in several regions.
        for _ in range(3):
            units = [
                Unit(
                    START + timedelta(days=rng.randrange(0, 500)),
                    None,
                    rng.choice(["private-specialist", "gp"]),
                    r,
                    rng.choice(MUNICIPALITIES[r]),
                )
                for r in rng.sample(list(MUNICIPALITIES), 3)
            ]
            units.append(Unit(START, None, "private-specialist", "helse-sor-ost", "0301"))
            organisations.append(Organisation(self._org_number(), units, ["pridok", "systemx"], self._go_live()))
        # A few that only ever use the portal.
        for region in MUNICIPALITIES:
            organisations.append(
                Organisation(
                    self._org_number(), [Unit(START, None, "gp", region, MUNICIPALITIES[region][-1])], [], None
                )
            )
        return organisations

    def _go_live(self) -> date | None:
        if self.rng.random() < 0.15:
            return None
        return START + timedelta(days=self.rng.randrange(0, 800))

    def _person(self, index: int) -> Person:
        rng = self.rng
        region = rng.choices(list(REGION_WEIGHTS), list(REGION_WEIGHTS.values()))[0]
        first = datetime(2015, 1, 1, tzinfo=UTC)
        homes = [(first, rng.choice(MUNICIPALITIES[region]))]
        for _ in range(rng.choices([0, 1, 2], [85, 12, 3])[0]):
            moved = self._instant(START, END)
            homes.append((moved, rng.choice([m for m in REGION_OF_MUNICIPALITY if m[:2] != homes[-1][1][:2]])))
            homes.sort()
        pseudonym = hashlib.sha256(f"foreign-{self.seed}-{index}".encode()).hexdigest()
        return Person(
            pseudonym, rng.randrange(1925, 2022), rng.choice(["female", "male", "female", "male", "unknown"]), homes
        )

    def _instant(self, first: date, last: date) -> datetime:
        """A uniformly random instant between Oslo midnight of first and of the day after last."""
        start = datetime.combine(first, datetime.min.time(), OSLO).astimezone(UTC)
        stop = datetime.combine(last + timedelta(days=1), datetime.min.time(), OSLO).astimezone(UTC)
        return start + timedelta(seconds=self.rng.randrange(int((stop - start).total_seconds())))

    # --- entries -----------------------------------------------------------------------------------

    def entries(self) -> None:
        rng = self.rng
        for person in self.persons:
            for _ in range(rng.choices([1, 2, 3, 4, 6], [45, 30, 15, 7, 3])[0]):
                self._entry(person, rng.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0])
        # One event on the last day, so that the last month is complete in the data.
        self._entry(self.persons[0], "drug-reaction", created=datetime(2025, 6, 30, 10, tzinfo=UTC), versions=1)

    def _entry(self, person: Person, kind: str, created: datetime | None = None, versions: int | None = None) -> None:
        rng = self.rng
        resource_type = RESOURCE_OF_TYPE[kind]
        entry_id = f"{resource_type[:2].lower()}-{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}"
        created = created or self._instant(START, END - timedelta(days=20))
        versions = versions or rng.choices([1, 2, 3, 4, 5, 12], [35, 25, 15, 10, 8, 7])[0]
        instants = [created]
        for _ in range(versions - 1):
            gap = rng.choice([timedelta(minutes=rng.randrange(1, 600)), timedelta(days=rng.randrange(1, 200))])
            instants.append(instants[-1] + gap)
        instants = [i for i in instants if oslo_day(i) <= END]
        if len(instants) >= 10:
            # Versions 9 and 10 stored in the same second: only comparing them as numbers orders them.
            instants[9] = instants[8]
        organisation = self._sender(person, created)
        recorded = self._recorded_date(created)
        active = True
        steps = []
        for number, instant in enumerate(instants, start=1):
            if number == 1:
                # Mostly a creation; sometimes the creation came later or never reached the extract.
                event_type = rng.choices(["created", "updated"], [92, 8])[0]
            else:
                event_type = rng.choices(["updated", "created", "inactivated", "entered-in-error"], [78, 8, 9, 5])[0]
                if rng.random() < 0.3:
                    organisation = self._sender(person, instant)
            if number == 2 and steps[0][1]["event_type"] == "updated" and rng.random() < 0.5:
                event_type = "created"
            if event_type in ("inactivated", "entered-in-error"):
                active, how = False, "event"
            elif rng.random() < (0.95 if number == 1 else 0.75 if active else 0.4):
                active, how = True, "resource"
            else:
                active, how = False, "resource"
            resource = self._resource(kind, entry_id, str(number), person, active, how == "event", recorded, instant)
            steps.append((instant, self._event(event_type, instant, organisation, person, resource), active))
        if len(steps) >= 10:
            # Version 10 decides: make it differ from version 9, so that the order is seen.
            instant, event, _ = steps[9]
            flipped = not steps[8][2]
            event["event_type"] = "updated"
            event["resource"] = self._resource(kind, entry_id, "10", person, flipped, False, recorded, instant)
            steps[9] = (instant, event, flipped)
        self.steps[f"{resource_type}/{entry_id}"] = steps

    def _sender(self, person: Person, instant: datetime) -> tuple[Organisation, Unit]:
        """One of an organisation's units: mostly in the person's region, now and then elsewhere."""
        day = oslo_day(instant)
        region = REGION_OF_MUNICIPALITY[person.municipality_at(instant)]
        while True:
            organisation = self.rng.choice(self.organisations)
            units = organisation.units_on(day)
            if units and (any(u.health_region == region for u in units) or self.rng.random() < 0.3):
                return organisation, self.rng.choice(units)

    def _recorded_date(self, created: datetime) -> str | None:
        """When the source EPJ recorded the entry, written in the forms FHIR dateTime allows."""
        rng = self.rng
        delay = rng.choices(
            [
                timedelta(minutes=rng.randrange(0, 120)),
                timedelta(hours=rng.randrange(2, 72)),
                timedelta(days=rng.randrange(3, 120)),
                -timedelta(minutes=rng.randrange(1, 90)),
            ],
            [55, 25, 15, 5],
        )[0]
        recorded = created - delay
        form = rng.choices(["offset", "utc", "fraction", "date", "month", "year", "absent"], [40, 10, 5, 25, 3, 2, 15])[
            0
        ]
        local = recorded.astimezone(OSLO)
        if form == "offset":
            return local.isoformat(timespec="seconds")
        if form == "utc":
            return recorded.strftime("%Y-%m-%dT%H:%M:%SZ")
        if form == "fraction":
            return local.isoformat(timespec="milliseconds")
        if form == "date":
            return local.date().isoformat()
        if form == "month":
            return local.strftime("%Y-%m")
        if form == "year":
            return local.strftime("%Y")
        return None

    def _status_element(self, resource_type: str, element: str, code: str) -> dict:
        system = (CLINICAL if element == "clinicalStatus" else VERIFICATION)[resource_type][0]
        codings = [{"system": HL7 + system, "code": code}]
        if self.rng.random() < 0.35:
            # A local coding first, saying the opposite: only the HL7 coding counts.
            opposite = "active" if code != "active" else self.rng.choice(["inactive", "entered-in-error"])
            codings.insert(0, {"system": LOCAL_STATUS, "code": opposite, "display": "lokal status"})
        return {"coding": codings}

    def _resource(
        self,
        kind: str,
        entry_id: str,
        version: str,
        person: Person,
        active: bool,
        by_event: bool,
        recorded: str | None,
        instant: datetime,
    ) -> dict:
        """The entry as it stands after the change. Inactive (unless the event type says so) by one
        of the resource's own means: clinical status, verification status or status."""
        rng = self.rng
        resource_type = RESOURCE_OF_TYPE[kind]
        reference = {"reference": f"Patient/{person.pseudonym}"}
        resource: dict = {
            "resourceType": resource_type,
            "id": entry_id,
            "meta": {"versionId": version, "profile": [PROFILE + "Kj" + resource_type]},
        }
        if rng.random() < 0.3:
            resource["meta"]["lastUpdated"] = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        keep = active or by_event
        if resource_type in CLINICAL:
            clinical_system, clinical_active, clinical_inactive = CLINICAL[resource_type]
            verification = rng.choice(VERIFICATION[resource_type][1])
            clinical = rng.choice(clinical_active)
            if not keep:
                way = rng.choice(["clinical", "refuted", "entered-in-error"])
                if way == "clinical":
                    clinical = rng.choice(clinical_inactive)
                else:
                    verification = way
            # An active entry may leave out its verification status, and a Condition its clinical
            # status; none has a clinical status when it is entered in error (ait-2, con-5).
            if verification != "entered-in-error" and (
                resource_type == "AllergyIntolerance" or not keep or rng.random() < 0.9
            ):
                resource["clinicalStatus"] = self._status_element(resource_type, "clinicalStatus", clinical)
            if not keep or rng.random() < 0.9:
                resource["verificationStatus"] = self._status_element(resource_type, "verificationStatus", verification)
        else:
            resource["status"] = rng.choice(STATUS_ACTIVE[resource_type] if keep else STATUS_INACTIVE[resource_type])
        if resource_type == "AllergyIntolerance":
            resource["type"] = rng.choice(["allergy", "intolerance"])
            if kind == "drug-reaction":
                resource["category"] = ["medication"] if rng.random() < 0.9 else ["food", "medication"]
                code = rng.choices(
                    [
                        {"coding": [{"system": ATC, "code": rng.choice(["J01CE02", "N02BE01", "M01AE01"])}]},
                        {"coding": [{"system": SNOMED, "code": "387207008"}, {"system": ATC, "code": "J01CA04"}]},
                        {"coding": [{"system": SNOMED, "code": "372687004"}]},
                        {"text": "penicillin (fritekst)"},
                    ],
                    [70, 10, 10, 10],
                )[0]
            else:
                resource["category"] = [rng.choice(["food", "environment", "biologic"])]
                code = (
                    {"coding": [{"system": ALLERGEN_7514, "code": rng.choice(["1", "12", "57"])}]}
                    if rng.random() < 0.85
                    else {"text": "nøtter"}
                )
            resource["code"] = code
            if rng.random() < 0.85:
                resource["criticality"] = rng.choice(["low", "high", "unable-to-assess"])
            resource["patient"] = reference
        elif resource_type == "Condition":
            category = [{"system": CATEGORY_7651, "code": CONDITION_CODES[kind]}]
            if rng.random() < 0.3:
                category.insert(0, {"system": LOCAL_STATUS, "code": "k"})
            resource["category"] = [{"coding": category}]
            resource["code"] = (
                {"coding": [{"system": ICD10, "code": rng.choice(["D66", "T88.3", "A49.0", "Z95.0"])}]}
                if rng.random() < 0.85
                else {"text": "vanskelig luftvei"}
            )
            resource["subject"] = reference
        else:
            coding = {
                "system": CATEGORY_7651,
                "code": CONSENT_CODES.get(kind, {"Procedure": "6", "Flag": "9"}.get(resource_type)),
            }
            if resource_type == "Consent":
                resource["scope"] = {"coding": [{"system": HL7 + "consentscope", "code": "treatment"}]}
                resource["category"] = [{"coding": [coding]}]
                resource["patient"] = reference
                resource["dateTime"] = instant.astimezone(OSLO).isoformat(timespec="seconds")
                resource["policyRule"] = {"text": "behandlingsavklaring"}
            elif resource_type == "DeviceUseStatement":
                resource["subject"] = reference
                resource["device"] = {"reference": f"Device/{entry_id}-d"}
                resource["recordedOn"] = instant.astimezone(OSLO).isoformat(timespec="seconds")
            else:
                # Procedure.category is one CodeableConcept in R4, Flag.category a list.
                resource["category"] = {"coding": [coding]} if resource_type == "Procedure" else [{"coding": [coding]}]
                resource["code"] = {
                    "text": "dialyse tirsdag og fredag"
                    if resource_type == "Procedure"
                    else "unngå blodtrykk venstre arm"
                }
                resource["subject"] = reference
        if recorded is not None and resource_type in ("AllergyIntolerance", "Condition"):
            resource["recordedDate"] = recorded
        return resource

    def _event(
        self, event_type: str, instant: datetime, sender: tuple[Organisation, Unit], person: Person, resource: dict
    ) -> dict:
        rng = self.rng
        organisation, unit = sender
        api = organisation.api_from is not None and oslo_day(instant) >= organisation.api_from and rng.random() < 0.8
        system = rng.choice(EPJ_SPELLINGS[rng.choice(organisation.products)]) if api else PORTAL
        written = rng.choices(
            [
                instant.astimezone(OSLO).isoformat(timespec="seconds"),
                instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                instant.astimezone(UTC).isoformat(timespec="microseconds"),
            ],
            [70, 20, 10],
        )[0]
        return {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "occurred_at": written,
            "channel": "api" if api else "portal",
            "source": {
                "organisation_type": unit.organisation_type,
                "organisation_id": organisation.organisation_id,
                "health_region": unit.health_region,
                "municipality": unit.municipality,
                "system": system,
            },
            "patient": {
                "pseudonym": person.pseudonym,
                "birth_year": person.birth_year,
                "sex": person.sex,
                "municipality": person.municipality_at(instant),
            },
            "resource": resource,
        }

    # --- the generator's own count of who is registered --------------------------------------------

    def registered(self) -> dict[date, Counter]:
        """Persons registered per county at each month end, from what each step was meant to do
        (not from the events' codes): an entry is as its last step on or before the day left it,
        a person lives where their last event on or before the day says."""
        ends = month_ends(START, END)
        by_person: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for steps in self.steps.values():
            for instant, event, _ in steps:
                by_person[event["patient"]["pseudonym"]].append((instant, event["patient"]["municipality"]))
        counts: dict[date, Counter] = {}
        for end in ends:
            persons = set()
            for steps in self.steps.values():
                meant = [active for instant, _, active in steps if oslo_day(instant) <= end]
                if meant and meant[-1]:
                    persons.add(steps[0][1]["patient"]["pseudonym"])
            counts[end] = Counter(max(h for h in by_person[p] if oslo_day(h[0]) <= end)[1][:2] for p in persons)
        return counts


# --- the delivery on disk -----------------------------------------------------------------------


def planted_numbers(count: int) -> list[str]:
    """Valid national identity numbers (and D-numbers) from the published formula."""
    found, step = [], 0
    while len(found) < count:
        day = 1 + step % 28 + (40 if step % 5 == 4 else 0)
        number = national_id(
            f"{day:02d}{1 + step % 12:02d}{(13 * step + 41) % 100:02d}", f"{(71 * step + 401) % 1000:03d}"
        )
        if number:
            found.append(number)
        step += 1
    return found


def written_forms(number: str) -> list[str]:
    """The ways a number is written on paper: plain, and with a space, dash or dots between its groups."""
    birth, rest = number[:6], number[6:]
    return [number, f"{birth} {rest}", f"{birth}-{rest}", f"{birth[:2]}.{birth[2:4]}.{birth[4:]} {rest}"]


def malformed(rng: random.Random, valid: dict) -> list[tuple[bytes, str]]:
    """Lines the contract refuses, each with the reason code it must get."""

    def variant(change) -> bytes:
        event = json.loads(json.dumps(valid))
        event["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        change(event)
        return json.dumps(event, ensure_ascii=False).encode()

    def local_status_only(e):
        e["resource"]["verificationStatus"] = {"coding": [{"system": LOCAL_STATUS, "code": "bekreftet"}]}

    return [
        (variant(lambda e: None)[:150], "json_syntax"),
        (b'["not", "an", "object"]', "json_syntax"),
        (variant(lambda e: e.pop("channel")), "missing_field"),
        (variant(lambda e: e.update(channel="fax")), "invalid_value"),
        (variant(lambda e: e["patient"].update(birth_year="1950")), "invalid_value"),
        (variant(lambda e: e["source"].update(municipality="9901")), "invalid_value"),
        (variant(lambda e: e["patient"].update(pseudonym="f" * 64)), "patient_reference_mismatch"),
        (variant(local_status_only), "fhir_invalid"),
        (variant(lambda e: e["resource"].pop("category")), "unrecognised_type"),
    ]


def planted_lines(rng: random.Random, bases: list[dict], numbers: list[str]) -> list[bytes]:
    """Otherwise valid new events, each carrying one number in one written form somewhere."""
    places = [
        lambda e, text: e["resource"].update(note=[{"text": f"Ringte pasienten, fnr {text}, om reaksjonen"}]),
        lambda e, text: e["resource"]["code"].update(text=f"Reaksjon hos {text}"),
        lambda e, text: e.update(merknad=f"gjelder {text}"),
        lambda e, text: e["resource"].update(extension=[{"url": "http://epj.example.no/x", "valueString": text}]),
    ]
    lines = []
    for index, number in enumerate(numbers):
        event = json.loads(json.dumps(bases[index % len(bases)]))
        event["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        event["resource"]["id"] = f"planted-{index}"
        event["resource"]["meta"]["versionId"] = "1"
        text = written_forms(number)[index % 4]
        places[(index // 4) % len(places)](event, text)
        lines.append(json.dumps(event, ensure_ascii=False).encode())
    return lines


def encode(rng: random.Random, event: dict) -> bytes:
    """One event as a producer might write it: key order, spacing and escaping vary."""
    if rng.random() < 0.2:
        event = dict(reversed(list(event.items())))
    if rng.random() < 0.1:
        event = {**event, "extract_version": "1.1", "batch": f"b{rng.randrange(100)}"}
    separators = (",", ":") if rng.random() < 0.5 else (", ", ": ")
    return json.dumps(event, ensure_ascii=rng.random() < 0.3, separators=separators).encode()


def generate(seed: int = 9, persons: int = 3000) -> Generator:
    generator = Generator(seed, persons)
    generator.entries()
    return generator


def write_delivery(landing: Path, seed: int = 9, persons: int = 3000) -> Delivery:
    generator = generate(seed, persons)
    rng = random.Random(seed + 1)
    landing.mkdir(parents=True, exist_ok=True)
    events = [event for steps in generator.steps.values() for _, event, _ in steps]
    rng.shuffle(events)

    # Each event goes to the file of the month it was delivered: mostly within days, some weeks
    # late, a few months late. A line is (bytes, the reason it must be quarantined, or None).
    files: dict[str, list[tuple[bytes, str | None]]] = defaultdict(list)
    first_file: dict[str, str] = {}
    for event in events:
        instant = datetime.fromisoformat(event["occurred_at"])
        lag = rng.choices(
            [
                timedelta(hours=rng.randrange(1, 72)),
                timedelta(days=rng.randrange(3, 30)),
                timedelta(days=rng.randrange(30, 200)),
            ],
            [85, 11, 4],
        )[0]
        first_file[event["event_id"]] = name = f"kj-{oslo_day(instant + lag):%Y-%m}.ndjson"
        files[name].append((encode(rng, event), None))
    # Redeliveries: in the same or a later file (nothing is delivered before it happened), and in
    # two files of their own.
    for index, event in enumerate(rng.sample(events, len(events) // 30)):
        later = [name for name in sorted(files) if name >= first_file[event["event_id"]]]
        name = rng.choice(later) if index % 3 else f"kj-resend-{index % 2}.ndjson"
        files[name].append((encode(rng, event), None))
    bases = [e for e in events if e["resource"]["resourceType"] == "AllergyIntolerance"]
    numbers = planted_numbers(40)
    bad = [pair for base in rng.sample(bases, 3) for pair in malformed(rng, base)]
    bad += [(line, "identifier") for line in planted_lines(rng, bases, numbers)]
    names = sorted(files)
    for pair in bad:
        files[rng.choice(names)].append(pair)

    seen: set[str] = set()
    counts: dict[str, Counter] = {}
    quarantined: dict[tuple[str, int], str] = {}
    for index, name in enumerate(sorted(files)):
        lines = files[name]
        rng.shuffle(lines)
        if index % 4 == 1:
            # Blank lines are skipped, not counted.
            lines[len(lines) // 2 : len(lines) // 2] = [(b"", None), (b"", None)]
        path = landing / (name + ".gz" if index % 3 == 2 else name)
        count = Counter()
        for number, (line, reason) in enumerate(lines, start=1):
            if not line:
                count["blank"] += 1
                continue
            count["lines"] += 1
            if reason:
                quarantined[(path.name, number)] = reason
                count["quarantined"] += 1
                continue
            event_id = json.loads(line)["event_id"]
            count["duplicates" if event_id in seen else "loaded"] += 1
            seen.add(event_id)
        ending = b"\r\n" if index % 3 == 0 else b"\n"
        data = (b"\xef\xbb\xbf" if index % 5 == 0 else b"") + ending.join(line for line, _ in lines) + ending
        path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
        delivered = (
            datetime(2025, 12, 1, tzinfo=UTC)
            if "resend" in name
            else datetime.strptime(name[3:10], "%Y-%m").replace(tzinfo=UTC) + timedelta(days=31)
        )
        os.utime(path, (delivered.timestamp(), delivered.timestamp()))
        counts[path.name] = count
    assert seen == {e["event_id"] for e in events}
    return Delivery(events, counts, quarantined, numbers, len(generator.persons), generator.registered())
