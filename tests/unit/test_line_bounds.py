"""Line isolation and bounds (issue 10, points 1-2): an exception, a long or deep line and an
implausible date each quarantine the one line, with the right reason, and never raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.contract import validation
from pipelines.contract.validation import AcceptedEvent, Rejection, validate_line
from pipelines.settings import Bounds
from tests.helpers import example_event, line

DELIVERED = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def reason(raw: bytes, **kwargs) -> str:
    result = validate_line(raw, kwargs.pop("delivered_at", DELIVERED), **kwargs)
    assert isinstance(result, Rejection), result
    return result.reason_code


def test_an_exception_while_validating_quarantines_the_line_by_type_and_place_only(monkeypatch):
    def broken(obj, dates):
        raise RuntimeError("quoting the line: 12345")

    monkeypatch.setattr(validation, "_event", broken)
    result = validate_line(line(example_event()), DELIVERED)

    assert isinstance(result, Rejection) and result.reason_code == "internal_error"
    assert result.reason.startswith("internal error: RuntimeError at test_line_bounds.py:")
    assert "in broken" in result.reason and "12345" not in result.reason


def test_a_line_over_the_byte_bound_is_quarantined_without_its_text():
    event = example_event()
    event["resource"]["note"] = [{"text": "x" * 2_000}]
    raw = line(event)
    result = validate_line(raw, DELIVERED, Bounds(max_line_bytes=len(raw) - 1))

    assert (result.reason_code, result.masked_text) == ("line_too_long", "")
    assert isinstance(validate_line(raw, DELIVERED, Bounds(max_line_bytes=len(raw))), AcceptedEvent)


@pytest.mark.parametrize(
    "raw",
    [
        # 300 levels and an escape (it made validation raise TypeError), 1,000 levels and a personal
        # key (RecursionError), and nesting hidden in the resource of an otherwise valid event.
        b'{"a":' * 300 + b'"\\u0030"' + b"}" * 300,
        b"[" * 1_000 + b'{"name": "Kari"}' + b"]" * 1_000,
        line(example_event()).replace(b'"severity": "severe"', b'"severity": "severe", "x": ' + b"[" * 65 + b"]" * 65),
    ],
)
def test_a_line_nested_past_the_bound_is_quarantined_before_any_parse(raw):
    assert reason(raw) == "too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting():
    event = example_event()
    event["resource"]["reaction"][0]["manifestation"][0]["text"] = "[" * 500 + "{" * 500
    assert isinstance(validate_line(line(event), DELIVERED), AcceptedEvent)


def with_dates(occurred_at: str, recorded: str | None = None) -> bytes:
    event = example_event()
    event["occurred_at"] = occurred_at
    if recorded is not None:
        event["resource"]["recordedDate"] = recorded
    return line(event)


@pytest.mark.parametrize(
    "occurred_at, recorded",
    [
        ("9999-12-31T23:59:59+00:00", None),
        ("2200-01-01T00:00:00+00:00", None),
        ("2013-12-31T22:59:59+00:00", None),  # 23:59:59 on 31 December 2013 in Norway
        ((DELIVERED + timedelta(days=1, seconds=1)).isoformat(), None),
        ("2025-03-14T09:02:11+01:00", "2200"),
        ("2025-03-14T09:02:11+01:00", "9999-12-31"),
        ("2025-03-14T09:02:11+01:00", "2025-03-22T08:00:00+01:00"),
    ],
)
def test_dates_outside_2014_to_delivery_plus_a_day_are_implausible(occurred_at, recorded):
    assert reason(with_dates(occurred_at, recorded)) == "implausible_date"


@pytest.mark.parametrize(
    "occurred_at, recorded",
    [
        ("2013-12-31T23:00:00+00:00", None),  # midnight in Norway: the first moment of 2014 there
        ((DELIVERED + timedelta(days=1)).isoformat(), None),
        ("2025-03-14T09:02:11+01:00", "2025-03-21"),
        ("2025-03-14T09:02:11+01:00", "2025"),
    ],
)
def test_dates_at_the_bounds_are_plausible(occurred_at, recorded):
    assert isinstance(validate_line(with_dates(occurred_at, recorded), DELIVERED), AcceptedEvent)


def test_the_bounds_are_settings(monkeypatch):
    monkeypatch.setenv("KRITINFO_MAX_JSON_DEPTH", "3")
    monkeypatch.setenv("KRITINFO_EARLIEST_EVENT_DATE", "2025-03-15")
    assert validation.bounds().max_json_depth == 3
    assert reason(line(example_event())) == "too_deep"
    monkeypatch.delenv("KRITINFO_MAX_JSON_DEPTH")
    assert reason(line(example_event())) == "implausible_date"
