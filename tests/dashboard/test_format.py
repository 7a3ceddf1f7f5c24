"""Bokmål formatting: no-break space for thousands, decimal comma, ':' for suppressed."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from pipelines import nb_format as fmt

NBSP = "\u00a0"


def test_thousands_use_no_break_space():
    assert fmt.NBSP == NBSP
    assert fmt.number(12345) == f"12{NBSP}345"
    assert fmt.number(1234567) == f"1{NBSP}234{NBSP}567"
    assert fmt.number(999) == "999"
    assert fmt.number(0) == "0"


def test_number_accepts_floats_and_numpy_like_values():
    assert fmt.number(24500.0) == f"24{NBSP}500"
    assert fmt.number(pd.Series([70074], dtype="Int64").iloc[0]) == f"70{NBSP}074"
    assert fmt.number(1234.5678, decimals=2) == f"1{NBSP}234,57"


def test_signed_numbers():
    assert fmt.number(21681, signed=True) == f"+21{NBSP}681"
    assert fmt.number(-1500, signed=True) == f"-1{NBSP}500"
    assert fmt.number(0, signed=True) == "0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35.24, f"35,2{NBSP}%"),
        (35.25, f"35,3{NBSP}%"),  # half away from zero on the written decimal
        (2.9604562737642586, f"3,0{NBSP}%"),
        (100, f"100,0{NBSP}%"),
        (0.04, f"0,0{NBSP}%"),
        (1234.5, f"1{NBSP}234,5{NBSP}%"),
    ],
)
def test_percent_with_decimal_comma(value, expected):
    assert fmt.percent(value) == expected


def test_percentage_points():
    assert fmt.percentage_points(1.24) == f"+1,2{NBSP}pp"
    assert fmt.percentage_points(-0.06) == f"-0,1{NBSP}pp"
    assert fmt.percentage_points(-0.04) == f"0,0{NBSP}pp"  # no "-0,0"


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT])
def test_suppressed_values_show_colon(missing):
    assert fmt.number(missing) == ":"
    assert fmt.percent(missing) == ":"
    assert fmt.percentage_points(missing) == ":"


def test_infinite_is_not_available():
    assert fmt.number(math.inf) == ".."
    assert fmt.percent(-math.inf) == ".."


def test_dates():
    assert fmt.month(date(2026, 10, 31)) == "oktober 2026"
    assert fmt.month(date(2026, 2, 28)) == "februar 2026"
    assert fmt.month_short(date(2025, 10, 31)) == "okt. 2025"
    assert fmt.month_short(date(2026, 5, 31)) == "mai 2026"
    assert fmt.day(date(2026, 10, 31)) == "31. okt. 2026"
    assert fmt.day(pd.Timestamp("2024-01-01")) == "1. jan. 2024"


def test_timestamp_in_oslo_time():
    # 13.05 UTC is 14.05 in Oslo in winter (CET) ...
    assert fmt.timestamp(datetime(2026, 11, 3, 13, 5, tzinfo=UTC)) == ("3. nov. 2026 kl. 14.05")
    # ... and 15.05 in summer (CEST); naive values are taken as UTC.
    assert fmt.timestamp(datetime(2026, 7, 3, 13, 5)) == "3. jul. 2026 kl. 15.05"
    # A UTC instant late in the evening can be the next day in Oslo.
    assert fmt.timestamp(pd.Timestamp("2026-10-31 23:30", tz="UTC")) == "1. nov. 2026 kl. 00.30"
