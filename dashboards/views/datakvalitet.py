"""Datakvalitet: what became of the lines delivered — loaded, duplicates or quarantined —
in total, per day the files arrived, and per reason for quarantine; and how often valid but
unusual data came. Only displays published rows (see dashboards/queries.py)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, layout, queries
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

# (label, column of data_quality_totals, value format, st.metric help)
KEY_FIGURES = (
    (
        "Linjer lest",
        "lines_read",
        fmt.number,
        "Linjer med innhold i filene som er lest inn (tomme linjer telles ikke).",
    ),
    ("Lastet", "loaded", fmt.number, "Linjer som ga en ny hendelse i datavarehuset."),
    ("Duplikater", "duplicates", fmt.number, "Linjer med en hendelse som allerede var lastet (levert på nytt)."),
    ("I karantene", "quarantined", fmt.number, "Linjer som ble avvist og ligger i karantene nå."),
    ("Andel i karantene", "quarantined_pct", fmt.percent, "Linjer i karantene som andel av linjer lest."),
)
OUTCOMES = {"loaded": "Lastet", "duplicates": "Duplikater", "quarantined": "I karantene"}
UNUSUAL_COLUMNS = {  # column of unusual_data -> (heading, number format or None for text)
    "label_nb": ("Funn", None),
    "count": ("Antall", Number()),
    "unit_nb": ("Enhet", None),
    "last_seen": ("Sist sett", None),
}
REASON_COLUMNS = {  # column of quarantine_by_reason -> (heading, number format or None for text)
    "reason_label": ("Årsak", None),
    "reason_code": ("Kode", None),
    "lines": ("Linjer i karantene", Number()),
    "share_pct": ("Andel av karantenen", Number(1, percent=True)),
}


def show_caption(totals: pd.Series) -> None:
    st.caption(
        f"Filer mottatt {fmt.day(totals['first_day'])}–{fmt.day(totals['last_day'])}"
        f" · {fmt.number(totals['files'])} filer"
    )


def show_key_figures(totals: pd.Series) -> None:
    for column, (label, name, formatter, help_text) in zip(st.columns(len(KEY_FIGURES)), KEY_FIGURES, strict=True):
        column.metric(label, formatter(totals[name]), border=True, help=help_text)


def show_reconciliation(totals: pd.Series) -> None:
    """The check every file must pass, shown for the sums: lest = lastet + duplikater + i karantene."""
    read, loaded, duplicates, quarantined = (
        int(totals[c]) for c in ("lines_read", "loaded", "duplicates", "quarantined")
    )
    equation = (
        f"lest = lastet + duplikater + i karantene: {fmt.number(read)} = {fmt.number(loaded)}"
        f" + {fmt.number(duplicates)} + {fmt.number(quarantined)}"
    )
    difference = read - (loaded + duplicates + quarantined)
    if difference == 0:
        st.success(f"Avstemt: {equation}", icon=":material/check_circle:")
    else:
        st.error(
            f"Stemmer ikke: {equation} (avvik {fmt.number(difference, signed=True)})",
            icon=":material/error:",
        )


@st.cache_data(show_spinner=False, max_entries=16)
def daily_chart(daily: pd.DataFrame) -> charts.VegaLiteSpec:
    """One line per outcome, told apart by colour, dash pattern and point shape."""
    chart_data = daily.melt(id_vars=["arrived_on"], value_vars=list(OUTCOMES), var_name="outcome", value_name="lines")
    chart_data["Utfall"] = chart_data["outcome"].map(OUTCOMES)
    chart_data["Dag"] = chart_data["arrived_on"].map(fmt.day)
    chart_data["Linjer"] = chart_data["lines"].map(fmt.number)
    outcomes = list(OUTCOMES.values())
    chart = (
        alt.Chart(chart_data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "arrived_on:T",
                title=None,
                scale=alt.Scale(type="utc"),
                timeUnit="utcyearmonthdate",
                axis=alt.Axis(labelExpr=charts.DAY_AXIS_LABEL, labelOverlap=True),
            ),
            y=charts.value_y("lines", "Linjer", percent=False),
            color=alt.Color(
                "Utfall:N",
                title=None,
                sort=outcomes,
                scale=alt.Scale(domain=outcomes, range=["#4c78a8", "#6b6b6b", "#c0392b"]),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=charts.series_dash("Utfall:N", outcomes),
            shape=charts.series_shape("Utfall:N", outcomes),
            tooltip=["Dag:N", "Utfall:N", "Linjer:N"],
        )
    )
    return charts.vega_lite_spec(chart)


@st.fragment  # its period selector reruns this chart only
def show_daily_chart(daily: pd.DataFrame) -> None:
    daily = charts.in_period(daily, layout.choose_whole_history(key="datakvalitet_period"), field="arrived_on")
    table = ShownTable.selected(
        daily.assign(day=daily["arrived_on"].map(fmt.day)).sort_values("arrived_on", ascending=False),
        {"day": ("Dag", None), **{column: (name, Number()) for column, name in OUTCOMES.items()}},
    )
    accessibility.chart_with_table(
        daily_chart(daily),
        table,
        title="Linjer per dag etter utfall",
        description="Én linje per utfall (lastet, duplikater, i karantene) for hver dag filene kom; hvert utfall "
        "har sin farge, strek og sitt punktsymbol.",
        key="datakvalitet_daily_chart",
    )


def show_reason_table(reasons: pd.DataFrame) -> None:
    table = ShownTable.selected(reasons, REASON_COLUMNS)
    layout.show_table(table)
    layout.download_csv(
        table, label="Last ned tabellen (CSV)", file_name="karantene-etter-arsak.csv", key="datakvalitet_csv"
    )


def show_unusual_data(unusual: pd.DataFrame) -> None:
    st.caption(
        "Data som kontrakten tillater, men som er uvanlige. De lastes inn og telles slik "
        "definisjonene sier (for eksempel telles en virksomhet i hver type den meldte inn som); "
        "tabellen viser hvor ofte det skjer."
    )
    shown = unusual.assign(last_seen=[fmt.month(day) if pd.notna(day) else "aldri" for day in unusual["last_month"]])
    table = ShownTable.selected(shown, UNUSUAL_COLUMNS)
    layout.show_table(table)
    layout.download_csv(table, label="Last ned tabellen (CSV)", file_name="uvanlige-data.csv", key="uvanlige_data_csv")


def show_definitions() -> None:
    st.markdown(
        """
- **Linjer lest:** linjer med innhold i de innleste filene. Hver linje ender som nøyaktig én av
  *lastet* (en ny hendelse), *duplikat* (en hendelse som allerede var lastet) eller
  *i karantene* (avvist, med årsak).
- **Dag:** dagen filen kom (filens endringstid da den ble lest inn, norsk tid).
- **Karantene:** avviste linjer kan rettes og lastes på nytt med `kritinfo quarantine replay`.
  En linje som da godtas, telles som lastet eller duplikat – én gang – og forsvinner fra
  karantenen.
- Tallene gjelder linjer, oppføringer og virksomheter i leveransene, ikke personer, og skjermes
  derfor ikke.
"""
    )


source = layout.page_header("Datakvalitet")

totals_rows = queries.data_quality_totals(source)
if totals_rows.empty:
    st.info("Ingen filer er lest inn ennå.", icon=":material/info:")
    st.stop()
totals = totals_rows.iloc[0]

show_caption(totals)
show_key_figures(totals)
show_reconciliation(totals)

st.header("Linjer per dag")
show_daily_chart(queries.data_quality_daily(source))

st.header("Karantene etter årsak")
show_reason_table(queries.quarantine_by_reason(source))

st.header("Uvanlige, men gyldige data")
show_unusual_data(queries.unusual_data(source))

st.header("Slik leses tallene")
show_definitions()
