"""Altair pieces every page's charts share, so axes read in bokmål the same way everywhere:
Norwegian month names, a decimal comma, a no-break space before ``%`` and between thousands."""

from __future__ import annotations

import altair as alt
import pandas as pd
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from pipelines import nb_format as fmt

# A chart's Vega-Lite spec (its data as Arrow datasets), as st.vega_lite_chart draws it.
VegaLiteSpec = dict


def vega_lite_spec(chart: alt.TopLevelMixin) -> VegaLiteSpec:
    """``chart`` as the spec st.altair_chart would send. Building and validating an Altair chart
    costs far more than drawing it, so each page builds its charts in functions cached with
    st.cache_data on their data and draws the cached spec with st.vega_lite_chart. Streamlit's
    own conversion (private) keeps the spec, its datasets and the theme exactly as
    st.altair_chart has them."""
    return _convert_altair_to_vega_lite_spec(chart)


_MONTH_NAMES = "[" + ", ".join(f"'{m}'" for m in fmt.MONTHS_SHORT) + "]"
# Vega expressions for axis labels.
MONTH_AXIS_LABEL = f"{_MONTH_NAMES}[utcmonth(datum.value)] + ' ' + utcyear(datum.value)"
DAY_AXIS_LABEL = f"utcdate(datum.value) + '. ' + {_MONTH_NAMES}[utcmonth(datum.value)] + ' ' + utcyear(datum.value)"
NUMBER_AXIS_LABEL = f"replace(replace(replace(format(datum.value, ',~r'), ',', ' '), '.', ','), ' ', '{fmt.NBSP}')"
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


# The initiative starts in January 2024 (mandate of 15 January 2024); time charts open there.
INITIATIVE_START = pd.Timestamp("2024-01-01")
INITIATIVE_LABEL = "Tiltaket starter"
MARKER_COLOUR = "#555"


def in_period(frame: pd.DataFrame, whole_history: bool, field: str = "period_end") -> pd.DataFrame:
    """The rows the period selector shows: all, or those from the initiative's start on."""
    return frame if whole_history else frame[pd.to_datetime(frame[field]) >= INITIATIVE_START]


def markers(go_lives: pd.DataFrame) -> pd.DataFrame:
    """The events a time chart marks: the initiative's start and each region's API go-live
    (``go_lives``: period_end, health_region_name), as rows of period_end and label."""
    regions = pd.DataFrame(
        {
            "period_end": pd.to_datetime(go_lives["period_end"]),
            "label": "API i " + go_lives["health_region_name"].str.removesuffix(" RHF"),
        }
    )
    start = pd.DataFrame({"period_end": [INITIATIVE_START + pd.offsets.MonthEnd(0)], "label": [INITIATIVE_LABEL]})
    return pd.concat([start, regions], ignore_index=True).sort_values("period_end", kind="stable")


def marked(chart: alt.Chart, events: pd.DataFrame, x: alt.X, shown_from: pd.Timestamp | None) -> alt.LayerChart:
    """``chart`` with a dashed vertical rule and a label at each event from ``shown_from`` on."""
    if shown_from is not None:
        events = events[events["period_end"] >= shown_from]
    events = events.assign(
        Hendelse=events["label"],
        Måned=events["period_end"].map(lambda d: fmt.month(d.date())),
        # labels one below the other, so two go-lives in the same month stay readable
        label_top_px=[2 + 13 * row for row in range(len(events))],
    )
    base = alt.Chart(events)
    rules = base.mark_rule(strokeDash=[4, 4], color=MARKER_COLOUR).encode(x=x, tooltip=["Hendelse:N", "Måned:N"])
    texts = base.mark_text(align="left", baseline="top", dx=3, fontSize=11, color=MARKER_COLOUR).encode(
        x=x, y=alt.Y("label_top_px:Q", scale=None, axis=None), text="label:N"
    )
    return alt.layer(chart, rules, texts)


# Series told apart by more than colour (WCAG 1.4.1): each series also has its own dash pattern
# and point shape, in the same order as its colour.
SERIES_DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4]]
SERIES_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge"]


def series_dash(field: str, names: list[str]) -> alt.StrokeDash:
    dashes = [SERIES_DASHES[position % len(SERIES_DASHES)] for position in range(len(names))]
    return alt.StrokeDash(field, legend=None, scale=alt.Scale(domain=names, range=dashes))


def series_shape(field: str, names: list[str]) -> alt.Shape:
    shapes = [SERIES_SHAPES[position % len(SERIES_SHAPES)] for position in range(len(names))]
    return alt.Shape(field, legend=None, scale=alt.Scale(domain=names, range=shapes))


def end_labels(data: pd.DataFrame, field: str, x: alt.X, y: alt.Y, colour: alt.Color) -> alt.Chart:
    """Each series' name at its last point, so a line is named where it is drawn."""
    ends = data.sort_values("period_end").groupby(field).tail(1)
    return alt.Chart(ends).mark_text(align="left", dx=6, fontSize=11).encode(x=x, y=y, text=f"{field}:N", color=colour)


MAX_SERIES = 8  # more lines than this in one chart are hard to tell apart, even dashed and named


def most_first(latest: pd.DataFrame, key: str) -> list[str]:
    """The values of ``key`` by their ``value`` in ``latest`` (the last period's rows), highest
    first; those without a value last."""
    ordered = latest.sort_values(["value", key], ascending=[False, True], na_position="last", kind="stable")
    return list(dict.fromkeys(ordered[key]))
