"""Expected texts for dashboard tests, written out independently of pipelines/nb_format.py.

On screen: thousands grouped with a no-break space, decimal comma, a no-break space before
'%' and 'pp'. In CSV files: ';' between fields, decimal comma, no grouping and no unit.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"


def _rounded(x: float, decimals: int) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def thousands(n: float, decimals: int = 0) -> str:
    text = f"{abs(_rounded(n, decimals)):,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    return ("-" if _rounded(n, decimals) < 0 else "") + text


def signed_thousands(n: float, decimals: int = 0) -> str:
    return ("+" if _rounded(n, decimals) > 0 else "") + thousands(n, decimals)


def pct(x: float, decimals: int = 1) -> str:
    return f"{thousands(x, decimals)}{NBSP}%"


def signed_pct(x: float, decimals: int = 1) -> str:
    return f"{signed_thousands(x, decimals)}{NBSP}%"


def pp(x: float) -> str:
    return f"{signed_thousands(x, 1)}{NBSP}pp"


def plain(x: float, decimals: int = 0) -> str:
    """A number as a CSV file holds it: '1234,5'."""
    rounded = _rounded(x, decimals)
    return f"{abs(rounded) if rounded == 0 else rounded:f}".replace(".", ",")


def csv_rows(data: bytes) -> list[list[str]]:
    """A downloaded CSV: UTF-8 with byte-order mark, ';' between fields; its table, header first."""
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without byte-order mark"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return rows[rows.index([]) + 1 :]  # the table after the provenance rows


def change(x: float, unit: str, decimals: int = 0) -> str:
    """A change with its sign and unit after a no-break space: '+3 virksomheter', '-1,5 t'."""
    return f"{signed_thousands(x, decimals)}{NBSP}{unit}"
