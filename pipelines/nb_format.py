"""Bokmål number, date and symbol formatting: the dashboard, the CSV files and the reports use these.

Conventions (one place, used everywhere):

* Thousands are grouped with a no-break space (U+00A0), as in the CLDR ``nb`` locale:
  ``12 345``. The decimal mark is a comma: ``35,2``.
* Percent has a no-break space before the sign: ``35,2 %``.
* Changes in a percentage are percentage points: ``+1,2 pp``.
* A suppressed value (NULL in the serving database) is shown as ``:``, Statistics Norway's
  symbol for "confidential"; a value that is not available at all (no published row, or a rate
  with nothing to compute it from: a zero denominator) as ``..``.
* Rounding is half away from zero on the decimal value as written (35,25 -> 35,3), not
  banker's rounding on the binary float.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
SUPPRESSED = ":"
NOT_AVAILABLE = ".."
OSLO = ZoneInfo("Europe/Oslo")

MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
MONTHS_SHORT = (
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "mai",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "des.",
)


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA/NaT (what a NULL becomes after a read)."""
    import pandas as pd  # here: `kritinfo run` imports this module, and never needs pandas (0.2 s)

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def missing_value_symbol(denominator: object) -> str:
    """What a metric's missing value is written as: '..' when its denominator is 0 (a rate or
    quantile with nothing to compute from), else ':' (hidden to protect privacy)."""
    return NOT_AVAILABLE if denominator == 0 else SUPPRESSED


def _rounded(value: float, decimals: int) -> Decimal:
    exponent = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP)


def _digits(value: float, decimals: int) -> str:
    """Absolute value grouped in thousands, decimal comma; no sign."""
    text = f"{abs(_rounded(value, decimals)):,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def _sign(value: float, decimals: int, signed: bool) -> str:
    rounded = _rounded(value, decimals)
    if rounded < 0:
        return "-"  # ASCII minus: st.metric reads a leading "-" as a fall
    if signed and rounded > 0:
        return "+"
    return ""


def number(value: float | int | None, decimals: int = 0, *, signed: bool = False) -> str:
    """``12345`` -> ``12 345``; ``None`` -> ``:``. ``signed`` adds ``+`` to a rise."""
    if is_missing(value):
        return SUPPRESSED
    if not math.isfinite(float(value)):
        return NOT_AVAILABLE
    return _sign(value, decimals, signed) + _digits(value, decimals)


def percent(value: float | None, decimals: int = 1, *, signed: bool = False) -> str:
    """A value already in percent: ``35.24`` -> ``35,2 %``; ``None`` -> ``:``. ``signed`` adds
    ``+`` to a rise (a relative change: ``+23,4 %``)."""
    text = number(value, decimals, signed=signed)
    return text if text in (SUPPRESSED, NOT_AVAILABLE) else f"{text}{NBSP}%"


def plain_number(value: float | int | None, decimals: int = 0) -> str:
    """A number for a CSV file read by Norwegian spreadsheets: decimal comma, no thousands
    separator, no unit: ``1234.56`` -> ``1234,6``; ``None`` -> ``:``."""
    if is_missing(value):
        return SUPPRESSED
    if not math.isfinite(float(value)):
        return NOT_AVAILABLE
    return _sign(value, decimals, False) + f"{abs(_rounded(value, decimals)):f}".replace(".", ",")


def percentage_points(value: float | None, decimals: int = 1) -> str:
    """A change between two percentages: ``1.24`` -> ``+1,2 pp``; ``None`` -> ``:``."""
    text = number(value, decimals, signed=True)
    return text if text in (SUPPRESSED, NOT_AVAILABLE) else f"{text}{NBSP}pp"


def month(value: date) -> str:
    """``2026-10-31`` -> ``oktober 2026``."""
    return f"{MONTHS[value.month - 1]} {value.year}"


def month_short(value: date) -> str:
    """``2026-10-31`` -> ``okt. 2026``."""
    return f"{MONTHS_SHORT[value.month - 1]} {value.year}"


def period(value: date, kind: str) -> str:
    """A reported period by its end: ``month`` -> ``oktober 2026``, ``year`` -> ``2026``."""
    return str(value.year) if kind == "year" else month(value)


def day(value: date) -> str:
    """``2026-10-31`` -> ``31. okt. 2026``."""
    return f"{value.day}. {MONTHS_SHORT[value.month - 1]} {value.year}"


def timestamp(value: datetime) -> str:
    """An instant in Oslo time: ``31. okt. 2026 kl. 14.05`` (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(OSLO)
    return f"{day(local)} kl. {local:%H.%M}"
