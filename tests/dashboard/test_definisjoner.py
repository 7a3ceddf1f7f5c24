"""The Definisjoner page under streamlit's AppTest, against the hand-made serving.duckdb."""

from __future__ import annotations

from pathlib import Path

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from tests import serving_fixture as sf
from tests.dashboard.expected import csv_rows

PAGE = "views/definisjoner.py"
GRAINS = {"national": "Landet", "region": "Helseregion", "county": "Fylke"}
DIMENSIONS = {"channel": "Kanal", "organisation_type": "Virksomhetstype", "epj_product": "EPJ-produkt"}
# Freshness: the latest period of each metric in the fixture's metrics rows.
FRESHNESS = {"cost_per_new_person": "2025"}  # yearly: 31 December 2025; every other metric monthly
OVERVIEW = ["Indikator", "Enhet", "Geografi", "Fordelt på", "Kildemodell", "Sist oppdatert"]


def open_page(app: AppTest) -> AppTest:
    app.run()
    app.switch_page(PAGE)
    return app.run()


def expected_row(d: sf.MetricDefinition) -> dict[str, str]:
    return {
        "Indikator": d.name_nb,
        "Enhet": d.unit,
        "Geografi": ", ".join(GRAINS[g] for g in d.grains.split(",")),
        "Fordelt på": ", ".join(DIMENSIONS[x] for x in d.dimensions.split(",") if x) or "–",
        "Kildemodell": f"metric_{d.metric_id}",
        "Sist oppdatert": FRESHNESS.get(d.metric_id, "oktober 2026"),
        "ID": d.metric_id,
        "Definisjon": d.definition,
        "Teller": d.numerator or "–",
        "Nevner": d.denominator or "–",
        "Mandat": d.mandate,
    }


def by_name() -> list[sf.MetricDefinition]:
    return sorted(sf.METRIC_DEFINITIONS, key=lambda d: d.name_nb)


def test_overview_lists_every_metric_with_source_and_freshness(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    (table,) = at.table
    shown = convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
    assert list(table.value.columns) == OVERVIEW
    assert shown.astype(str).values.tolist() == [[expected_row(d)[h] for h in OVERVIEW] for d in by_name()]
    assert f"{len(sf.METRIC_DEFINITIONS)} indikatorer i indikatorregisteret" in at.caption[0].value


def test_each_metric_has_its_definition_counts_and_mandate(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert [h.value for h in at.header] == [d.name_nb for d in by_name()]
    texts = [m.value for m in at.markdown]
    for d in sf.METRIC_DEFINITIONS:
        row = expected_row(d)
        assert d.definition in texts
        assert f"> {d.mandate}" in texts
        details = next(t for t in texts if f"`metric_{d.metric_id}`" in t)
        assert f"**Teller:** {row['Teller']}" in details
        assert f"**Nevner:** {row['Nevner']}" in details
        assert f"**Sist oppdatert:** {row['Sist oppdatert']}" in details


def test_csv_holds_every_field_shown(serving_home: Path, app: AppTest, csv_downloads: dict):
    open_page(app)
    rows = csv_rows(csv_downloads["indikatorer-definisjoner.csv"])
    headings = list(expected_row(sf.METRIC_DEFINITIONS[0]))
    assert rows[0] == headings
    assert rows[1:] == [[expected_row(d)[h] for h in headings] for d in by_name()]
