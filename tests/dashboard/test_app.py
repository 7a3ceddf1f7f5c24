"""The dashboard under streamlit's AppTest, against the hand-made serving.duckdb."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests import serving_fixture as sf
from tests.dashboard.expected import NBSP, change, csv_rows, pct, plain, pp, thousands


def national(persons_of) -> tuple[int, float, float]:
    """Persons, % of population and % of need, from the fixture's county inputs."""
    persons = sum(persons_of(c) for c in sf.COUNTIES)
    population = sum(c.population for c in sf.COUNTIES)
    return persons, 100 * persons / population, 100 * persons / (population * sf.NEED_SHARE)


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.delta) for m in at.metric}


def test_key_figures_show_the_published_reference_month(serving_home: Path, app: AppTest):
    at = app.run()
    assert not at.exception

    persons, cov_pop, cov_need = national(lambda c: c.persons_reference)
    persons_1y, cov_pop_1y, cov_need_1y = national(lambda c: c.persons_year_before)
    share, share_1y = sf.national_automatic_share(12), sf.national_automatic_share(0)

    # Each indicator under its registry name with the metric's value (as on Effekt and Mål).
    assert metrics(at) == {
        "Personer med kritisk informasjon": (thousands(persons), change(persons - persons_1y, "personer")),
        "Registreringsgrad i befolkningen": (pct(cov_pop), pp(cov_pop - cov_pop_1y)),
        "Registreringsgrad av anslått behov": (pct(cov_need), pp(cov_need - cov_need_1y)),
        "Andel automatisk innmeldt via API": (pct(share), pp(share - share_1y)),
    }
    # The hand-chosen inputs, spelled out once so a reader can check the arithmetic.
    assert metrics(at)["Personer med kritisk informasjon"] == (f"70{NBSP}074", f"+21{NBSP}681{NBSP}personer")
    assert metrics(at)["Registreringsgrad av anslått behov"] == (f"59,2{NBSP}%", f"+18,3{NBSP}pp")
    assert metrics(at)["Andel automatisk innmeldt via API"][0] == f"60,5{NBSP}%"
    # Every figure here is better higher, and every one rose: green, and said in words.
    assert {m.proto.delta_description for m in at.metric} == {"fra okt. 2025 · bedring"}
    assert {m.proto.color for m in at.metric} == {MetricProto.GREEN}


def test_caption_names_reference_month_and_publication(serving_home: Path, app: AppTest):
    at = app.run()
    caption = at.caption[0].value
    assert "**oktober 2026**" in caption
    assert "31. okt. 2026" in caption
    assert "Publisert 3. nov. 2026 kl. 14.05" in caption
    assert "1. jan. 2024" in caption


def test_county_table_has_one_formatted_row_per_county(serving_home: Path, app: AppTest):
    at = app.run()
    assert not at.exception
    assert len(at.table) == 1
    table = at.table[0]
    shown = convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)

    assert list(table.value.columns) == [
        "Fylke",
        "Registreringsgrad i befolkningen",
        "Registreringsgrad av anslått behov",
        "Personer med kritisk informasjon",
        "Befolkning",
        "Helseregion",
    ]
    expected_rows = []
    for county in sorted(sf.COUNTIES, key=lambda c: c.code):
        persons = county.persons_reference
        if sf.is_suppressed(persons):
            cells = [":", ":", ":", thousands(county.population)]
        else:
            cells = [
                pct(100 * persons / county.population),
                pct(100 * persons / (county.population * sf.NEED_SHARE)),
                thousands(persons),
                thousands(county.population),
            ]
        expected_rows.append([county.name, *cells, sf.REGIONS[county.region]])
    assert shown.astype(str).values.tolist() == expected_rows
    assert ["Troms", ":", ":", ":", f"168{NBSP}000", "Helse Nord RHF"] in expected_rows


def test_region_chart_toggles_between_population_and_need(serving_home: Path, app: AppTest):
    at = app.run()
    toggle = at.button_group(key="oversikt_measure")
    assert toggle.value == "registration_coverage_population"
    assert value_axis_title(at) == "Registreringsgrad i befolkningen"

    toggle.set_value("registration_coverage_need")
    at.run()
    assert not at.exception
    assert value_axis_title(at) == "Registreringsgrad av anslått behov"


def value_axis_title(at: AppTest) -> str:
    """The title of the region chart's value axis (its first layer: the lines)."""
    return json.loads(at.get("vega_lite_chart")[0].proto.spec)["layer"][0]["encoding"]["y"]["title"]


def test_a_newly_published_copy_is_read_on_the_next_run(serving_home: Path, app: AppTest):
    at = app.run()
    assert metrics(at)["Personer med kritisk informasjon"][0] == f"70{NBSP}074"

    # Publish the way the pipeline does: write a new file, then os.replace it over the old.
    new_copy = serving_home / "serving.duckdb.new"
    sf.build_serving_db(new_copy)
    con = duckdb.connect(str(new_copy))
    con.execute(
        "UPDATE coverage_national_month SET persons_with_critical_info = 80000 WHERE period_end = ?",
        [sf.REFERENCE],
    )
    con.close()
    os.replace(new_copy, serving_home / "serving.duckdb")

    at.run()
    assert not at.exception
    assert metrics(at)["Personer med kritisk informasjon"][0] == f"80{NBSP}000"


def test_missing_serving_database_shows_info_not_traceback(empty_home: Path, app: AppTest):
    at = app.run()
    assert not at.exception
    assert len(at.info) == 1
    assert "kritinfo run" in at.info[0].value
    assert len(at.metric) == 0


def test_county_csv_holds_the_table_with_colon_for_suppressed(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = app.run()
    rows = csv_rows(csv_downloads["dekning-per-fylke-2026-10.csv"])
    assert rows[0] == list(at.table[0].value.columns)
    expected = []
    for county in sorted(sf.COUNTIES, key=lambda c: c.code):
        persons = county.persons_reference
        need = county.population * sf.NEED_SHARE
        counts = (
            [":", ":", ":"]
            if sf.is_suppressed(persons)
            else [plain(100 * persons / county.population, 1), plain(100 * persons / need, 1), str(persons)]
        )
        expected.append([county.name, *counts, str(county.population), sf.REGIONS[county.region]])
    assert rows[1:] == expected
    assert ["Troms", ":", ":", ":", "168000", "Helse Nord RHF"] in rows


def test_chart_choices_are_read_from_and_written_to_the_address(serving_home: Path, app: AppTest):
    app.query_params.update(dekning="registration_coverage_need", periode="hele")
    at = app.run()
    assert not at.exception
    assert at.button_group(key="oversikt_measure").value == "registration_coverage_need"
    assert at.button_group(key="oversikt_period").value == "hele"
    at.button_group(key="oversikt_measure").set_value("registration_coverage_population").run()
    assert "dekning" not in at.query_params  # the start view's choice is left out of the address
    assert at.query_params["periode"] == "hele"


def test_the_period_and_region_go_along_to_another_page(serving_home: Path, app: AppTest):
    at = app.run()
    at.button_group(key="oversikt_period").set_value("hele").run()
    at.switch_page("views/effekt.py")
    at.query_params.clear()  # a page switch in the browser starts from an address without parameters
    at.run()
    assert at.button_group(key="effekt_period").value == "hele"
    assert at.query_params["periode"] == "hele"
    at.selectbox(key="effekt_region").set_value("helse-vest").run()
    at.switch_page("views/maal.py")
    at.query_params.clear()
    at.run()
    assert not at.exception
    at.switch_page("views/effekt.py")
    at.query_params.clear()
    at.run()
    assert at.selectbox(key="effekt_region").value == "helse-vest"
    assert at.query_params["region"] == "helse-vest"
