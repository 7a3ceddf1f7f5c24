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
"""

from __future__ import annotations

from functools import cache

import orjson
from fhir_core.types import CodeType, DateTimeType, IdType, InstantType, StringType, UriType
from pydantic import TypeAdapter, ValidationError

_ID = (TypeAdapter(IdType), "placeholder-id")
_INSTANT = (TypeAdapter(InstantType), "2000-01-01T00:00:00Z")
_DATE_TIME = (TypeAdapter(DateTimeType), "2000-01-01T00:00:00+00:00")

# Keys whose string value has one FHIR type wherever it stands in these resources. Their values
# are replaced by "x", which each of these types accepts.
_ANY_DEPTH = {
    "display": TypeAdapter(StringType),
    "reference": TypeAdapter(StringType),
    "code": TypeAdapter(CodeType),
    "system": TypeAdapter(UriType),
}
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
