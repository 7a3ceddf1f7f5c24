"""A table as a page shows it and offers it for download, from one object.

So a CSV holds exactly what the page shows: the same rows, columns and headings, each number
rounded as on screen, ``:`` for a suppressed value and ``..`` for one that is not available. The
CSV follows Norwegian spreadsheet conventions: ``;`` between fields, a decimal comma, no thousands
separator and no unit sign (the heading names the unit), UTF-8 with a byte-order mark so that
spreadsheets read æ, ø and å.

Every CSV starts with its provenance (source, reference month, publication time, the legend of
``:`` and ``..``), one text per row, then an empty row, then the header. Rows in the same file
rather than a second file, because a CSV is forwarded and opened on its own; a spreadsheet set to
Norwegian splits every row on ``;``, so a one-field row lands in column A and the columns of the
table stay where they are. No ``sep=;`` line: with it Excel ignores the byte-order mark and
garbles æ, ø and å.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboards import queries, queries_extra
from pipelines import nb_format as fmt

CSV_MIME = "text/csv"
SOURCE = "Kilde: kritinfo, Pasientens kritiske informasjon"
LEGEND = (
    f"Tegnforklaring: {fmt.SUPPRESSED} skjult for å verne personvernet, {fmt.NOT_AVAILABLE} ingenting å beregne fra"
)


@dataclass(frozen=True)
class Provenance:
    """Where a downloaded table comes from: the published copy's reference month and time."""

    reference_month: date | None
    published_at: datetime | None

    @classmethod
    def current(cls) -> Provenance:
        """The provenance of the copy published now (both unknown while nothing is)."""
        source = queries.current_source()
        if source is None:
            return cls(None, None)
        info = queries.publish_info(source)
        published_at = None if info.empty else info.iloc[0]["published_at"]
        return cls(queries_extra.reference_month(source), published_at)

    def rows(self) -> list[str]:
        month = fmt.NOT_AVAILABLE if self.reference_month is None else fmt.month(self.reference_month)
        published = fmt.NOT_AVAILABLE if fmt.is_missing(self.published_at) else fmt.timestamp(self.published_at)
        return [SOURCE, f"Referansemåned: {month}", f"Publisert: {published}", LEGEND]


@dataclass(frozen=True)
class Number:
    """How a column's numbers are written."""

    decimals: int = 0
    percent: bool = False
    signed: bool = False  # '+' before a rise (changes)

    def shown(self, value: object) -> str:
        if self.percent:
            return fmt.percent(value, self.decimals, signed=self.signed)
        return fmt.number(value, self.decimals, signed=self.signed)

    def written(self, value: object) -> str:
        return fmt.plain_number(value, self.decimals)


@dataclass(frozen=True)
class ShownTable:
    """``frame``: the columns under their headings, numbers as numbers (a missing one NaN).

    ``numbers``: heading -> how that column's numbers are written, or a Series of Number (one per
    row) when rows differ in unit. Every other column is text. ``not_available``: heading -> a
    boolean Series marking the missing cells that are not suppressed but have nothing to be
    computed from (shown ``..``); every other missing number is suppressed (shown ``:``).
    """

    frame: pd.DataFrame
    numbers: Mapping[str, Number | pd.Series]
    not_available: Mapping[str, pd.Series] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", self.frame.reset_index(drop=True))
        object.__setattr__(self, "numbers", {h: _by_row(n, self.frame) for h, n in self.numbers.items()})
        object.__setattr__(
            self,
            "not_available",
            {h: _by_row(m, self.frame).astype(bool) & self.frame[h].isna() for h, m in self.not_available.items()},
        )

    @classmethod
    def selected(
        cls,
        frame: pd.DataFrame,
        columns: Mapping[str, tuple[str, Number | None]],
        not_available: Mapping[str, pd.Series] | None = None,
    ) -> ShownTable:
        """The ``columns`` of ``frame`` (column -> (heading, Number, or None for text)), in that
        order under their headings; ``not_available`` is keyed by heading."""
        shown = frame[list(columns)].rename(columns={column: heading for column, (heading, _) in columns.items()})
        numbers = {heading: number for heading, number in columns.values() if number is not None}
        return cls(shown, numbers, not_available or {})

    def rows(self, start: int, stop: int) -> ShownTable:
        """The rows from ``start`` up to ``stop``, written as in the whole table."""
        part = slice(start, stop)
        return ShownTable(
            self.frame.iloc[part],
            {heading: per_row.iloc[part] for heading, per_row in self.numbers.items()},
            {heading: mask.iloc[part] for heading, mask in self.not_available.items()},
        )

    def styler(self) -> Styler:
        """For st.table: numbers stay numbers (aligned right), the Styler supplies the bokmål text."""
        return self._styled(self.frame)

    def sortable_styler(self) -> Styler:
        """For st.dataframe, which writes a missing number as 'None' whatever the Styler says: a
        missing number is stored as -inf (so it sorts below every value) and written ':' or '..'."""
        numbers = self.frame.astype({heading: float for heading in self.numbers})  # Int64 holds no -inf
        return self._styled(numbers.fillna({heading: -math.inf for heading in self.numbers}))

    def _styled(self, frame: pd.DataFrame) -> Styler:
        style = frame.style.format(na_rep=fmt.NOT_AVAILABLE)
        for heading, per_row in self.numbers.items():
            for number in dict.fromkeys(per_row):
                rows = per_row.index[per_row == number]
                style = style.format(number.shown, subset=(rows, [heading]))
            missing = self.frame[heading].isna()
            style = style.format(lambda _: fmt.SUPPRESSED, subset=(missing.index[missing], [heading]))
        for heading, mask in self.not_available.items():
            style = style.format(lambda _: fmt.NOT_AVAILABLE, subset=(mask.index[mask], [heading]))
        return style

    def column_config(self) -> dict[str, object]:
        """For st.dataframe: numbers aligned right (they sort as numbers), the first column pinned."""
        config = {
            heading: st.column_config.Column(heading, alignment="right" if heading in self.numbers else "left")
            for heading in self.frame.columns
        }
        first = self.frame.columns[0]
        config[first] = st.column_config.Column(first, pinned=True)
        return config

    def texts(self) -> pd.DataFrame:
        """Every cell as the CSV writes it."""
        texts = self.frame.astype(object).where(self.frame.notna(), fmt.NOT_AVAILABLE).astype(str)
        for heading, per_row in self.numbers.items():
            texts[heading] = [number.written(value) for number, value in zip(per_row, self.frame[heading], strict=True)]
        for heading, mask in self.not_available.items():
            texts.loc[mask, heading] = fmt.NOT_AVAILABLE
        return texts

    def csv(self, provenance: Provenance | None = None) -> bytes:
        """The provenance rows (of the copy published now unless given), an empty row, the table."""
        provenance = provenance or Provenance.current()
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerows([[text] for text in provenance.rows()])
        writer.writerow([])
        self.texts().to_csv(out, sep=";", index=False, lineterminator="\n")
        return out.getvalue().encode("utf-8-sig")


def _by_row(value: object, frame: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.reset_index(drop=True)
    return pd.Series([value] * len(frame), index=frame.index, dtype=object)
