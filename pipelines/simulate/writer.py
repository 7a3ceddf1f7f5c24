"""Delivery: the mess of a real extract (late, redelivered and broken lines) and the files.

Every valid event is delivered on the Europe/Oslo day it occurred, or 1..30 days later when late.
A redelivery repeats the identical line in the same or a later file (never later than 30 days
after the event). A malformed line is an extra line built from a valid event and then broken;
it has an event id of its own, so it never shadows a valid event. Deliveries never go past
``config.end``: a late event that would is delivered on ``end`` instead.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import orjson

from pipelines.simulate import resources as R
from pipelines.simulate.config import SimulationConfig
from pipelines.simulate.model import SimulatedEvent, uuid4_int

MAX_LATE_DAYS = 30
# A day's file is stamped as delivered at noon in Norway that day, so arrival history is real.
DELIVERY_TIME = time(12)
DELIVERY_TIMEZONE = ZoneInfo("Europe/Oslo")
MAX_REDELIVERY_DAYS = 7

VALID, DUPLICATE, MALFORMED = 0, 1, 2

# Kinds of malformed line and their cumulative shares (25, 20, 20, 20, 15 %): assumed, every kind
# common enough that each rejection reason is exercised (docs/simulator.md, "The mess").
MALFORMED_KINDS = ("bad-json", "missing-field", "bad-value", "invalid-fhir", "patient-mismatch")
_MALFORMED_CUM = (0.25, 0.45, 0.65, 0.85, 1.0)
# Broken JSON is mostly a truncated write; the rest trailing garbage, or an array instead of an object.
TRUNCATED_SHARE = 0.7
TRAILING_GARBAGE_SHARE = 0.15

_MISSING = (
    ("event_id",),
    ("event_type",),
    ("occurred_at",),
    ("channel",),
    ("source", "organisation_id"),
    ("source", "health_region"),
    ("patient", "pseudonym"),
    ("patient", "birth_year"),
    ("resource",),
)


def file_name(day_ordinal: int) -> str:
    return f"events-{date.fromordinal(day_ordinal).isoformat()}.ndjson"


def temporary_name(day_ordinal: int) -> str:
    return f".{file_name(day_ordinal)}.tmp"


def delivered_at(day_ordinal: int) -> float:
    """The POSIX time a day's file is stamped with: noon in Norway on its delivery day."""
    return datetime.combine(date.fromordinal(day_ordinal), DELIVERY_TIME, DELIVERY_TIMEZONE).timestamp()


def event_id(value: int) -> str:
    """Canonical form of a UUID given as its 128-bit value (same text as str(uuid.UUID(int=value)))."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_object(event: SimulatedEvent) -> dict:
    """The contract's event object for a simulated event, keys in a fixed order."""
    organisation, person = event.organisation, event.person
    return {
        "event_id": event_id(event.event_id),
        "event_type": event.event_type,
        "occurred_at": R.iso(event.ts),
        "channel": event.channel,
        "source": organisation.source_api if event.channel == "api" else organisation.source_portal,
        "patient": {
            "pseudonym": person.pseudonym,
            "birth_year": person.birth_year,
            "sex": person.sex,
            "municipality": event.municipality,
        },
        "resource": R.build_resource(event.entry, event.version, event.state),
    }


def serialize(event: SimulatedEvent) -> bytes:
    return orjson.dumps(event_object(event))


def malformed_line(event: SimulatedEvent, kind: str, new_id: int, u: float, v: float) -> bytes:
    """A broken line of the given kind, derived from a valid event; ``u``, ``v`` pick the variant."""
    obj = event_object(event)
    obj["event_id"] = event_id(new_id)
    obj["source"] = dict(obj["source"])
    if kind == "bad-json":
        line = orjson.dumps(obj)
        if u < TRUNCATED_SHARE:  # cut off mid-line
            return line[: 20 + int(v * (len(line) - 40))]
        if u < TRUNCATED_SHARE + TRAILING_GARBAGE_SHARE:
            return line + b',"'
        return b"[" + line + b"]"  # valid JSON, but not an object
    if kind == "missing-field":
        path = _MISSING[int(u * len(_MISSING))]
        node = obj
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        return orjson.dumps(obj)
    if kind == "bad-value":
        variant = int(u * 8)
        if variant == 0:
            obj["channel"] = "fax"
        elif variant == 1:
            obj["event_type"] = "deleted"
        elif variant == 2:
            obj["source"]["health_region"] = "helse-sor"
        elif variant == 3:
            obj["patient"]["sex"] = "k"
        elif variant == 4:
            obj["source"]["organisation_type"] = "pharmacy"
        elif variant == 5:
            obj["occurred_at"] = obj["occurred_at"][:19]  # no UTC offset
        elif variant == 6:
            obj["source"]["organisation_id"] = obj["source"]["organisation_id"][:8]
        else:
            obj["patient"]["birth_year"] = str(obj["patient"]["birth_year"])
        return orjson.dumps(obj)
    if kind == "invalid-fhir":
        resource = obj["resource"]
        variant = int(u * 4)
        if variant == 0:
            resource["kjPriority"] = "high"  # an element FHIR R4 does not have
        elif variant == 1:
            resource["meta"]["lastUpdated"] = "i går"  # not an instant
        elif variant == 2:
            resource["meta"] = "1"  # an object where a string is
        else:
            required = {
                "Procedure": "status",
                "Flag": "code",
                "DeviceUseStatement": "device",
                "Consent": "scope",
            }.get(resource["resourceType"])
            if required:
                del resource[required]  # a required element missing
            else:
                resource["category"] = "medication" if resource["resourceType"] == "AllergyIntolerance" else "5"
        return orjson.dumps(obj)
    if kind == "patient-mismatch":
        other = hashlib.sha256(f"kritinfo-sim|mismatch|{new_id}".encode()).hexdigest()
        resource = obj["resource"]
        field = "patient" if resource["resourceType"] in ("AllergyIntolerance", "Consent") else "subject"
        resource[field] = {"reference": f"Patient/{other}"}
        return orjson.dumps(obj)
    raise ValueError(f"unknown malformed kind {kind}")


class Breakage(NamedTuple):
    """How a malformed line breaks the event it is built from (the arguments of ``malformed_line``)."""

    event: SimulatedEvent
    kind: str
    new_id: int
    u: float
    v: float


class Line(NamedTuple):
    """One line to deliver. Sorted as a tuple: by delivery day, then instant, event id and order of drawing."""

    day: int  # Europe/Oslo day ordinal of the file it goes to
    ts: int
    event_id: int
    seq: int  # unique, so sorting never compares the payloads
    kind: int  # VALID, DUPLICATE or MALFORMED
    payload: SimulatedEvent | Breakage


@dataclass
class Deliveries:
    records: list[Line]
    duplicates: int
    malformed: int
    late: int
    malformed_by_kind: dict[str, int]


def schedule(events: list[SimulatedEvent], config: SimulationConfig, rng: random.Random) -> Deliveries:
    """Delivery day of each event, plus redeliveries and malformed extra lines."""
    end_ord = config.end.toordinal()
    records = []
    duplicates = malformed = late = 0
    by_kind = {k: 0 for k in MALFORMED_KINDS}
    seq = 0
    for event in events:
        ts, eid, day = event.ts, event.event_id, event.day
        delivery = day
        if rng.random() < config.late_rate:
            delivery = min(day + rng.randint(1, MAX_LATE_DAYS), end_ord)
        if delivery > day:
            late += 1
        records.append(Line(delivery, ts, eid, seq, VALID, event))
        seq += 1
        if rng.random() < config.duplicate_rate:
            again = min(delivery + rng.randint(0, MAX_REDELIVERY_DAYS), day + MAX_LATE_DAYS, end_ord)
            records.append(Line(again, ts, eid, seq, DUPLICATE, event))
            seq += 1
            duplicates += 1
        if rng.random() < config.malformed_rate:
            x = rng.random()
            kind = MALFORMED_KINDS[next(i for i, c in enumerate(_MALFORMED_CUM) if x < c)]
            new_id = uuid4_int(rng)
            breakage = Breakage(event, kind, new_id, rng.random(), rng.random())
            records.append(Line(delivery, ts, new_id, seq, MALFORMED, breakage))
            seq += 1
            malformed += 1
            by_kind[kind] += 1
    records.sort()
    return Deliveries(records, duplicates, malformed, late, by_kind)


def check_targets(landing: Path, days: list[int]) -> None:
    existing = [landing / file_name(d) for d in days if (landing / file_name(d)).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise FileExistsError(
            f"{existing[0]} already exists{more}: landing files are never rewritten; "
            "simulate into an empty landing folder or another date range"
        )


def write(landing: Path, deliveries: Deliveries) -> tuple[list[Path], int]:
    """One file per delivery day, written to a hidden temporary name, renamed and stamped with its delivery time."""
    landing.mkdir(parents=True, exist_ok=True)
    records = deliveries.records
    days = sorted({r.day for r in records})
    check_targets(landing, days)
    paths: list[Path] = []
    lines = 0
    i = 0
    n = len(records)
    while i < n:
        day = records[i].day
        chunk = []
        while i < n and records[i].day == day:
            record = records[i]
            chunk.append(malformed_line(*record.payload) if record.kind == MALFORMED else serialize(record.payload))
            i += 1
        tmp = landing / temporary_name(day)
        target = landing / file_name(day)
        with open(tmp, "wb") as f:
            f.write(b"\n".join(chunk))
            f.write(b"\n")
        os.replace(tmp, target)
        os.utime(target, (delivered_at(day), delivered_at(day)))
        paths.append(target)
        lines += len(chunk)
    return paths, lines
