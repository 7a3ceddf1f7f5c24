"""Definisjoner: every metric of the registry (the published table metric_definitions) with its
definition, numerator and denominator, where and by what it is reported, the sentence of the
mandate it serves, the dbt model it comes from and how fresh its figures are."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import labels, layout, queries
from dashboards.table import ShownTable
from pipelines import nb_format as fmt

NONE = "–"
# Column of the shown definitions -> heading; the overview table shows the first six.
COLUMNS = {
    "name_nb": "Indikator",
    "unit": "Enhet",
    "grains_nb": "Geografi",
    "dimensions_nb": "Fordelt på",
    "source_model": "Kildemodell",
    "freshness": "Sist oppdatert",
    "metric_id": "ID",
    "definition": "Definisjon",
    "numerator": "Teller",
    "denominator": "Nevner",
    "mandate": "Mandat",
}
OVERVIEW = list(COLUMNS.values())[:6]


def shown_definitions(definitions: pd.DataFrame) -> pd.DataFrame:
    """The registry in bokmål, one row per metric, columns as COLUMNS."""
    shown = definitions.assign(
        grains_nb=definitions["grains"].map(lambda codes: labels.listed(codes, labels.GRAINS)),
        dimensions_nb=definitions["dimensions"].map(lambda codes: labels.listed(codes, labels.DIMENSIONS) or NONE),
        # No figures yet (null) before the first complete month.
        freshness=[
            NONE if fmt.is_missing(periods) else fmt.period(end, "month" if "month" in periods.split(",") else periods)
            for end, periods in zip(definitions["latest_period_end"], definitions["periods"], strict=True)
        ],
        numerator=definitions["numerator"].replace("", NONE),
        denominator=definitions["denominator"].replace("", NONE),
    )
    return shown[list(COLUMNS)].rename(columns=COLUMNS)


def show_metric(row: pd.Series) -> None:
    with st.container(border=True):
        st.header(row["Indikator"], anchor=row["ID"])
        st.markdown(row["Definisjon"])
        st.markdown(
            f"""
- **Teller:** {row["Teller"]}
- **Nevner:** {row["Nevner"]}
- **Enhet:** {row["Enhet"]}
- **Geografi:** {row["Geografi"]}
- **Fordelt på:** {row["Fordelt på"]}
- **Kilde:** `{row["Kildemodell"]}` (dbt-modell) · **Sist oppdatert:** {row["Sist oppdatert"]}
"""
        )
        st.markdown(f"> {row['Mandat']}")
        st.caption("Fra mandatet for Pasientens kritiske informasjon (Helse- og omsorgsdepartementet, 15. januar 2024)")


source = layout.page_header("Definisjoner")
definitions = queries.metric_definitions(source)
if definitions.empty:
    st.info("Ingen indikatorer er publisert ennå.", icon=":material/info:")
    st.stop()
layout.complete_month_published(source)  # the registry is shown either way

shown = shown_definitions(definitions)
info = queries.publish_info(source)
caption = f"{fmt.number(len(shown))} indikatorer i indikatorregisteret"
if not info.empty:
    caption += f" · Publisert {fmt.timestamp(info.iloc[0]['published_at'])}"
st.caption(caption)

table = ShownTable(shown, numbers={})
layout.show_table(ShownTable(shown[OVERVIEW], numbers={}))
layout.download_csv(
    table, label="Last ned definisjonene (CSV)", file_name="indikatorer-definisjoner.csv", key="definisjoner_csv"
)

for _, metric in shown.iterrows():
    show_metric(metric)
