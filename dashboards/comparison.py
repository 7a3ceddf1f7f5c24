"""Oversikt: the health regions side by side, one small chart each on the same value axis, so
that their levels compare at a glance without telling four coloured lines apart."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, queries
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

PANEL_WIDTH_PX, PANEL_HEIGHT_PX = 140, 110  # two panels in a row fit a phone (390 px)
PANELS_PER_ROW = 2


@st.cache_data(show_spinner=False, max_entries=16)
def panels(series: pd.DataFrame, name: str) -> charts.VegaLiteSpec:
    chart_data = charts.line_segments(series, "value", "health_region_name").assign(
        Måned=lambda d: d["period_end"].map(fmt.month),
        Verdi=lambda d: d["value"].map(fmt.percent),
    )
    line = (
        alt.Chart()
        .mark_line()
        .encode(
            x=charts.month_x(),
            y=charts.value_y("value", name, percent=True),
            detail="segment:N",
            tooltip=["health_region_name:N", "Måned:N", alt.Tooltip("Verdi:N", title=name)],
        )
    )
    # A facet's panels keep one value axis (Vega-Lite's default for facets): heights compare
    # across regions.
    chart = line.properties(width=PANEL_WIDTH_PX, height=PANEL_HEIGHT_PX).facet(
        data=chart_data, facet=alt.Facet("health_region_name:N", title=None), columns=PANELS_PER_ROW
    )
    return charts.vega_lite_spec(chart)


def render(source: queries.Source) -> None:
    definitions = queries.metric_definitions(source)
    coverages = queries.coverage_metrics(definitions)
    if not coverages:
        return
    metric = coverages[0]  # coverage of the population: every region on one axis
    name = definitions.set_index("metric_id").loc[metric, "name_nb"]
    series = queries.region_metric_series(source, (metric,))
    if series.empty:
        return
    st.subheader("Helseregionene side om side")
    table = ShownTable.selected(
        series.assign(month=series["period_end"].map(fmt.month)).sort_values(
            ["period_end", "health_region_name"], ascending=[False, True]
        ),
        {
            "month": ("Måned", None),
            "health_region_name": ("Helseregion", None),
            "value": (name, Number(1, percent=True)),
        },
    )
    accessibility.chart_with_table(
        panels(series, name),
        table,
        title=f"{name} per helseregion",
        description="Ett diagram per helseregion med samme verdiakse, måned for måned.",
        key="comparison_chart",
        width="content",
    )
