"""Oversikt: the 15 counties as equal square tiles placed roughly like Norway, coloured by the
chosen coverage, with the same numbers in a sortable table beside the map. No map data: each
tile's place is written below (column, row of a 6 x 8 grid, row 0 at the top)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, queries, queries_extra
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

TILES = {  # county code (dbt_project/seeds/counties.csv) -> (column, row)
    "56": (5, 0),  # Finnmark
    "55": (4, 1),  # Troms
    "18": (3, 2),  # Nordland
    "50": (2, 3),  # Trøndelag
    "15": (1, 4),  # Møre og Romsdal
    "34": (2, 4),  # Innlandet
    "46": (0, 5),  # Vestland
    "33": (1, 5),  # Buskerud
    "03": (2, 5),  # Oslo
    "32": (3, 5),  # Akershus
    "11": (0, 6),  # Rogaland
    "40": (1, 6),  # Telemark
    "39": (2, 6),  # Vestfold
    "31": (3, 6),  # Østfold
    "42": (1, 7),  # Agder
}
COLUMNS, ROWS = 6, 8
TILE_PX = 56  # six tiles and the legend fit a phone (390 px)
HIDDEN_TILE = "#d9d9d9"
DARK_TEXT, LIGHT_TEXT = "#14161f", "#ffffff"


def table_columns(measures: dict[str, str]) -> dict[str, tuple[str, Number | None]]:
    """The county table beside the map; a coverage column headed by its metric's registry name."""
    return {
        "county_name": ("Fylke", None),
        "county_code": ("Fylkesnummer", None),
        "health_region_name": ("Helseregion", None),
        **{column: (name, Number(1, percent=True)) for column, name in measures.items()},
        "persons_with_critical_info": ("Personer med kritisk informasjon", Number()),
        "population": ("Befolkning", Number()),
    }


@st.cache_data(show_spinner=False, max_entries=64)
def tile_chart(counties: pd.DataFrame, measure: str, name: str, title: str, description: str) -> charts.VegaLiteSpec:
    """A sequential blue scale (readable with every common colour-vision deficiency), the value
    written on each tile in a colour that contrasts with it; a suppressed value is a grey tile
    with ':'. Titled and described like every chart (the description is its accessible name)."""
    placed = counties.assign(
        column=[TILES[code][0] for code in counties["county_code"]],
        row=[TILES[code][1] for code in counties["county_code"]],
        value=counties[measure],
        Verdi=counties[measure].map(fmt.percent),
    )
    low, high = placed["value"].min(), placed["value"].max()
    dark = low + (high - low) * 0.7 if pd.notna(low) else 0.0  # above it white text contrasts more than dark
    x = alt.X("column:O", axis=None, scale=alt.Scale(domain=list(range(COLUMNS))))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(range(ROWS))))
    tooltip = [alt.Tooltip("county_name:N", title="Fylke"), alt.Tooltip("Verdi:N", title=name)]
    base = alt.Chart(placed).encode(x=x, y=y, tooltip=tooltip)
    # Vega-Lite leaves a missing value out of a colour scale: the hidden tiles are a layer of their own.
    hidden = base.transform_filter("!isValid(datum.value)").mark_rect(color=HIDDEN_TILE, stroke="white", strokeWidth=2)
    legend = alt.Legend(orient="bottom", format=".1~f", labelExpr=f"replace(datum.label, '.', ',') + '{fmt.NBSP}%'")
    tiles = (
        base.transform_filter("isValid(datum.value)")
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(color=alt.Color("value:Q", title=name, scale=alt.Scale(scheme="blues"), legend=legend))
    )
    text_color = alt.condition(
        f"isValid(datum.value) && datum.value > {dark}", alt.value(LIGHT_TEXT), alt.value(DARK_TEXT)
    )
    codes = base.mark_text(baseline="bottom", dy=-2, fontSize=11, fontWeight="bold").encode(
        text="county_code:N", color=text_color
    )
    values = base.mark_text(baseline="top", dy=2, fontSize=10).encode(text="Verdi:N", color=text_color)
    layers = [hidden] if placed["value"].isna().any() else []  # an empty layer is an unlabelled graphic
    chart = alt.layer(*layers, tiles, codes, values).properties(
        width=alt.Step(TILE_PX), height=alt.Step(TILE_PX), title=title, description=description
    )
    return charts.vega_lite_spec(chart)


@st.fragment  # its selector reruns the map only, on the copy the page was drawn from
def render(source: queries.Source) -> None:
    reference = queries_extra.reference_month(source)
    if reference is None:
        return
    st.subheader(f"Fylkene på kartet, {fmt.month(reference)}")
    measures = queries.coverage_column_names(queries.metric_definitions(source))
    measure = st.segmented_control(
        "Fargelegg etter",
        list(measures),
        format_func=measures.get,
        default="coverage_pct_population",
        required=True,
        key="tilemap_measure",
    )
    counties = queries.county_coverage(source, reference)
    table = ShownTable.selected(counties, table_columns(measures))
    with accessibility.chart_block("tilemap_chart"):  # the table beside the map is its table alternative
        chart_side, table_side = st.columns([2, 3])
        with chart_side:
            title = f"{measures[measure]} per fylke"
            description = (
                f"{title}: fliskart over de 15 fylkene, plassert omtrent som på kartet; mørkere blå er høyere "
                "dekning. Tallene står i tabellen ved siden av."
            )
            st.vega_lite_chart(
                spec=tile_chart(counties, measure, measures[measure], title, description),
                width="content",
                key="tilemap_chart",
            )
            st.caption(f"Grå rute med `{fmt.SUPPRESSED}`: skjult for å verne personvernet.")
        with table_side:
            st.caption("Klikk på en kolonneoverskrift for å sortere.")
            accessibility.show_sortable(table, label=f"{measures[measure]} og antall personer per fylke")
