"""Mål: progress toward each goal (goals.yml), nationally and per health region: the latest
value, the target and its date, the forecast at the target date with its prediction interval,
and the status. Only displays published rows (schema ``evaluation`` and the ``metrics`` mart;
see dashboards/queries.py)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, labels, layout, queries, url_state
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

ILLUSTRATIVE = "Illustrative mål – de offisielle målene er ikke publisert"
SERIES = {  # series of a goal's chart -> colour
    "Utvikling": "#4c78a8",
    "Prognose": "#f58518",
    "Prognoseintervall": "#fdd0a2",
    "Mål": "#e45756",
}
STATUS_HELP = {
    "on_track": "Selv den svakeste enden av prognoseintervallet når målet innen måldatoen.",
    "at_risk": "Prognoseintervallet ved måldatoen rommer både å nå og ikke nå målet.",
    "off_track": "Selv den beste enden av prognoseintervallet når ikke målet innen måldatoen.",
    "met": "Måldatoen er passert, og målet ble nådd.",
    "missed": "Måldatoen er passert, og målet ble ikke nådd.",
    "insufficient_data": "Tidsserien er for kort til en prognose med intervall.",
}


def area_name(area: str, region_names: dict[str, str]) -> str:
    return labels.NATIONAL if area == "national" else region_names.get(area, area)


def goals_table(goals: pd.DataFrame, region_names: dict[str, str]) -> ShownTable:
    """One row per goal as shown; each row's numbers in its metric's unit. Forecasts are never
    suppressed: a missing one is not available ('..'). A missing latest value is suppressed (':')
    where its cell of the metrics mart is, and not available where that cell has nothing to be
    computed from or there is none."""
    frame = goals.assign(
        area_nb=[area_name(s, region_names) for s in goals["area"]],
        latest_month=goals["latest_period_end"].map(lambda d: fmt.NOT_AVAILABLE if fmt.is_missing(d) else fmt.month(d)),
        target_month=goals["target_date"].map(fmt.month),
        status_nb=goals["status"].map(lambda s: labels.GOAL_STATUSES.get(s, s)),
    )
    per_row = pd.Series([labels.unit_number(unit) for unit in goals["unit"]], dtype=object)
    columns = {
        "name_nb": ("Indikator", None),
        "area_nb": ("Område", None),
        "baseline_value": ("Utgangspunkt", per_row),
        "latest_value": ("Siste verdi", per_row),
        "latest_month": ("Siste måned", None),
        "target_value": ("Mål", per_row),
        "target_month": ("Måldato", None),
        "forecast_at_target": ("Prognose ved måldato", per_row),
        "lower_at_target": ("Nedre grense", per_row),
        "upper_at_target": ("Øvre grense", per_row),
        "status_nb": ("Status", None),
    }
    everywhere = pd.Series(True, index=frame.index)
    not_available = {
        heading: everywhere
        for heading in ("Utgangspunkt", "Mål", "Prognose ved måldato", "Nedre grense", "Øvre grense")
    }
    not_available["Siste verdi"] = (frame["latest_denominator"] == 0) | frame["latest_period_end"].isna()
    return ShownTable.selected(frame, columns, not_available)


def show_status_counts(goals: pd.DataFrame) -> None:
    counts = goals["status"].value_counts()
    statuses = [s for s in labels.GOAL_STATUSES if s in counts] + [
        s for s in counts.index if s not in labels.GOAL_STATUSES
    ]
    for column, status in zip(st.columns(max(len(statuses), 3)), statuses, strict=False):
        column.metric(
            labels.GOAL_STATUSES.get(status, status),
            fmt.number(counts[status]),
            border=True,
            help=STATUS_HELP.get(status),
        )


def goal_chart_data(goal: pd.Series, series: pd.DataFrame, number: Number, whole_history: bool) -> pd.DataFrame:
    """History (over the chosen period), forecast with interval, and the target as rows of one frame
    with a 'Serie'."""
    own = series[series["goal_id"] == goal["goal_id"]]
    history = charts.line_segments(charts.in_period(own[own["kind"] == "history"], whole_history), "value")
    history = history.assign(Serie="Utvikling")
    forecast = own[own["kind"] == "forecast"].assign(Serie="Prognose")
    target = pd.DataFrame(
        {"period_end": [pd.Timestamp(goal["target_date"])], "value": [goal["target_value"]], "Serie": ["Mål"]}
    )
    data = pd.concat([history, forecast, target], ignore_index=True)
    data["Måned"] = data["period_end"].map(lambda d: fmt.month(d.date()))
    data["Verdi"] = data["value"].map(number.shown)
    data["Intervall"] = [
        f"{number.shown(lo)} til {number.shown(hi)}" if not fmt.is_missing(lo) else ""
        for lo, hi in zip(data["lower"], data["upper"], strict=True)
    ]
    return data


def goal_chart(data: pd.DataFrame, unit: str, number: Number) -> alt.LayerChart:
    """Each series a layer of its own look besides its colour: the history a line with points, the
    forecast dashed, its interval a band, the target a diamond on a dotted level."""
    color = alt.Color(
        "Serie:N",
        title=None,
        scale=alt.Scale(domain=list(SERIES), range=list(SERIES.values())),
        legend=alt.Legend(orient="bottom"),
    )
    x = charts.month_x()
    y = charts.value_y("value", unit.capitalize(), percent=number.percent)
    tooltip = ["Serie:N", "Måned:N", "Verdi:N", alt.Tooltip("Intervall:N", title="Prognoseintervall")]
    base = alt.Chart(data)
    band = (
        base.transform_filter(alt.datum.Serie == "Prognose")
        .transform_calculate(Serie="'Prognoseintervall'")
        .mark_area(opacity=0.6)
        .encode(x=x, y=alt.Y("lower:Q"), y2="upper:Q", color=color, tooltip=tooltip)
    )
    forecast = (
        base.transform_filter(alt.datum.Serie == "Prognose")
        .mark_line(strokeDash=[6, 4])
        .encode(x=x, y=y, color=color, tooltip=tooltip)
    )
    history = (
        base.transform_filter(alt.datum.Serie == "Utvikling")
        .mark_line(point=True)
        .encode(x=x, y=y, color=color, detail="segment:N", tooltip=tooltip)
    )
    target_level = (
        base.transform_filter(alt.datum.Serie == "Mål").mark_rule(strokeDash=[2, 3]).encode(y="value:Q", color=color)
    )
    target = (
        base.transform_filter(alt.datum.Serie == "Mål")
        .mark_point(shape="diamond", size=160, filled=True)
        .encode(x=x, y="value:Q", color=color, tooltip=tooltip)
    )
    return alt.layer(band, forecast, history, target_level, target)


@st.cache_data(show_spinner=False, max_entries=256)
def marked_goal_chart(
    data: pd.DataFrame, unit: str, number: Number, go_lives: pd.DataFrame, shown_from: pd.Timestamp | None
) -> charts.VegaLiteSpec:
    """goal_chart marking the initiative's start and the API go-lives of ``go_lives`` (charts.markers)."""
    chart = charts.marked(goal_chart(data, unit, number), charts.markers(go_lives), charts.month_x(), shown_from)
    return charts.vega_lite_spec(chart)


def series_table(data_by_goal: list[tuple[str, pd.DataFrame]], number: Number) -> ShownTable:
    """The charts' points: area, series, month, value and the forecast interval."""
    frame = pd.concat([data.assign(Område=area) for area, data in data_by_goal], ignore_index=True)
    return ShownTable.selected(
        frame,
        {
            "Område": ("Område", None),
            "Serie": ("Serie", None),
            "Måned": ("Måned", None),
            "value": ("Verdi", number),
            "lower": ("Nedre grense", number),
            "upper": ("Øvre grense", number),
        },
        {heading: pd.Series(True, index=frame.index) for heading in ("Verdi", "Nedre grense", "Øvre grense")},
    )


@st.fragment  # its filters rerun the charts only, on the copy the page was drawn from
def show_goal_charts(source: queries.Source, goals: pd.DataFrame, region_names: dict[str, str]) -> None:
    metric_names = dict(zip(goals["metric_id"], goals["name_nb"].fillna(goals["metric_id"]), strict=True))
    # The metric with goals in the most areas first (the national and regional coverage goals).
    by_areas = goals["metric_id"].value_counts()
    options = sorted(metric_names, key=lambda m: (-by_areas[m], metric_names[m]))
    metric_id = url_state.selected(
        st.selectbox, "Indikator", options, param=url_state.METRIC, key="maal_metric", format_func=metric_names.get
    )
    whole_history = layout.choose_whole_history(key="maal_period")
    shown_from = None if whole_history else charts.INITIATIVE_START
    go_lives = queries.api_go_lives(source)
    own_goals = goals[goals["metric_id"] == metric_id]
    unit = own_goals.iloc[0]["unit"] or ""
    number = labels.unit_number(unit)
    series = queries.goal_series(source, metric_id)
    shown = []
    columns = st.columns(2)
    for position, (_, goal) in enumerate(own_goals.iterrows()):
        area = area_name(goal["area"], region_names)
        data = goal_chart_data(goal, series, number, whole_history)
        area_go_lives = go_lives[(goal["area"] == "national") | (go_lives["health_region"] == goal["area"])]
        shown.append((area, data))
        with columns[position % 2]:
            status = labels.GOAL_STATUSES.get(goal["status"], goal["status"])
            st.markdown(
                f"**{area}** · {status} · mål {number.shown(goal['target_value'])} i {fmt.month(goal['target_date'])}"
            )
            accessibility.chart_with_table(
                marked_goal_chart(data, unit, number, area_go_lives, shown_from),
                series_table([(area, data)], number),
                title=f"{metric_names[metric_id]}, {area}",
                description="Utviklingen (heltrukken linje med punkter), prognosen (stiplet linje) med "
                "prognoseintervall (lyst felt) og målet (rombe på prikket linje).",
                key=f"maal_chart_{goal['area']}",
            )
            if not fmt.is_missing(goal["backtested_months"]):
                st.caption(
                    f"Prognoseintervallet er prøvd mot historikken inntil {int(goal['backtested_months'])} "
                    "måneder fram; lenger fram er det forlenget i samme takt."
                )
    layout.symbols_legend()
    layout.download_csv(
        series_table(shown, number),
        label="Last ned tallene i figurene (CSV)",
        file_name=f"mal-{metric_id}.csv",
        key="maal_series_csv",
    )


source = layout.page_header("Mål")
if "goal_status" not in queries.evaluation_tables(source):
    st.info("Ingen mål er publisert ennå. De publiseres ved neste `kritinfo run`.", icon=":material/info:")
    st.stop()
if not layout.complete_month_published(source):
    st.stop()
goals = queries.goal_status(source)
if goals.empty:
    st.info("Ingen mål er satt: legg dem inn i `goals.yml`.", icon=":material/info:")
    st.stop()

if goals["illustrative"].any():
    st.warning(
        f"**{ILLUSTRATIVE}.** Målene her viser hvordan målene følges opp. De byttes ut med de "
        "offisielle effekt- og resultatmålene når styringsdokumentet for tiltaket fastsetter dem.",
        icon=":material/info:",
    )
versions = ", ".join(sorted(goals["goals_version"].dropna().unique()))
st.caption(f"Målsett versjon {versions} · Status ut fra prognosen ved måldatoen")

region_names = dict(queries.areas(source)[["health_region", "health_region_name"]].drop_duplicates().values)
show_status_counts(goals)
table = goals_table(goals, region_names)
layout.show_table(table)
layout.symbols_legend()
layout.download_csv(table, label="Last ned målene (CSV)", file_name="mal-status.csv", key="maal_csv")

st.header("Utvikling og prognose")
show_goal_charts(source, goals, region_names)

with st.expander("Slik leses målene"):
    st.markdown(
        "\n".join(f"- **{labels.GOAL_STATUSES[s]}:** {text}" for s, text in STATUS_HELP.items())
        + "\n\nPrognosemetoden slik evalueringen beskriver den:"
    )
    st.markdown(f"> {goals.iloc[0]['method']}")
