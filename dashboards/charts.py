"""Altair pieces every page's charts share, so axes read in bokmål the same way everywhere:
Norwegian month names, a decimal comma, a no-break space before ``%`` and between thousands."""

from __future__ import annotations

import altair as alt
import pandas as pd

from pipelines import nb_format as fmt

_MONTH_NAMES = "[" + ", ".join(f"'{m}'" for m in fmt.MONTHS_SHORT) + "]"
# Vega expressions for axis labels.
MONTH_AXIS_LABEL = f"{_MONTH_NAMES}[utcmonth(datum.value)] + ' ' + utcyear(datum.value)"
DAY_AXIS_LABEL = (
    f"utcdate(datum.value) + '. ' + {_MONTH_NAMES}[utcmonth(datum.value)] + ' ' + utcyear(datum.value)"
)
NUMBER_AXIS_LABEL = (
    f"replace(replace(replace(format(datum.value, ',~r'), ',', ' '), '.', ','), ' ', '{fmt.NBSP}')"
)
PERCENT_AXIS_LABEL = f"{NUMBER_AXIS_LABEL} + '{fmt.NBSP}%'"


def month_x(field: str = "period_end", title: str | None = None) -> alt.X:
    """A month-end date on the x axis; a month's point sits on its month's tick."""
    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        timeUnit="utcyearmonth",
        axis=alt.Axis(labelExpr=MONTH_AXIS_LABEL, labelOverlap=True),
    )


def value_y(field: str, title: str, *, percent: bool, **options) -> alt.Y:
    """A value axis labelled in bokmål (``35 %`` or ``12 345``)."""
    label = PERCENT_AXIS_LABEL if percent else NUMBER_AXIS_LABEL
    return alt.Y(f"{field}:Q", title=title, axis=alt.Axis(labelExpr=label), **options)


def line_segments(frame: pd.DataFrame, value: str, series: str | None = None) -> pd.DataFrame:
    """The rows with a ``value``, each in a numbered stretch of consecutive ones (per ``series``),
    rows in ``period_end`` order. Drawn with ``detail=segment``, a line stops at a missing
    (suppressed or unavailable) value instead of joining its neighbours across the gap."""
    ordered = frame.sort_values([*([series] if series else []), "period_end"])
    breaks = ordered[value].isna()
    segment = breaks.groupby(ordered[series]).cumsum() if series else breaks.cumsum()
    return ordered.assign(segment=segment.astype(int))[~breaks]
