"""Oversikt: key figures for the reference month, registration per health region over time,
and per county. Only displays published rows (see dashboards/queries.py)."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import accessibility, charts, comparison, labels, layout, queries, tilemap, url_state
from dashboards.table import Number, ShownTable
from pipelines import nb_format as fmt

PERSONS = "Personer med kritisk informasjon"
PERSONS_HELP = "Personer med minst én aktiv oppføring av kritisk informasjon i kjernejournal ved utgangen av måneden."
# The registry's metrics among the key figures, named and valued by the registry (metrics mart).


def county_table_columns(coverages: list[str], names: dict[str, str]) -> dict[str, tuple[str, Number | None]]:
    """Column of county_coverage -> (heading, number format or None for text); a coverage column
    is headed by its metric's name. The county and its coverages first: on a phone (390 px) they
    are the columns in view before the table scrolls sideways."""
    return {
        "county_name": ("Fylke", None),
        **{
            column: (names.get(metric_id, metric_id), Number(1, percent=True))
            for column, metric_id in zip(queries.COVERAGE_COLUMNS, coverages, strict=True)
        },
        "persons_with_critical_info": (PERSONS, Number()),
        "population": ("Befolkning", Number()),
        "health_region_name": ("Helseregion", None),
    }


def change(now: object, before: object, number: Number, unit: str) -> str | None:
    """The change between two published values in ``unit``, or None when either is missing."""
    if fmt.is_missing(now) or fmt.is_missing(before):
        return None
    return labels.change_text(now - before, unit, number)


def year_before(reference: date) -> pd.Timestamp:
    return pd.Timestamp(reference) - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)


def show_caption(reference: date, info: pd.DataFrame) -> None:
    caption = f"Referansemåned: **{fmt.month(reference)}** (status per {fmt.day(reference)})"
    if not info.empty:
        row = info.iloc[0]
        caption += (
            f" · Datagrunnlag {fmt.day(row['data_from'])}–{fmt.day(row['data_until'])}"
            f" · Publisert {fmt.timestamp(row['published_at'])}"
        )
    st.caption(caption)


def key_figure(
    label: str, shown: str, shown_change: str | None, rise_is_good: bool | None, help_text: str, description: str
) -> dict:
    """st.metric arguments of one key figure: a change in its unit, coloured by its direction."""
    options = labels.delta_options(shown_change, rise_is_good) if shown_change else {}
    return {
        "label": label,
        "value": shown,
        "delta": shown_change,
        "delta_description": labels.change_description(description, shown_change, rise_is_good)
        if shown_change
        else None,
        "help": help_text,
        **options,
    }


def key_figures(
    persons: pd.DataFrame,
    values: pd.DataFrame,
    definitions: pd.DataFrame,
    rise_is_good: dict[str, bool],
    reference: date,
) -> list[dict]:
    """The persons registered and the registry's key metrics, nationally in the reference month,
    each with its change from the same month a year earlier."""
    earlier = year_before(reference)
    description = f"fra {fmt.month_short(earlier.date())}"
    now, before = persons.iloc[0], persons.iloc[1] if len(persons) > 1 else None
    persons_change = (
        None
        if before is None
        else change(now["persons_with_critical_info"], before["persons_with_critical_info"], Number(), "personer")
    )
    figures = [
        key_figure(
            PERSONS, fmt.number(now["persons_with_critical_info"]), persons_change, True, PERSONS_HELP, description
        )
    ]
    by_id = definitions.set_index("metric_id")
    for metric_id in queries.key_metrics(definitions):
        definition = by_id.loc[metric_id]
        number = labels.unit_number(definition["unit"])
        own = values[values["metric_id"] == metric_id].set_index("period_end")
        current = own.loc[pd.Timestamp(reference)] if pd.Timestamp(reference) in own.index else None
        previous = own.loc[earlier] if earlier in own.index else None
        if current is None:
            shown = fmt.NOT_AVAILABLE
        elif fmt.is_missing(current["value"]):
            shown = fmt.missing_value_symbol(current["denominator"])
        else:
            shown = number.shown(current["value"])
        metric_change = (
            None
            if current is None or previous is None
            else change(current["value"], previous["value"], number, definition["unit"])
        )
        help_text = f"{definition['definition']} {layout.definition_link(metric_id)}"
        figures.append(
            key_figure(definition["name_nb"], shown, metric_change, rise_is_good.get(metric_id), help_text, description)
        )
    return figures


def show_key_figures(figures: list[dict]) -> None:
    for column, figure in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(border=True, **figure)


@st.fragment  # its selectors rerun this chart only
def show_region_chart(series: pd.DataFrame, coverages: list[str], names: dict[str, str], events: pd.DataFrame) -> None:
    """Coverage per health region over the chosen period, one metric at a time."""
    measures = [m for m in coverages if m in set(series["metric_id"])]
    if not measures:
        st.info("Registreringsgraden per helseregion er ikke publisert ennå.", icon=":material/info:")
        return
    measure = url_state.selected(
        st.segmented_control, "Vis", measures, param="dekning", key="oversikt_measure", format_func=names.get
    )
    whole_history = layout.choose_whole_history(key="oversikt_period")
    own = charts.in_period(series[series["metric_id"] == measure], whole_history)
    shown_from = None if whole_history else charts.INITIATIVE_START
    accessibility.chart_with_table(
        region_chart(own, names[measure], events, shown_from),
        region_table(own, names[measure]),
        title=f"{names[measure]} per helseregion",
        description="Én linje per helseregion, måned for måned; hver region har sin strek og sitt punktsymbol. "
        "Stiplede loddrette linjer markerer tiltakets start og når regionene tok i bruk API-et.",
        key="oversikt_region_chart",
    )
    layout.symbols_legend()


@st.cache_data(show_spinner=False, max_entries=64)
def region_chart(
    own: pd.DataFrame, name: str, events: pd.DataFrame, shown_from: pd.Timestamp | None
) -> charts.VegaLiteSpec:
    """One line per region, told apart by colour, dash pattern and point shape; ``events``
    (charts.markers) from ``shown_from`` on marked."""
    chart_data = pd.DataFrame(
        {
            "period_end": own["period_end"],
            "value": own["value"],
            "Helseregion": own["health_region_name"],
            "Måned": own["period_end"].map(fmt.month),
            "Verdi": own["value"].map(fmt.percent),
        }
    )
    regions = sorted(chart_data["Helseregion"].unique())
    lines = (
        alt.Chart(chart_data)
        .mark_line(point=True)
        .encode(
            x=charts.month_x(),
            y=charts.value_y("value", name, percent=True),
            color=alt.Color(
                "Helseregion:N",
                title=None,
                scale=alt.Scale(scheme="tableau10", domain=regions),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=charts.series_dash("Helseregion:N", regions),
            shape=charts.series_shape("Helseregion:N", regions),
            tooltip=["Helseregion:N", "Måned:N", "Verdi:N"],
        )
    )
    return charts.vega_lite_spec(charts.marked(lines, events, charts.month_x(), shown_from))


def region_table(own: pd.DataFrame, name: str) -> ShownTable:
    return ShownTable.selected(
        own.assign(month=own["period_end"].map(fmt.month)).sort_values(
            ["period_end", "health_region_name"], ascending=[False, True]
        ),
        {
            "month": ("Måned", None),
            "health_region_name": ("Helseregion", None),
            "value": (name, Number(1, percent=True)),
        },
    )


def show_county_table(counties: pd.DataFrame, reference: date, coverages: list[str], names: dict[str, str]) -> None:
    table = ShownTable.selected(counties, county_table_columns(coverages, names))
    layout.show_table(table)
    layout.symbols_legend()
    layout.download_csv(
        table, label="Last ned tabellen (CSV)", file_name=f"dekning-per-fylke-{reference:%Y-%m}.csv", key="oversikt_csv"
    )


def show_definitions(info: pd.DataFrame, need: str) -> None:
    threshold = None if info.empty else info.iloc[0]["suppression_threshold"]
    limit = "" if fmt.is_missing(threshold) else f" (1–{int(threshold)} personer)"
    st.markdown(
        f"""
- **Registrert:** en person telles når hun eller han har minst én aktiv oppføring av kritisk
  informasjon i kjernejournal ved utgangen av måneden.
- **Geografi:** personen telles i fylket (og helseregionen) til sist kjente bostedskommune.
- **Anslått behov:** 5 % av befolkningen (kilde: e-helsemonitor, ehelse.no).
  *{need}* er personer med kritisk informasjon som andel av dette.
- **Referansemåned:** siste hele måned. Bare hele måneder publiseres. Endringene er målt
  mot samme måned året før.
- **Skjermede tall:** `{fmt.SUPPRESSED}` betyr at tallet er skjermet fordi det gjelder svært
  få personer{limit}; andelene i samme rad skjermes også. `{fmt.NOT_AVAILABLE}` betyr at
  tallet ikke finnes.
- **Indikatorene** er definert på siden [Definisjoner](/definisjoner).
"""
    )


def show_overview(source: queries.Source) -> None:
    if not layout.complete_month_published(source):
        return
    persons = queries.national_persons(source)
    reference = persons.iloc[0]["period_end"].date()
    info = queries.publish_info(source)
    definitions = queries.metric_definitions(source)
    names = dict(zip(definitions["metric_id"], definitions["name_nb"], strict=True))

    show_caption(reference, info)
    show_key_figures(
        key_figures(
            persons,
            queries.national_metric_values(source, queries.key_metrics(definitions)),
            definitions,
            queries.metric_rise_is_good(source),
            reference,
        )
    )

    st.header("Registreringsgrad per helseregion")
    coverages = queries.coverage_metrics(definitions)
    show_region_chart(
        queries.region_metric_series(source, coverages), coverages, names, charts.markers(queries.api_go_lives(source))
    )
    comparison.render(source)

    st.header(f"Registreringsgrad per fylke, {fmt.month(reference)}")
    show_county_table(queries.county_coverage(source, reference), reference, coverages, names)
    tilemap.render(source)

    st.header("Slik leses tallene")
    show_definitions(info, names[coverages[-1]])


show_overview(layout.page_header("Pasientens kritiske informasjon"))
