"""FHIR R4 structure check with ``fhir.resources.R4B``, memoised on the resource's shape.

A full model validation costs about a millisecond, too slow for national volume on two
cores. The verdict is remembered per shape: the resource's JSON (as orjson writes it) with
every string value taken out; keys, numbers, booleans, nulls and the nesting stay. What the
models check of a string value is its FHIR primitive type (id, code, string, uri, dateTime,
...: a pattern, a length, a date), and the type of each string is fixed by its place in the
shape: the model field it stands in. Each string of a line is checked by that type's own
validator (fhir_core's annotated type, through a TypeAdapter, remembered per value); the rest
of the model's rules (required elements, one value per choice, extra keys, list or not,
numbers) depend on the shape only, and were judged once by the full model on the first valid
resource of that shape. A string whose place names no model field (under a ``contained``
resource, say) is kept as it was: another value there is another shape.

Only a valid verdict is remembered. A resource whose shape is new, or one of whose strings its
type refuses, is validated by the full model, and its error is the model's own: every verdict
and every reason is the full model's.

A value's verdict stands for every value its type cannot tell apart from it: an id made only
of id characters is judged by its length alone (fhir_core's id is a pattern of those characters
and a length limit), so is a string of printable ASCII without spaces or escapes (fhir_core's
string is a pattern of non-blank characters), and a date-time whose time of day is an ordinary
hh:mm:ss (no leap second) is judged like the same date, fraction and zone at midnight. Ids,
references and timestamps are unique per event, and checking each one costs more than the
rest of the line.

The models do not check value sets: ``value_set_error`` checks the elements whose binding R4
makes required (statuses, type, category, criticality, severity).
"""

from __future__ import annotations

import re
import types
import typing
from functools import cache

import orjson
from fhir_core import types as fhir_types
from pydantic import BaseModel, TypeAdapter, ValidationError

from pipelines.contract.vocabulary import (
    ALLERGY_CLINICAL_SYSTEM,
    ALLERGY_VERIFICATION_SYSTEM,
    CONDITION_CLINICAL_SYSTEM,
    CONDITION_VERIFICATION_SYSTEM,
)

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


# How a value's verdict is remembered, by its type's marker: by the representative of its kind.
REPRESENTATIVES = {
    fhir_types.Id: _id_representative,
    fhir_types.String: _string_representative,
    fhir_types.DateTime: _date_time_representative,
    fhir_types.Instant: _date_time_representative,
}

_CACHE_LIMIT = 20_000


class _Type(typing.NamedTuple):
    """A primitive type: its validator and the verdicts of the values (JSON strings) it judged."""

    adapter: TypeAdapter | None  # None: only the value in verdicts is accepted
    representative: typing.Callable[[str], str] | None
    verdicts: dict[str, bool]


# Per shape, the type of each of its string values in order.
_shapes: dict[tuple, tuple[_Type, ...]] = {}
# Markers of the shape: a string value, an object's start and end, a list's start and end.
_STRING, _OBJECT, _END_OBJECT, _LIST, _END_LIST = range(5)


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


def model_structure_error(resource_type: str, resource_json: bytes) -> str | None:
    """The full model's verdict on a resource (as JSON): None when valid, else its first error."""
    try:
        fhir_model(resource_type).model_validate_json(resource_json)
    except ValidationError as error:
        return describe(error)
    return None


def _accepts(kind: _Type, value: str) -> bool:
    if kind.representative is not None:
        value = kind.representative(value)
    verdict = kind.verdicts.get(value)
    if verdict is None:
        if kind.adapter is None:
            return False
        if len(kind.verdicts) >= _CACHE_LIMIT:
            kind.verdicts.clear()
        try:
            kind.adapter.validate_json(orjson.dumps(value))
            verdict = True
        except ValidationError:
            verdict = False
        kind.verdicts[value] = verdict
    return verdict


def _shape(node: dict, shape: list, strings: list[str]) -> None:
    """Appends node's shape (keys, markers, and the type and value of each non-string scalar) to
    shape and its string values to strings, both in orjson's order (the dict's)."""
    for key, value in node.items():
        shape.append(key)
        kind = type(value)
        if kind is str:
            shape.append(_STRING)
            strings.append(value)
        elif kind is dict:
            shape.append(_OBJECT)
            _shape(value, shape, strings)
            shape.append(_END_OBJECT)
        elif kind is list:
            shape.append(_LIST)
            for item in value:
                kind = type(item)
                if kind is str:
                    shape.append(_STRING)
                    strings.append(item)
                elif kind is dict:
                    shape.append(_OBJECT)
                    _shape(item, shape, strings)
                    shape.append(_END_OBJECT)
                elif kind is list:  # never valid FHIR: kept whole
                    shape.extend((list, orjson.dumps(item)))
                else:
                    shape.extend((kind, item))
            shape.append(_END_LIST)
        else:
            shape.extend((kind, value))


def structure_error(resource_type: str, resource: dict, resource_json: bytes) -> str | None:
    """None when the resource (``resource_json`` is ``orjson.dumps(resource)``) is valid FHIR R4
    for its type, else the full model's first error with its path."""
    shape: list = [resource_type]
    strings: list[str] = []
    _shape(resource, shape, strings)
    key = tuple(shape)
    kinds = _shapes.get(key)
    if kinds is not None:
        for kind, value in zip(kinds, strings, strict=True):
            # The common case inline: a value (or its representative) known to be valid.
            represent = kind.representative
            if kind.verdicts.get(represent(value) if represent else value) is not True and not _accepts(kind, value):
                break
        else:
            return None
    error = model_structure_error(resource_type, resource_json)
    if error is None and kinds is None:
        if len(_shapes) >= _CACHE_LIMIT:
            _shapes.clear()
        learned = _string_types(fhir_model(resource_type), resource)
        if learned is not None and len(learned) == len(strings):
            _shapes[key] = tuple(
                kind if kind is not None else _Type(None, None, {value: True})
                for kind, value in zip(learned, strings, strict=True)
            )
    return error


def _string_types(model: type[BaseModel] | None, node: object) -> list[_Type | None] | None:
    """The type of each string value in node, in order (None: kept as it is), or None when
    the walk cannot tell (a key that is a field's alias and its name at once)."""
    found: list[_Type | None] = []
    if isinstance(node, str):
        found.append(None if model is None else _primitive(model))
    elif isinstance(node, list):
        for item in node:
            inner = _string_types(model, item)
            if inner is None:
                return None
            found.extend(inner)
    elif isinstance(node, dict):
        fields = _fields(model) if isinstance(model, type) and issubclass(model, BaseModel) else {}
        names = [fields[key][0] for key in node if key in fields]
        if len(names) != len(set(names)):
            return None
        for key, value in node.items():
            inner = _string_types(fields[key][1] if key in fields and key != "resourceType" else None, value)
            if inner is None:
                return None
            found.extend(inner)
    return found


@cache
def _fields(model: type[BaseModel]) -> dict[str, tuple[str, object]]:
    """A model's JSON keys (aliases and names) → (field name, the type of a value or list item)."""
    keys = {}
    for name, field in model.model_fields.items():
        item = _item_type(field.annotation)
        keys[name] = (name, item)
        if field.alias:
            keys[field.alias] = (name, item)
    return keys


def _item_type(annotation: object) -> object:
    """A field's type without Optional and List: a model class, a primitive (Annotated), or None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return None
            annotation = args[0]
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Annotated:
            return annotation
        elif isinstance(annotation, type) and issubclass(annotation, fhir_types.FhirBase):
            model = annotation.get_model_klass()
            # A resource of any type (contained) is told by its resourceType: not known here.
            return None if model.__name__ in ("Resource", "DomainResource") else model
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        else:
            return None


_primitives: dict[object, _Type] = {}


def _primitive(annotation: object) -> _Type | None:
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    if annotation not in _primitives:
        marker = typing.get_args(annotation)[1]
        _primitives[annotation] = _Type(TypeAdapter(annotation), REPRESENTATIVES.get(type(marker)), {})
    return _primitives[annotation]


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
