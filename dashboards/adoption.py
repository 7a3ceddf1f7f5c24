"""Effekt: adoption of the API per EPJ product, the number of organisations sending critical
information through the API from each product, month by month, nationally (the registry's metric
counting organisations, in unit ``virksomheter``, by ``epj_product``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, queries
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

ADOPTION_UNIT = "virksomheter"
DIMENSION = "epj_product"
# Dark colours (each at least 4.5:1 on white, as the names at the line ends are text); the dash
# pattern and the name tell the products apart without colour.
COLOURS = ["#0072b2", "#b34700", "#00795a", "#a2307c", "#7a5c00", "#14161f", "#5e3c99", "#c0392b", "#4d4d4d"]
MONTHS_BEFORE_FIRST_USE = 3  # the years before any product sent through the API are all zero


@st.cache_data(show_spinner=False, max_entries=16)
def adoption_chart(series: pd.DataFrame) -> charts.VegaLiteSpec:
    products = sorted(series["dimension_value"].unique())
    chart_data = charts.line_segments(series, "value", "dimension_value").assign(
        Måned=lambda d: d["period_end"].map(fmt.month),
        Virksomheter=lambda d: d["value"].map(fmt.number),
    )
    colour = alt.Color(
        "dimension_value:N",
        title="EPJ-produkt",
        legend=None,
        scale=alt.Scale(domain=products, range=COLOURS[: len(products)]),
    )
    dash = charts.series_dash("dimension_value:N", products)
    x = charts.month_x()
    y = charts.value_y("value", "Virksomheter som melder inn via API", percent=False)
    lines = (
        alt.Chart(chart_data)
        .mark_line()
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeDash=dash,
            detail="segment:N",
            tooltip=[alt.Tooltip("dimension_value:N", title="EPJ-produkt"), "Måned:N", "Virksomheter:N"],
        )
    )
    chart = alt.layer(lines, charts.end_labels(chart_data, "dimension_value", x, y, colour)).properties(height=300)
    return charts.vega_lite_spec(chart)


def adoption_metric(definitions: pd.DataFrame) -> str | None:
    """The registry's count of organisations broken down by EPJ product, if it has one."""
    chosen = definitions[
        (definitions["unit"] == ADOPTION_UNIT)
        & definitions["dimensions"].str.split(",").map(lambda names: DIMENSION in names)
    ]
    return None if chosen.empty else chosen.iloc[0]["metric_id"]


def render(source: queries.Source) -> None:
    metric = adoption_metric(queries.metric_definitions(source))
    if metric is None:
        return
    series = queries.metric_series(source, metric, "national", None, None, DIMENSION)
    series = series[series["period"] == "month"]
    in_use = series.loc[series["value"] > 0, "period_end"]
    if in_use.empty:
        return
    series = series[series["period_end"] >= in_use.min() - pd.offsets.MonthEnd(MONTHS_BEFORE_FIRST_USE)]
    st.subheader("API-bruk per EPJ-produkt")
    table = ShownTable.selected(
        series.assign(month=series["period_end"].map(fmt.month)),
        {
            "month": ("Måned", None),
            "dimension_value": ("EPJ-produkt", None),
            "value": ("Virksomheter som melder inn via API", Number()),
        },
    )
    accessibility.chart_with_table(
        adoption_chart(series),
        table,
        title="Virksomheter per EPJ-produkt",
        description="Én linje per EPJ-produkt, navnet står ved linjens slutt; landet samlet, måned for måned.",
        key="adoption_chart",
    )
