"""Effekt: the metrics of the registry over time, in a chosen area and by a chosen breakdown,
and the estimated effect of the API rollout on registration. Only displays published rows (the
``metrics`` mart and the schema ``evaluation``; see dashboards/queries.py)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, adoption, charts, labels, layout, queries, url_state
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

# Rollout estimands (pipelines/evaluation/effect.py) in bokmål; others show their description.
ESTIMANDS = {
    "relative_change_months_0_to_11": "Endring de første 12 månedene etter oppstart",
    "relative_change_from_month_12": "Endring fra 12. måned etter oppstart",
}
EFFECT_INTRO = (
    "Hvor mye antallet personer som får kritisk informasjon registrert for første gang per måned "
    "i en helseregion, endrer seg når regionen tar i bruk API-et for kritisk informasjon, "
    "sammenlignet med antallet som var ventet uten API-et (relativ endring). Helseregionene tok i "
    "bruk API-et på ulike tidspunkter, så regioner som ennå ikke hadde startet, gir "
    "sammenligningsgrunnlaget."
)


# --- Metrics over time -----------------------------------------------------------------------


def choose_area(cells: pd.DataFrame, areas: pd.DataFrame) -> tuple[str, str | None, str | None, str]:
    """Region and county filters (only those the metric is published for): grain, region,
    county and the area's name."""
    region_names = dict(zip(areas["health_region"], areas["health_region_name"], strict=True))
    county_names = dict(zip(areas["county_code"], areas["county_name"], strict=True))
    county_regions = dict(zip(areas["county_code"], areas["health_region"], strict=True))
    region_filter, county_filter, _ = st.columns(3)

    published_regions = set(cells.loc[cells["grain"] == "region", "health_region"])
    region = None
    if published_regions:
        with region_filter:
            region = url_state.selected(
                st.selectbox,
                "Helseregion",
                [None, *(r for r in region_names if r in published_regions)],
                param=url_state.REGION,
                key="effekt_region",
                format_func=lambda r: labels.NATIONAL if r is None else region_names[r],
            )
    published_counties = set(cells.loc[cells["grain"] == "county", "county_code"])
    counties = [c for c in county_names if c in published_counties and region in (None, county_regions[c])]
    county = None
    if counties:
        whole = labels.NATIONAL if region is None else f"Hele {region_names[region]}"
        with county_filter:
            county = url_state.selected(
                st.selectbox,
                "Fylke",
                [None, *counties],
                param="fylke",
                key="effekt_county",
                format_func=lambda c: whole if c is None else county_names[c],
            )
    if county is not None:
        return "county", county_regions[county], county, county_names[county]
    if region is not None:
        return "region", region, None, region_names[region]
    return "national", None, None, labels.NATIONAL


def choose_breakdown(
    cells: pd.DataFrame, grain: str, region: str | None, county: str | None, metric_dimensions: str
) -> str:
    """The breakdown filter: the total or one of the breakdowns published for the area."""
    here = cells[
        (cells["grain"] == grain)
        & (cells["health_region"].fillna("") == (region or ""))
        & (cells["county_code"].fillna("") == (county or ""))
    ]
    published = set(here["dimension_name"])
    options = [d for d in ("total", *metric_dimensions.split(",")) if d in published]
    if len(options) <= 1:
        return "total"
    return url_state.selected(
        st.segmented_control,
        "Fordelt på",
        options,
        param="fordelt",
        key="effekt_dimension",
        format_func=labels.DIMENSIONS.get,
    )


def choose_values(series: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The value filter of a breakdown (channel, organisation type, type of critical
    information ...): the rows of the chosen values. A long breakdown starts with the
    charts.MAX_SERIES values highest in the latest period; the others can be added."""
    names = {v: labels.dimension_value(dimension, v) for v in series["dimension_value"].unique()}
    values = sorted(names, key=names.get)
    latest = series[series["period_end"] == series["period_end"].max()]
    highest = set(charts.most_first(latest, "dimension_value")[: charts.MAX_SERIES])
    chosen = url_state.chosen(
        st.multiselect,
        labels.DIMENSIONS.get(dimension, dimension),
        values,
        param="verdier",
        key=f"effekt_{dimension}",
        default=[v for v in values if v in highest],
        format_func=names.get,
    )
    if len(values) > charts.MAX_SERIES:
        st.caption(
            f"{labels.DIMENSIONS.get(dimension, dimension)} har {len(values)} verdier; figuren starter med de "
            f"{charts.MAX_SERIES} høyeste i siste periode. Velg flere i listen."
        )
    return series[series["dimension_value"].isin(chosen)]


def year_earlier(series: pd.DataFrame, latest: pd.Series) -> pd.Series | None:
    end = latest["period_end"]
    earlier = end.replace(year=end.year - 1) + pd.offsets.MonthEnd(0)
    rows = series[series["period_end"] == earlier]
    return None if rows.empty else rows.iloc[0]


def show_key_figures(total: pd.DataFrame, definition: pd.Series, number: Number, rise_is_good: bool | None) -> None:
    """The area's total in the latest period, its change from a year earlier (in the metric's unit,
    coloured by whether the change is an improvement), and its counts."""
    latest = total.iloc[0]
    before = year_earlier(total, latest)
    delta = None
    if before is not None and not fmt.is_missing(latest["value"]) and not fmt.is_missing(before["value"]):
        delta = labels.change_text(latest["value"] - before["value"], definition["unit"], number)
    value = value_text(latest, number)
    if not number.percent and value not in (fmt.SUPPRESSED, fmt.NOT_AVAILABLE):
        value = f"{value} {definition['unit']}"
    figures = [
        (definition["name_nb"], value, delta, f"{definition['definition']} {layout.definition_link(definition.name)}")
    ]
    if definition["numerator"]:
        figures.append(("Teller", fmt.number(latest["numerator"]), None, definition["numerator"]))
    if definition["denominator"]:
        figures.append(("Nevner", fmt.number(latest["denominator"]), None, definition["denominator"]))
    description = None if before is None else f"fra {fmt.period(before['period_end'].date(), before['period'])}"
    for column, (label, value, change, help_text) in zip(st.columns(len(figures)), figures, strict=True):
        options = labels.delta_options(change, rise_is_good) if change else {}
        column.metric(
            label,
            value,
            delta=change,
            delta_description=labels.change_description(description, change, rise_is_good) if change else None,
            border=True,
            help=help_text,
            **options,
        )


def value_text(row: pd.Series, number: Number) -> str:
    if fmt.is_missing(row["value"]):
        return fmt.missing_value_symbol(row["denominator"])
    return number.shown(row["value"])


def series_table(series: pd.DataFrame, definition: pd.Series, dimension: str, number: Number) -> ShownTable:
    """The rows shown, newest first and by breakdown value: period, breakdown value, numerator and
    denominator (where the metric has them) and value; a value over a zero denominator is not
    available ('..')."""
    frame = series.assign(
        period_text=[
            fmt.period(end.date(), period) for end, period in zip(series["period_end"], series["period"], strict=True)
        ],
        value_name=[labels.dimension_value(dimension, v) for v in series["dimension_value"]],
    ).sort_values(["period_end", "value_name"], ascending=[False, True])
    columns: dict[str, tuple[str, Number | None]] = {"period_text": ("Periode", None)}
    if dimension != "total":
        columns["value_name"] = (labels.DIMENSIONS.get(dimension, dimension), None)
    if definition["numerator"]:
        columns["numerator"] = ("Teller", Number())
    if definition["denominator"]:
        columns["denominator"] = ("Nevner", Number())
    value_heading = f"Verdi ({definition['unit']})"
    columns["value"] = (value_heading, number)
    return ShownTable.selected(frame, columns, {value_heading: frame["denominator"] == 0})


def series_chart(chart_data: pd.DataFrame, dimension: str, unit: str, number: Number, yearly: bool) -> alt.Chart:
    """The rows over time; a breakdown's values told apart by colour, dash pattern, point shape and
    their names at the line ends."""
    x = (
        alt.X(
            "period_end:T",
            title=None,
            timeUnit="utcyear",
            scale=alt.Scale(type="utc"),
            axis=alt.Axis(labelExpr="utcyear(datum.value)", tickCount="year"),
        )
        if yearly
        else charts.month_x()
    )
    y = charts.value_y("value", unit.capitalize(), percent=number.percent)
    encoding = {"x": x, "y": y, "detail": "segment:N", "tooltip": ["Serie:N", "Periode:N", "Verdi:N"]}
    if dimension == "total":
        return alt.Chart(chart_data).mark_line(point=True).encode(**encoding)
    names = sorted(chart_data["Serie"].unique())
    colour = alt.Color(
        "Serie:N",
        title=None,
        scale=alt.Scale(scheme="tableau20", domain=names),
        legend=alt.Legend(orient="bottom", columns=3),
    )
    lines = (
        alt.Chart(chart_data)
        .mark_line(point=True)
        .encode(
            color=colour,
            strokeDash=charts.series_dash("Serie:N", names),
            shape=charts.series_shape("Serie:N", names),
            **encoding,
        )
    )
    return alt.layer(lines, charts.end_labels(chart_data, "Serie", x, y, colour))


@st.cache_data(show_spinner=False, max_entries=256)
def series_chart_spec(
    series: pd.DataFrame, dimension: str, unit: str, number: Number, events: pd.DataFrame, whole_history: bool
) -> charts.VegaLiteSpec:
    """series_chart of the rows shown over the chosen period; a monthly one marks ``events``."""
    chart_data = charts.line_segments(series, "value", "dimension_value").assign(
        Periode=lambda d: [fmt.period(e.date(), p) for e, p in zip(d["period_end"], d["period"], strict=True)],
        Verdi=lambda d: d["value"].map(number.shown),
        Serie=lambda d: [labels.dimension_value(dimension, v) for v in d["dimension_value"]],
    )
    yearly = (series["period"] == "year").all()
    chart = series_chart(chart_data, dimension, unit, number, yearly)
    if not yearly:
        shown_from = None if whole_history else charts.INITIATIVE_START
        chart = charts.marked(chart, events, charts.month_x(), shown_from)
    return charts.vega_lite_spec(chart)


def show_series_chart(
    series: pd.DataFrame, dimension: str, unit: str, number: Number, events: pd.DataFrame, table: ShownTable
) -> None:
    """The chosen rows over the chosen period, with ``table`` under it; a monthly chart marks
    ``events`` (charts.markers)."""
    whole_history = layout.choose_whole_history(key="effekt_period")
    series = charts.in_period(series, whole_history)
    yearly = (series["period"] == "year").all()
    breakdown = "" if dimension == "total" else f" fordelt på {labels.DIMENSIONS.get(dimension, dimension).lower()}"
    accessibility.chart_with_table(
        series_chart_spec(series, dimension, unit, number, events, whole_history),
        table,
        title=f"Utviklingen over tid{breakdown}",
        description=(
            f"Verdien i {unit} per {'år' if yearly else 'måned'}"
            + (
                ""
                if dimension == "total"
                else "; hver verdi har sin farge, strek og sitt punktsymbol, og navnet står ved linjens slutt"
            )
            + ". Tallene står i tabellen under figuren."
        ),
        key="effekt_series_chart",
        table_open=True,
    )
    layout.symbols_legend()


def go_live_events(source: queries.Source, region: str | None) -> pd.DataFrame:
    """The initiative's start and the API go-live of the region shown (every region's nationally)."""
    go_lives = queries.api_go_lives(source)
    return charts.markers(go_lives if region is None else go_lives[go_lives["health_region"] == region])


@st.fragment  # its filters rerun this section only, on the copy the page was drawn from
def show_metrics(source: queries.Source) -> None:
    definitions = queries.metric_definitions(source)
    if definitions.empty:
        st.info("Ingen indikatorer er publisert ennå.", icon=":material/info:")
        return
    if not layout.complete_month_published(source):
        return
    names = dict(zip(definitions["metric_id"], definitions["name_nb"], strict=True))
    metric_id = url_state.selected(
        st.selectbox, "Indikator", list(names), param=url_state.METRIC, key="effekt_metric", format_func=names.get
    )
    definition = definitions.set_index("metric_id").loc[metric_id]
    number = labels.unit_number(definition["unit"])

    cells = queries.metric_cells(source, metric_id)
    grain, region, county, area = choose_area(cells, queries.areas(source))
    dimension = choose_breakdown(cells, grain, region, county, definition["dimensions"])
    total = queries.metric_series(source, metric_id, grain, region, county, "total")
    if total.empty:
        st.info(f"{definition['name_nb']} er ikke publisert for {area}.", icon=":material/info:")
        return
    series = (
        total
        if dimension == "total"
        else choose_values(queries.metric_series(source, metric_id, grain, region, county, dimension), dimension)
    )

    latest = total.iloc[0]
    st.caption(f"{area} · siste periode: **{fmt.period(latest['period_end'].date(), latest['period'])}**")
    show_key_figures(total, definition, number, queries.metric_rise_is_good(source).get(metric_id))
    table = series_table(series, definition, dimension, number)
    show_series_chart(series, dimension, definition["unit"], number, go_live_events(source, region), table)
    area_code = county or region or "nasjonalt"
    layout.download_csv(
        table, label="Last ned tallene (CSV)", file_name=f"{metric_id}-{area_code}-{dimension}.csv", key="effekt_csv"
    )


# --- Effect of the API rollout -----------------------------------------------------------------


def percent_of(fraction: float) -> float:
    return 100.0 * fraction


PHASES = ["Før oppstart", "Etter oppstart"]


def signed(fraction: float) -> str:
    return fmt.percent(percent_of(fraction), signed=True)


@st.cache_data(show_spinner=False, max_entries=16)
def event_study_chart(study: pd.DataFrame) -> charts.VegaLiteSpec:
    """Estimate and interval per month from go-live; before and after told apart by colour, the
    interval's dash and the point's shape."""
    chart_data = study.assign(
        Anslag=lambda d: d["estimate"].map(percent_of),
        Nedre=lambda d: d["ci_low"].map(percent_of),
        Øvre=lambda d: d["ci_high"].map(percent_of),
        Fase=lambda d: [PHASES[0] if m < 0 else PHASES[1] for m in d["event_month"]],
        Tekst=lambda d: [
            f"{signed(e)} ({signed(lo)} til {signed(hi)})"
            for e, lo, hi in zip(d["estimate"], d["ci_low"], d["ci_high"], strict=True)
        ],
    )
    first, last = int(study["event_month"].min()), int(study["event_month"].max())
    x = alt.X(
        "event_month:Q",
        title="Måneder fra API-et ble tatt i bruk i regionen",
        scale=alt.Scale(domain=[first - 0.5, last + 0.5], nice=False),
        axis=alt.Axis(format="d", tickMinStep=1, values=list(range(first, last + 1))),
    )
    color = alt.Color(
        "Fase:N",
        title=None,
        scale=alt.Scale(domain=PHASES, range=["#757575", "#4c78a8"]),
        legend=alt.Legend(orient="bottom"),
    )
    dash = alt.StrokeDash("Fase:N", legend=None, scale=alt.Scale(domain=PHASES, range=[[3, 2], [1, 0]]))
    shape = alt.Shape("Fase:N", scale=alt.Scale(domain=PHASES, range=["square", "circle"]), legend=None)
    tooltip = [alt.Tooltip("event_month:Q", title="Måned fra oppstart"), alt.Tooltip("Tekst:N", title="Endring (KI)")]
    base = alt.Chart(chart_data)
    intervals = base.mark_rule(strokeWidth=2).encode(
        x=x,
        y=charts.value_y("Nedre", "Relativ endring", percent=True),
        y2="Øvre:Q",
        color=color,
        strokeDash=dash,
        tooltip=tooltip,
    )
    points = base.mark_point(filled=True, size=70).encode(x=x, y="Anslag:Q", color=color, shape=shape, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#555").encode(y="y:Q")
    go_live = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    return charts.vega_lite_spec(alt.layer(zero, go_live, intervals, points))


def effect_tables(effects: pd.DataFrame, study: pd.DataFrame) -> tuple[ShownTable, ShownTable]:
    """The headline estimates and the event study, in percent, as shown."""
    pct = Number(1, percent=True, signed=True)
    estimates = ShownTable.selected(
        effects.assign(
            name=[ESTIMANDS.get(e, d) for e, d in zip(effects["estimand"], effects["description"], strict=True)],
            estimate_pct=effects["estimate"].map(percent_of),
            low_pct=effects["ci_low"].map(percent_of),
            high_pct=effects["ci_high"].map(percent_of),
            level_pct=effects["confidence_level"].map(percent_of),
        ),
        {
            "name": ("Anslag", None),
            "estimate_pct": ("Relativ endring (%)", pct),
            "low_pct": ("Nedre grense (%)", pct),
            "high_pct": ("Øvre grense (%)", pct),
            "level_pct": ("Konfidensnivå (%)", Number(0, percent=True)),
            "n_regions": ("Helseregioner", Number()),
            "n_months": ("Måneder", Number()),
        },
    )
    months = ShownTable.selected(
        study.assign(
            estimate_pct=study["estimate"].map(percent_of),
            low_pct=study["ci_low"].map(percent_of),
            high_pct=study["ci_high"].map(percent_of),
        ),
        {
            "event_month": ("Måneder fra oppstart", Number(signed=True)),
            "estimate_pct": ("Relativ endring (%)", pct),
            "low_pct": ("Nedre grense (%)", pct),
            "high_pct": ("Øvre grense (%)", pct),
            "n_regions": ("Helseregioner", Number()),
        },
    )
    return estimates, months


def show_effect(source: queries.Source) -> None:
    if not {"rollout_effect", "rollout_event_study"} <= queries.evaluation_tables(source):
        st.info("Effektanslaget er ikke publisert ennå.", icon=":material/info:")
        return
    effects = queries.rollout_effect(source)
    order = {estimand: position for position, estimand in enumerate(ESTIMANDS)}  # the ramp-up first
    effects = effects.sort_values("estimand", key=lambda e: e.map(order).fillna(len(order)), kind="stable")
    study = queries.rollout_event_study(source)
    if effects.empty:
        st.info(
            "Effekten kan ikke anslås ennå: det trengs minst én helseregion som har tatt i bruk "
            "API-et og én som ikke har det, med nok måneder før oppstart.",
            icon=":material/info:",
        )
        return
    st.markdown(EFFECT_INTRO)
    for column, effect in zip(st.columns(len(effects)), effects.itertuples(), strict=True):
        column.metric(
            ESTIMANDS.get(effect.estimand, effect.description),
            fmt.percent(percent_of(effect.estimate), signed=True),
            border=True,
            help=effect.description,
        )
        column.caption(
            f"{fmt.percent(percent_of(effect.confidence_level), 0)} konfidensintervall: "
            f"{fmt.percent(percent_of(effect.ci_low), signed=True)} til "
            f"{fmt.percent(percent_of(effect.ci_high), signed=True)}"
        )
    st.markdown("**Endring per måned før og etter oppstart** (punkt: anslag; strek: konfidensintervall)")
    estimates, months = effect_tables(effects, study)
    accessibility.chart_with_table(
        event_study_chart(study),
        months,
        title="Relativ endring per måned fra oppstart",
        description="Anslag (punkt) med konfidensintervall (strek) for hver måned før og etter at regionen tok i "
        "bruk API-et. Før oppstart: grå, stiplet strek og firkant; etter: blå, hel strek og sirkel.",
        key="effekt_event_study_chart",
    )
    with st.expander("Metode og tall"):
        st.markdown(
            "Månedene før oppstart skal ligge rundt 0 %: det viser at regionene fulgte hverandre "
            "før API-et kom. Metoden slik evalueringen beskriver den:"
        )
        st.markdown(f"> {effects.iloc[0]['method']}")
        layout.show_table(estimates)
        layout.show_table(months)
    left, right = st.columns(2)
    with left:
        layout.download_csv(
            estimates,
            label="Last ned effektanslagene (CSV)",
            file_name="api-effekt-anslag.csv",
            key="effekt_estimates_csv",
        )
    with right:
        layout.download_csv(
            months,
            label="Last ned hendelsesstudien (CSV)",
            file_name="api-effekt-per-maned.csv",
            key="effekt_event_study_csv",
        )


source = layout.page_header("Effekt")
st.header("Indikatorene over tid")
show_metrics(source)
adoption.render(source)
st.header("Effekt av API-innføringen")
show_effect(source)
