"""FHIR R4 structure check with ``fhir.resources.R4B``, memoised on the resource's template.

A full model validation costs about a millisecond, too slow for national volume on two
cores. Most of a resource repeats across events (codings, categories, statuses, profiles);
what differs per entry is its id, version, patient reference and timestamps. Those values are
checked one by one with the very fhir_core types the models use (as are codes, code systems,
display texts and references, wherever they stand), then replaced by a valid placeholder of
the same type; the rest, the template, is validated by the full model once and
the outcome remembered. The verdict equals validating the original: every field keeps a
value its type accepts, and the models' cross-field rules depend on which fields are present,
which the substitution does not change.

Values are remembered too, and a value stands for every value its type cannot tell apart from
it: an id made only of id characters is judged by its length alone (fhir_core's id is a
pattern of those characters and a length limit), so is a string (a reference, a display) of
printable ASCII without spaces (fhir_core's string is a pattern of non-blank characters), and a date-time whose time of day is an
ordinary hh:mm:ss (no leap second) is judged like the same date, fraction and zone at
midnight. Ids and timestamps are unique per event, and checking each one costs more than
the rest of the line (a date-time about 20 µs).

The models do not check value sets: ``value_set_error`` checks the elements whose binding R4
makes required (statuses, type, category, criticality, severity).
"""

from __future__ import annotations

import re
from functools import cache

import orjson
from fhir_core.types import CodeType, DateTimeType, IdType, InstantType, StringType, UriType
from pydantic import TypeAdapter, ValidationError

from pipelines.contract.vocabulary import (
    ALLERGY_CLINICAL_SYSTEM,
    ALLERGY_VERIFICATION_SYSTEM,
    CONDITION_CLINICAL_SYSTEM,
    CONDITION_VERIFICATION_SYSTEM,
)

_ID = (TypeAdapter(IdType), "placeholder-id")
_INSTANT = (TypeAdapter(InstantType), "2000-01-01T00:00:00Z")
_DATE_TIME = (TypeAdapter(DateTimeType), "2000-01-01T00:00:00+00:00")

_ID_CHARACTERS = re.compile(r"[A-Za-z0-9\-.]+")
_PRINTABLE_ASCII = re.compile(r"[!-~]+")
_ORDINARY_TIME_OF_DAY = re.compile(r"(\d{4}-\d{2}-\d{2}T)(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d")


def _id_representative(value: str) -> str:
    return "0" * len(value) if _ID_CHARACTERS.fullmatch(value) else value


def _string_representative(value: str) -> str:
    return "x" * len(value) if _PRINTABLE_ASCII.fullmatch(value) else value


def _date_time_representative(value: str) -> str:
    ordinary = _ORDINARY_TIME_OF_DAY.match(value)
    return f"{ordinary.group(1)}00:00:00{value[ordinary.end() :]}" if ordinary else value


# Keys whose string value has one FHIR type wherever it stands in these resources. Their values
# are replaced by "x", which each of these types accepts.
_ANY_DEPTH = {
    "display": TypeAdapter(StringType),
    "reference": TypeAdapter(StringType),
    "code": TypeAdapter(CodeType),
    "system": TypeAdapter(UriType),
}
# How a value's verdict is remembered: by the representative of its kind (see above).
_REPRESENTATIVE_BY_NAME = {
    "id": (_ID[0], _id_representative),
    "instant": (_INSTANT[0], _date_time_representative),
    "dateTime": (_DATE_TIME[0], _date_time_representative),
    "reference": (_ANY_DEPTH["reference"], _string_representative),
    "display": (_ANY_DEPTH["display"], _string_representative),
}
_REPRESENTATIVE = {id(adapter): representative for adapter, representative in _REPRESENTATIVE_BY_NAME.values()}

# Fields at fixed paths: the resource id and version, and the timestamps.
_COMMON = ((("id",), _ID), (("meta", "versionId"), _ID), (("meta", "lastUpdated"), _INSTANT))
_DATE_TIMES = {
    "AllergyIntolerance": (("recordedDate",), ("onsetDateTime",), ("lastOccurrence",)),
    "Condition": (("recordedDate",), ("onsetDateTime",), ("abatementDateTime",)),
    "Procedure": (("performedDateTime",), ("performedPeriod", "start"), ("performedPeriod", "end")),
    "Flag": (("period", "start"), ("period", "end")),
    "DeviceUseStatement": (("recordedOn",), ("timingDateTime",), ("timingPeriod", "start"), ("timingPeriod", "end")),
    "Consent": (("dateTime",),),
}
FIXED_PATHS = {
    resource_type: (*_COMMON, *((path, _DATE_TIME) for path in paths)) for resource_type, paths in _DATE_TIMES.items()
}


_CACHE_LIMIT = 20_000
_verdicts: dict[bytes, str | None] = {}
_value_verdicts: dict[int, dict[str, ValidationError | None]] = {}
_UNSEEN = object()


class _InvalidValue(Exception):
    def __init__(self, error: ValidationError, path: str):
        self.error, self.path = error, path


@cache
def fhir_model(resource_type: str):
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    return getattr(module, resource_type)


def describe(error: ValidationError, prefix: str = "") -> str:
    first = error.errors()[0]
    parts = [prefix] if prefix else []
    location = ".".join([*parts, *(str(part) for part in first["loc"])]) or "(root)"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"FHIR R4 validation failed at {location}: {first['msg']}{more}"


def _checked(adapter: TypeAdapter, value: str, path: str) -> None:
    representative = _REPRESENTATIVE.get(id(adapter))
    if representative is not None:
        value = representative(value)
    verdicts = _value_verdicts.setdefault(id(adapter), {})
    if value not in verdicts:
        if len(verdicts) >= _CACHE_LIMIT:
            verdicts.clear()
        try:
            adapter.validate_json(orjson.dumps(value))
            verdicts[value] = None
        except ValidationError as error:
            verdicts[value] = error
    if verdicts[value] is not None:
        raise _InvalidValue(verdicts[value], path)


def _template(node: dict, path: str) -> dict:
    """A copy of node with every any-depth key's string value checked and replaced by "x"."""
    out = {}
    for key, value in node.items():
        if isinstance(value, str):
            if key in _ANY_DEPTH:
                if _value_verdicts.get(id(_ANY_DEPTH[key]), {}).get(value, _UNSEEN) is not None:
                    _checked(_ANY_DEPTH[key], value, f"{path}{key}")
                value = "x"
        elif isinstance(value, dict):
            value = _template(value, f"{path}{key}.")
        elif isinstance(value, list):
            value = [
                _template(item, f"{path}{key}.{index}.") if isinstance(item, dict) else item
                for index, item in enumerate(value)
            ]
        out[key] = value
    return out


def _replace_at(node: dict, path: tuple[str, ...], placeholder: str) -> tuple[dict, str | None]:
    """A copy of node with the string at path replaced (copying only along the path), and the string."""
    head, *rest = path
    value = node.get(head)
    if not rest:
        if not isinstance(value, str):
            return node, None
        return {**node, head: placeholder}, value
    if not isinstance(value, dict):
        return node, None
    child, found = _replace_at(value, tuple(rest), placeholder)
    return ({**node, head: child}, found) if found is not None else (node, None)


def structure_error(resource_type: str, resource: dict) -> str | None:
    """None when the resource is valid FHIR R4 for its type, else the first error with its path."""
    try:
        template = resource
        for path, (adapter, placeholder) in FIXED_PATHS[resource_type]:
            template, value = _replace_at(template, path, placeholder)
            if value is not None:
                _checked(adapter, value, ".".join(path))
        key = orjson.dumps(_template(template, ""))
    except _InvalidValue as invalid:
        return describe(invalid.error, invalid.path)
    if key not in _verdicts:
        if len(_verdicts) >= _CACHE_LIMIT:
            _verdicts.clear()
        try:
            fhir_model(resource_type).model_validate_json(key)
            _verdicts[key] = None
        except ValidationError as error:
            _verdicts[key] = describe(error)
    return _verdicts[key]


# Elements whose R4 binding is required: a code outside the value set is not valid R4, and the
# models check only that it is a code. Codes by path (lists walked); for a CodeableConcept, the
# code system its coding must come from.
_REQUIRED_CODES: dict[str, dict[tuple[str, ...], frozenset[str]]] = {
    "AllergyIntolerance": {
        ("type",): frozenset({"allergy", "intolerance"}),
        ("category",): frozenset({"food", "medication", "environment", "biologic"}),
        ("criticality",): frozenset({"low", "high", "unable-to-assess"}),
        ("reaction", "severity"): frozenset({"mild", "moderate", "severe"}),
    },
    "Condition": {},
    "Procedure": {
        ("status",): frozenset(
            {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"}
        )
    },
    "Flag": {("status",): frozenset({"active", "inactive", "entered-in-error"})},
    "DeviceUseStatement": {
        ("status",): frozenset({"active", "completed", "entered-in-error", "intended", "stopped", "on-hold"})
    },
    "Consent": {("status",): frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})},
}
_REQUIRED_CODINGS: dict[str, dict[str, tuple[str, frozenset[str]]]] = {
    "AllergyIntolerance": {
        "clinicalStatus": (ALLERGY_CLINICAL_SYSTEM, frozenset({"active", "inactive", "resolved"})),
        "verificationStatus": (
            ALLERGY_VERIFICATION_SYSTEM,
            frozenset({"unconfirmed", "confirmed", "refuted", "entered-in-error"}),
        ),
    },
    "Condition": {
        "clinicalStatus": (
            CONDITION_CLINICAL_SYSTEM,
            frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
        ),
        "verificationStatus": (
            CONDITION_VERIFICATION_SYSTEM,
            frozenset({"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}),
        ),
    },
}


def _values_at(node: object, path: tuple[str, ...], location: str):
    """(location, value) of every value at path, walking lists on the way."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _values_at(item, path, f"{location}.{index}")
    elif not path:
        yield location, node
    elif isinstance(node, dict) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:], f"{location}.{path[0]}" if location else path[0])


def _not_in(location: str, value: object, codes: frozenset[str]) -> str:
    return (
        f"FHIR R4 validation failed at {location}: {str(value)[:40]!r} is not in the required value set "
        f"({', '.join(sorted(codes))})"
    )


def value_set_error(resource_type: str, resource: dict) -> str | None:
    """None when every element with a required binding holds a code of its value set (run after
    structure_error, so the shapes are valid), else the first that does not, with its path."""
    for path, codes in _REQUIRED_CODES[resource_type].items():
        # The common case first, without a walk: a top-level code, or a list of codes, in the set.
        if len(path) == 1:
            value = resource.get(path[0])
            if value is None or (codes.issuperset(value) if isinstance(value, list) else value in codes):
                continue
        for location, value in _values_at(resource, path, ""):
            if value not in codes:
                return _not_in(location, value, codes)
    for element, (system, codes) in _REQUIRED_CODINGS.get(resource_type, {}).items():
        if element not in resource:
            continue
        codings = [coding for coding in resource[element].get("coding", []) if coding.get("system") == system]
        if not codings:
            return f"FHIR R4 validation failed at {element}: no coding from the required code system {system}"
        for coding in codings:
            if coding.get("code") not in codes:
                return _not_in(f"{element}.coding.code", coding.get("code"), codes)
    return None
