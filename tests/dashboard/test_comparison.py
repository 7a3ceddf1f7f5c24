"""The comparison sections on Oversikt: the county tile map and its sortable table, the regions
side by side."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboards import tilemap
from dashboards.table import Number, ShownTable
from tests import serving_fixture as sf

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "counties.csv"


def test_every_county_has_its_own_tile_inside_the_grid():
    with SEED.open(encoding="utf-8") as seed:
        codes = {row["county_code"] for row in csv.DictReader(seed)}
    assert set(tilemap.TILES) == codes
    assert len(set(tilemap.TILES.values())) == len(codes)
    assert all(0 <= column < tilemap.COLUMNS and 0 <= row < tilemap.ROWS for column, row in tilemap.TILES.values())
    assert tilemap.TILES["56"][0] == tilemap.COLUMNS - 1 and tilemap.TILES["56"][1] == 0  # Finnmark top right


def test_overview_shows_the_tile_map_beside_a_sortable_county_table(serving_home: Path, app: AppTest):
    at = app.run()
    assert not at.exception
    assert "Fylkene på kartet, oktober 2026" in [h.value for h in at.subheader]
    assert "Helseregionene side om side" in [h.value for h in at.subheader]
    counties = at.dataframe[-1].value
    assert len(counties) == len(sf.COUNTIES)
    assert counties["Registreringsgrad i befolkningen"].dtype.kind == "f"  # sorts as numbers, not as text


def test_a_sortable_table_keeps_numbers_and_writes_a_hidden_one_as_colon():
    table = ShownTable.selected(
        pd.DataFrame({"county": ["Oslo", "Troms"], "persons": pd.array([24_500, None], dtype="Int64")}),
        {"county": ("Fylke", None), "persons": ("Personer", Number())},
    )
    styled = table.sortable_styler()
    assert list(styled.data["Personer"]) == [24_500.0, -math.inf]  # a hidden value sorts below every other
    assert ">24\u00a0500<" in styled.to_html() and ">:<" in styled.to_html()
