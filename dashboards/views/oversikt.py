"""Oversikt: key figures for the reference month, coverage per health region over time,
and coverage per county. Only displays published rows (see dashboards/queries.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import charts, comparison, layout, queries, tilemap
from pipelines import nb_format as fmt
from dashboards.table import Number, ShownTable

MEASURES = {
    "coverage_pct_population": "Befolkningen",
    "coverage_pct_need": "Estimert behov",
}


def signed_number(value: float) -> str:
    return fmt.number(value, signed=True)


# (label, column of national_key_figures, value format, change format, st.metric options)
KEY_FIGURES = (
    ("Personer med kritisk informasjon", "persons_with_critical_info", fmt.number,
     signed_number, {"help": "Personer med minst én aktiv oppføring av kritisk informasjon "
                             "i kjernejournal ved utgangen av referansemåneden."}),
    ("Dekning av befolkningen", "coverage_pct_population", fmt.percent,
     fmt.percentage_points, {"help": "Personer med kritisk informasjon som andel av "
                                     "befolkningen."}),
    ("Dekning av estimert behov", "coverage_pct_need", fmt.percent,
     fmt.percentage_points, {"help": "Personer med kritisk informasjon som andel av "
                                     "estimert behov (5 % av befolkningen)."}),
    ("API-andel siste måned", "api_share_pct", fmt.percent,
     fmt.percentage_points, {"delta_color": "off",
                             "help": "Andel av nye oppføringer i referansemåneden som ble "
                                     "registrert via API (fra journalsystemet) og ikke i "
                                     "kjernejournalportalen."}),
)  # fmt: skip
TABLE_COLUMNS = {  # column of county_coverage -> (heading, number format or None for text)
    "county_name": ("Fylke", None),
    "health_region_name": ("Helseregion", None),
    "persons_with_critical_info": ("Personer med kritisk informasjon", Number()),
    "population": ("Befolkning", Number()),
    "coverage_pct_population": ("Dekning av befolkningen", Number(1, percent=True)),
    "coverage_pct_need": ("Dekning av estimert behov", Number(1, percent=True)),
}


def change(now: object, before: object, formatter: Callable[[float], str]) -> str | None:
    """A metric delta between two published values, or None when either is missing."""
    if fmt.is_missing(now) or fmt.is_missing(before):
        return None
    return formatter(now - before)


def show_caption(reference: date, info: pd.DataFrame) -> None:
    caption = f"Referansemåned: **{fmt.month(reference)}** (status per {fmt.day(reference)})"
    if not info.empty:
        row = info.iloc[0]
        caption += (
            f" · Datagrunnlag {fmt.day(row['data_from'])}–{fmt.day(row['data_until'])}"
            f" · Publisert {fmt.timestamp(row['published_at'])}"
        )
    st.caption(caption)


def show_key_figures(key: pd.DataFrame) -> None:
    """st.metric per key figure: reference month (row 0), change from a year earlier (row 1)."""
    current = key.iloc[0]
    previous = key.iloc[1] if len(key) > 1 else pd.Series(dtype=object)
    description = f"fra {fmt.month_short(previous['period_end'])}" if len(key) > 1 else None
    for column, (label, name, formatter, delta_formatter, options) in zip(
        st.columns(len(KEY_FIGURES)), KEY_FIGURES, strict=True
    ):
        if name == "api_share_pct" and not current["has_registrations"]:
            shown = fmt.NOT_AVAILABLE  # no registrations row published for the month
        else:
            shown = formatter(current[name])
        delta = change(current[name], previous.get(name), delta_formatter)
        if delta and delta[0] not in "+-":  # no change after rounding: no arrow, no colour
            options = {**options, "delta_arrow": "off", "delta_color": "off"}
        column.metric(
            label,
            shown,
            delta=delta,
            delta_description=description,
            border=True,
            **options,
        )


def show_region_chart(series: pd.DataFrame) -> None:
    measure = st.segmented_control(
        "Dekning av",
        options=list(MEASURES),
        format_func=MEASURES.get,
        default="coverage_pct_population",
        required=True,
        key="oversikt_measure",
    )
    chart_data = pd.DataFrame(
        {
            "period_end": series["period_end"],
            "value": series[measure],
            "Helseregion": series["health_region_name"],
            "Måned": series["period_end"].map(fmt.month),
            "Dekning": series[measure].map(fmt.percent),
        }
    )
    chart = (
        alt.Chart(chart_data)
        .mark_line(point=True)
        .encode(
            x=charts.month_x(),
            y=charts.value_y("value", f"Dekning av {MEASURES[measure].lower()}", percent=True),
            color=alt.Color(
                "Helseregion:N",
                title=None,
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["Helseregion:N", "Måned:N", "Dekning:N"],
        )
    )
    st.altair_chart(chart, width="stretch")


def show_county_table(counties: pd.DataFrame, reference: date) -> None:
    table = ShownTable.selected(counties, TABLE_COLUMNS)
    layout.show_table(table)
    layout.download_csv(table, label="Last ned tabellen (CSV)",
                        file_name=f"dekning-per-fylke-{reference:%Y-%m}.csv", key="oversikt_csv")


def show_definitions(info: pd.DataFrame) -> None:
    threshold = None if info.empty else info.iloc[0]["suppression_threshold"]
    limit = "" if fmt.is_missing(threshold) else f" (1–{int(threshold)} personer)"
    st.markdown(
        f"""
- **Registrert:** en person telles når hun eller han har minst én aktiv oppføring av kritisk
  informasjon i kjernejournal ved utgangen av måneden.
- **Geografi:** personen telles i fylket (og helseregionen) til sist kjente bostedskommune.
- **Estimert behov:** 5 % av befolkningen (kilde: e-helsemonitor, ehelse.no).
  *Dekning av estimert behov* er personer med kritisk informasjon som andel av dette.
- **Referansemåned:** siste hele måned. Bare hele måneder publiseres. Endringene er målt
  mot samme måned året før.
- **Skjermede tall:** `{fmt.SUPPRESSED}` betyr at tallet er skjermet fordi det gjelder svært
  få personer{limit}; andelene i samme rad skjermes også. `{fmt.NOT_AVAILABLE}` betyr at
  tallet ikke finnes.
"""
    )


source = layout.page_header("Pasientens kritiske informasjon")

if not layout.complete_month_published(source):
    st.stop()
key = queries.national_key_figures(source)

reference = key.iloc[0]["period_end"].date()
info = queries.publish_info(source)

show_caption(reference, info)
show_key_figures(key)

st.subheader("Dekning per helseregion")
show_region_chart(queries.region_coverage_series(source))
comparison.render(source)

st.subheader(f"Dekning per fylke, {fmt.month(reference)}")
show_county_table(queries.county_coverage(source, reference), reference)
tilemap.render(source)

st.subheader("Slik leses tallene")
show_definitions(info)
