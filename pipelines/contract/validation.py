"""Validates one NDJSON line against contract v1 and turns it into a warehouse row.

Order of checks: JSON syntax → identifier guard → envelope (required fields, types, enums,
patterns) → FHIR R4 structure (fhir.resources.R4B) → what the contract requires beyond
structure (patient reference, entry id and version, a recognised type of critical
information) → plausible dates. The identifier guard runs before anything else reads the values, and every
quarantined text is masked, whatever the reason.

Before all of it, the bounds (``pipelines.settings.Bounds``): a line longer than its bound is
refused unread, and one nested deeper than its bound is refused before any parser or walk
recurses into it. Whatever else goes wrong while validating a line refuses that line as
``internal_error`` (type and place of the error, never its message), so one line never stops
a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import orjson

from pipelines.contract import fhir, identifiers, masking
from pipelines.contract.vocabulary import (
    CHANNELS,
    EVENT_TYPES,
    HEALTH_REGIONS,
    ORGANISATION_TYPES,
    PATIENT_REFERENCE_FIELD,
    SEXES,
    critical_information_types,
)
from pipelines.faults import error_location
from pipelines.settings import LOCAL_TIMEZONE, Bounds, bounds

# Reason codes, stable for summaries; the detail text says exactly what was wrong.
JSON_SYNTAX = "json_syntax"
MISSING_FIELD = "missing_field"
INVALID_VALUE = "invalid_value"
FHIR_INVALID = "fhir_invalid"
PATIENT_REFERENCE_MISMATCH = "patient_reference_mismatch"
UNRECOGNISED_TYPE = "unrecognised_type"
IDENTIFIER = "identifier"
LINE_TOO_LONG = "line_too_long"
TOO_DEEP = "too_deep"
IMPLAUSIBLE_DATE = "implausible_date"
INTERNAL_ERROR = "internal_error"
REASON_CODES = (
    JSON_SYNTAX,
    MISSING_FIELD,
    INVALID_VALUE,
    FHIR_INVALID,
    PATIENT_REFERENCE_MISMATCH,
    UNRECOGNISED_TYPE,
    IDENTIFIER,
    LINE_TOO_LONG,
    TOO_DEEP,
    IMPLAUSIBLE_DATE,
    INTERNAL_ERROR,
)

_ORGANISATION_ID = re.compile(r"\d{9}")
_MUNICIPALITY = re.compile(r"\d{4}")
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MIN_BIRTH_YEAR = 1880
_OSLO = ZoneInfo(LOCAL_TIMEZONE)
# A JSON string (escapes included), whose brackets do not nest; and every byte but a bracket.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


@cache
def _county_codes() -> frozenset[str]:
    import csv

    from pipelines.settings import SEEDS_DIR

    with open(SEEDS_DIR / "counties.csv", newline="", encoding="utf-8") as f:
        return frozenset(row["county_code"] for row in csv.DictReader(f))


@dataclass(frozen=True, slots=True)
class AcceptedEvent:
    """An accepted event, flattened to the columns of ``raw.events``."""

    event_id: str
    event_type: str
    occurred_at: datetime
    channel: str
    organisation_type: str
    organisation_id: str
    organisation_health_region: str
    organisation_municipality: str
    source_system: str
    patient_pseudonym: str
    patient_birth_year: int
    patient_sex: str
    patient_municipality: str
    resource_type: str
    resource_id: str
    resource_version: str
    critical_information_type: str
    resource_json: str


@dataclass(frozen=True, slots=True)
class Rejection:
    reason_code: str
    reason: str
    masked_text: str


class _Refused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@cache
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _field(obj: dict, path: str):
    node: object = obj
    try:
        for part in _parts(path):
            node = node[part]
    except (KeyError, TypeError, IndexError):
        raise _Refused(MISSING_FIELD, f"missing field {path}") from None
    if node is None:
        raise _Refused(MISSING_FIELD, f"missing field {path}")
    return node


def _string(obj: dict, path: str) -> str:
    value = _field(obj, path)
    if not isinstance(value, str):
        raise _Refused(INVALID_VALUE, f"{path}: expected a string, got {type(value).__name__}")
    return value


def _enum(obj: dict, path: str, allowed: tuple[str, ...]) -> str:
    value = _string(obj, path)
    if value not in allowed:
        raise _Refused(INVALID_VALUE, f"{path}: {value[:40]!r} is not one of {', '.join(allowed)}")
    return value


def _pattern(obj: dict, path: str, pattern: re.Pattern, what: str) -> str:
    value = _string(obj, path)
    if not pattern.fullmatch(value):
        raise _Refused(INVALID_VALUE, f"{path}: {value[:40]!r} is not {what}")
    return value


def _municipality(obj: dict, path: str) -> str:
    value = _pattern(obj, path, _MUNICIPALITY, "a 4-digit municipality number")
    if value[:2] not in _county_codes():
        raise _Refused(INVALID_VALUE, f"{path}: {value!r} has no county {value[:2]!r} in the 2024 numbering")
    return value


def _occurred_at(obj: dict) -> datetime:
    value = _string(obj, "occurred_at")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(INVALID_VALUE, f"occurred_at: {value[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None or "T" not in value:
        raise _Refused(INVALID_VALUE, f"occurred_at: {value[:40]!r} has no UTC offset")
    return parsed


def _event_id(obj: dict) -> str:
    value = _string(obj, "event_id")
    if not _UUID.fullmatch(value):
        raise _Refused(INVALID_VALUE, f"event_id: {value[:40]!r} is not a UUID in canonical form")
    return value.lower()


def _birth_year(obj: dict, occurred_at: datetime) -> int:
    value = _field(obj, "patient.birth_year")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Refused(INVALID_VALUE, f"patient.birth_year: expected an integer, got {type(value).__name__}")
    if not MIN_BIRTH_YEAR <= value <= occurred_at.year:
        raise _Refused(INVALID_VALUE, f"patient.birth_year: {value} is outside {MIN_BIRTH_YEAR}-{occurred_at.year}")
    return value


def _category_codes(resource: dict, system: str) -> set[str]:
    categories = resource.get("category") or []
    if resource["resourceType"] == "AllergyIntolerance":
        return {c for c in categories if isinstance(c, str)}
    found = set()
    for concept in categories if isinstance(categories, list) else [categories]:
        for coding in (concept or {}).get("coding") or []:
            if coding.get("system") == system:
                found.add(coding.get("code"))
    return found


def classify(resource: dict) -> str | None:
    """The type of critical information a resource carries, from the seed's recognition rules."""
    resource_type = resource["resourceType"]
    for kind in critical_information_types():
        if kind.resource_type != resource_type:
            continue
        if not kind.category_codes or _category_codes(resource, kind.category_system) & set(kind.category_codes):
            return kind.type_id
    return None


def _resource(obj: dict, pseudonym: str) -> tuple[str, str, str, str, str]:
    resource = _field(obj, "resource")
    if not isinstance(resource, dict):
        raise _Refused(INVALID_VALUE, "resource: expected a JSON object")
    resource_type = resource.get("resourceType")
    if resource_type not in PATIENT_REFERENCE_FIELD:
        raise _Refused(
            INVALID_VALUE,
            f"resource.resourceType: {str(resource_type)[:40]!r} is not one of {', '.join(PATIENT_REFERENCE_FIELD)}",
        )
    resource_json = orjson.dumps(resource)
    error = fhir.structure_error(resource_type, resource, resource_json) or fhir.value_set_error(
        resource_type, resource
    )
    if error:
        raise _Refused(FHIR_INVALID, error)
    resource_id = _string(obj, "resource.id")
    version = _string(obj, "resource.meta.versionId")
    reference_field = PATIENT_REFERENCE_FIELD[resource_type]
    reference = (resource.get(reference_field) or {}).get("reference")
    if reference != f"Patient/{pseudonym}":
        raise _Refused(
            PATIENT_REFERENCE_MISMATCH,
            f"resource.{reference_field}.reference does not match Patient/<patient.pseudonym>",
        )
    kind = classify(resource)
    if kind is None:
        raise _Refused(UNRECOGNISED_TYPE, f"{resource_type} carries no recognised category of critical information")
    return resource_type, resource_id, version, kind, resource_json.decode("utf-8")


@dataclass(frozen=True, slots=True)
class _Dates:
    """The plausible span of an event's dates: from the earliest event date (in Norway) to its
    file's delivery plus the allowed days."""

    earliest: datetime
    latest: datetime
    latest_day: str  # the day of latest in Norway, ISO

    @classmethod
    def of(cls, limits: Bounds, delivered_at: datetime | None) -> _Dates:
        return cls._of(limits, delivered_at or datetime.now(UTC))

    @staticmethod
    @lru_cache(maxsize=64)  # the lines of a file share their delivery
    def _of(limits: Bounds, delivered_at: datetime) -> _Dates:
        earliest = datetime.combine(limits.earliest_event_date, datetime.min.time(), _OSLO)
        latest = delivered_at + timedelta(days=limits.max_days_after_delivery)
        return _Dates(earliest, latest, latest.astimezone(_OSLO).date().isoformat())


def nested_deeper_than(raw: bytes, depth: int) -> bool:
    """Whether the JSON text opens more than `depth` arrays/objects inside each other, found
    without recursion (brackets inside strings do not count)."""
    if raw.count(b"{") + raw.count(b"[") <= depth:  # the common case, without looking closer
        return False
    level = 0
    for byte in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        level += 1 if byte in b"[{" else -1
        if level > depth:
            return True
    return False


def validate_line(
    raw: bytes, delivered_at: datetime | None = None, limits: Bounds | None = None
) -> AcceptedEvent | Rejection:
    """Validate one line (without its line end) of a file delivered at `delivered_at` (default:
    now). Never raises."""
    limits = limits or bounds()
    if len(raw) > limits.max_line_bytes:
        # Not even masked: the text is not kept, the file holds it for a replay.
        return Rejection(
            LINE_TOO_LONG,
            f"line of {len(raw)} bytes, longer than the bound of {limits.max_line_bytes} bytes (text not kept)",
            "",
        )
    try:
        if nested_deeper_than(raw, limits.max_json_depth):
            # Masked as text: parsing it is what the bound prevents.
            return _refused(
                TOO_DEEP, f"JSON nested deeper than the bound of {limits.max_json_depth} levels", raw, as_text=True
            )
        return _validate(raw, _Dates.of(limits, delivered_at))
    except Exception as error:  # noqa: BLE001 (one line's failure must not stop the run)
        return _refused(INTERNAL_ERROR, f"internal error: {error_location(error)}", raw, as_text=True)


def _validate(raw: bytes, dates: _Dates) -> AcceptedEvent | Rejection:
    ids_in_text = identifiers.national_ids_in_text(raw)
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if ids_in_text:
            return _refused(IDENTIFIER, f"direct identifier: national identity number (and invalid JSON: {error})", raw)
        return _refused(JSON_SYNTAX, f"invalid JSON: {error}", raw)
    # A JSON escape (\u0030 is "0") can spell digits the raw bytes do not show, and the warehouse
    # stores decoded text: such a line is checked as orjson writes it back.
    text = orjson.dumps(obj) if b"\\" in raw else raw
    if text is not raw:
        ids_in_text = identifiers.national_ids_in_text(text)
    if ids_in_text:
        ids_in_text = identifiers.without_snomed_ct_codes(ids_in_text, obj, text)
    findings, values = (
        identifiers.structural_identifiers(obj) if identifiers.may_hold_structural_identifiers(raw) else ([], [])
    )
    if ids_in_text or findings:
        what = (["national identity number"] if ids_in_text else []) + findings
        return _refused(IDENTIFIER, "direct identifier: " + "; ".join(what[:5]), raw, values)
    if not isinstance(obj, dict):
        return _refused(JSON_SYNTAX, f"not a JSON object but a {type(obj).__name__}", raw)
    try:
        return _event(obj, dates)
    except _Refused as refused:
        return _refused(refused.code, refused.detail, raw)
    except (TypeError, AttributeError, ValueError) as error:
        # A shape the explicit checks did not foresee (e.g. a list where an object belongs).
        return _refused(INVALID_VALUE, f"unexpected structure: {type(error).__name__}", raw)


def _refused(code: str, reason: str, raw: bytes, personal: list[str] = (), *, as_text: bool = False) -> Rejection:
    # Every refused line is stored and archived masked, whatever the reason (see masking.py).
    masked_reason, masked_text = masking.mask_refused(raw, reason, personal, as_text=as_text)
    return Rejection(code, masked_reason, masked_text)


def _plausible_dates(occurred_at: datetime, resource: dict, dates: _Dates) -> None:
    if not dates.earliest <= occurred_at <= dates.latest:
        raise _Refused(
            IMPLAUSIBLE_DATE,
            f"occurred_at: {occurred_at.isoformat()} is not between "
            f"{dates.earliest.isoformat()} and the file's delivery plus the allowed days",
        )
    recorded = resource.get("recordedDate")
    # ISO dates compare as text; a date-only or year-month value against the same length.
    if isinstance(recorded, str) and recorded[:10] > dates.latest_day[: len(recorded[:10])]:
        raise _Refused(
            IMPLAUSIBLE_DATE,
            f"resource.recordedDate: {recorded[:40]!r} is after the file's delivery plus the allowed days",
        )


def _event(obj: dict, dates: _Dates) -> AcceptedEvent:
    event_id = _event_id(obj)
    event_type = _enum(obj, "event_type", EVENT_TYPES)
    occurred_at = _occurred_at(obj)
    channel = _enum(obj, "channel", CHANNELS)
    organisation_type = _enum(obj, "source.organisation_type", ORGANISATION_TYPES)
    organisation_id = _pattern(obj, "source.organisation_id", _ORGANISATION_ID, "a 9-digit organisation number")
    organisation_region = _enum(obj, "source.health_region", HEALTH_REGIONS)
    organisation_municipality = _municipality(obj, "source.municipality")
    source_system = _string(obj, "source.system")
    pseudonym = _pattern(obj, "patient.pseudonym", _PSEUDONYM, "64 lowercase hex characters")
    birth_year = _birth_year(obj, occurred_at)
    sex = _enum(obj, "patient.sex", SEXES)
    patient_municipality = _municipality(obj, "patient.municipality")
    resource_type, resource_id, version, kind, resource_json = _resource(obj, pseudonym)
    _plausible_dates(occurred_at, obj["resource"], dates)
    return AcceptedEvent(
        event_id,
        event_type,
        occurred_at,
        channel,
        organisation_type,
        organisation_id,
        organisation_region,
        organisation_municipality,
        source_system,
        pseudonym,
        birth_year,
        sex,
        patient_municipality,
        resource_type,
        resource_id,
        version,
        kind,
        resource_json,
    )
