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


def panels(series: pd.DataFrame) -> alt.FacetChart:
    chart_data = charts.line_segments(series, "coverage_pct_population", "health_region_name").assign(
        Måned=lambda d: d["period_end"].map(fmt.month),
        Dekning=lambda d: d["coverage_pct_population"].map(fmt.percent),
    )
    line = alt.Chart().mark_line().encode(
        x=charts.month_x(),
        y=charts.value_y("coverage_pct_population", "Dekning av befolkningen", percent=True),
        detail="segment:N",
        tooltip=["health_region_name:N", "Måned:N", "Dekning:N"],
    )
    return (
        line.properties(width=PANEL_WIDTH_PX, height=PANEL_HEIGHT_PX)
        .facet(data=chart_data, facet=alt.Facet("health_region_name:N", title=None), columns=PANELS_PER_ROW)
        .resolve_scale(y="shared")  # the same axis in every panel: heights compare across regions
    )


def render(source: queries.Source) -> None:
    series = queries.region_coverage_series(source)
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
            "coverage_pct_population": ("Dekning av befolkningen", Number(1, percent=True)),
            "coverage_pct_need": ("Dekning av estimert behov", Number(1, percent=True)),
        },
    )
    accessibility.chart_with_table(
        panels(series),
        table,
        title="Dekning av befolkningen per helseregion",
        description="Ett diagram per helseregion med samme verdiakse, måned for måned.",
        key="comparison_chart",
        width="content",
    )
