"""The Mål page under streamlit's AppTest, against the hand-made serving.duckdb."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from tests import serving_fixture as sf
from tests.dashboard.expected import csv_rows, pct, plain, thousands

PAGE = "views/maal.py"
ILLUSTRATIVE = "Illustrative mål – de offisielle målene er ikke publisert"
STATUS = {
    "on_track": "På sporet",
    "at_risk": "Usikker",
    "off_track": "Ikke på sporet",
    "insufficient_data": "For lite data",
}
NAMES = {d.metric_id: d.name_nb for d in sf.METRIC_DEFINITIONS}
UNITS = {d.metric_id: d.unit for d in sf.METRIC_DEFINITIONS}
HEADINGS = [
    "Indikator",
    "Område",
    "Utgangspunkt",
    "Siste verdi",
    "Siste måned",
    "Mål",
    "Måldato",
    "Prognose ved måldato",
    "Nedre grense",
    "Øvre grense",
    "Status",
]


def open_page(app: AppTest) -> AppTest:
    app.run()
    app.switch_page(PAGE)
    return app.run()


def area_name(area: str) -> str:
    return "Hele landet" if area == "national" else sf.REGIONS[area]


DECIMALS = {"prosent": 1, "timer": 1}  # other units: whole numbers


def shown_value(goal: sf.GoalRow, value: float | None) -> str:
    """On screen: percent metrics with one decimal and '%', hours with one decimal, counts whole."""
    if value is None:
        return ".."
    unit = UNITS[goal.metric_id]
    return pct(value) if unit == "prosent" else thousands(value, DECIMALS.get(unit, 0))


def written_value(goal: sf.GoalRow, value: float | None) -> str:
    return ".." if value is None else plain(value, DECIMALS.get(UNITS[goal.metric_id], 0))


def goals_in_page_order() -> list[sf.GoalRow]:
    return sorted(sf.GOALS, key=lambda g: (NAMES[g.metric_id], g.area != "national", g.area))


def expected_goal_rows(value) -> list[list[str]]:
    """A latest value published hidden (its metrics cell is) reads ':'; any other missing '..'."""
    return [
        [
            NAMES[g.metric_id],
            area_name(g.area),
            value(g, g.baseline_value),
            ":" if g.latest_value is None else value(g, g.latest_value),
            "oktober 2026",
            value(g, g.target_value),
            "desember 2029",
            value(g, g.forecast_at_target),
            value(g, g.lower_at_target),
            value(g, g.upper_at_target),
            STATUS[g.status],
        ]
        for g in goals_in_page_order()
    ]


def test_goals_are_labelled_illustrative_with_status_counts(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    assert len(at.warning) == 1
    assert ILLUSTRATIVE in at.warning[0].value
    assert {m.label: m.value for m in at.metric} == {
        "På sporet": "1",
        "Usikker": "2",
        "Ikke på sporet": "1",
        "For lite data": "1",
    }
    assert "Målsett versjon 1" in at.caption[0].value


def test_goal_table_shows_latest_value_target_forecast_and_status(serving_home: Path, app: AppTest):
    at = open_page(app)
    table = at.table[0]
    shown = convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
    assert list(table.value.columns) == HEADINGS
    expected = expected_goal_rows(shown_value)
    assert shown.astype(str).values.tolist() == expected
    # The latest national coverage of need is the overview's: 70 074 persons of a need of 118 350.
    assert expected[1][:4] == ["Registreringsgrad av anslått behov", "Hele landet", "40,0\u00a0%", "59,2\u00a0%"]
    # A goal without a forecast shows '..' (not available), never ':' (evaluation is not suppressed).
    assert expected[3][7:] == ["..", "..", "..", "For lite data"]
    # Three organisations sent through the API in the latest month: hidden in the mart and here.
    assert sf.api_organisations(12) == 3
    assert expected[4][:4] == ["Virksomheter som melder inn via API", "Hele landet", "0", ":"]


def test_goal_csv_holds_the_table_as_shown(serving_home: Path, app: AppTest, csv_downloads: dict):
    open_page(app)
    rows = csv_rows(csv_downloads["mal-status.csv"])
    assert rows[0] == HEADINGS
    assert rows[1:] == expected_goal_rows(written_value)


def chart_frames(at: AppTest) -> list:
    frames = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = convert_arrow_bytes_to_pandas_df(dataset.data.data)
            if "Serie" in frame.columns:
                frames.append(frame)
    return frames


def test_charts_show_history_forecast_band_and_target_per_area(serving_home: Path, app: AppTest):
    at = open_page(app)
    # The metric with goals in the most areas comes first: coverage of need (national and Helse Nord).
    assert at.selectbox(key="maal_metric").value == "registration_coverage_need"
    national, nord = chart_frames(at)

    history = national[national["Serie"] == "Utvikling"]
    assert [round(v, 9) for v in history["value"]] == [round(sf.national_coverage_need(i), 9) for i in range(13)]
    forecast = national[national["Serie"] == "Prognose"]
    goal = sf.GOALS[0]
    path = sf.forecast_path(goal)
    assert [d.date() for d in forecast["period_end"]] == [p[0] for p in path]
    assert [round(v, 9) for v in forecast["lower"]] == [round(p[2], 9) for p in path]
    assert [round(v, 9) for v in forecast["upper"]] == [round(p[3], 9) for p in path]
    target = national[national["Serie"] == "Mål"]
    target_points = zip(target["period_end"], target["value"], strict=True)
    assert [(d.date(), v) for d, v in target_points] == [(date(2029, 12, 31), 75.0)]

    nord_history = nord[nord["Serie"] == "Utvikling"]
    assert round(nord_history["value"].iloc[-1], 9) == round(sf.region_coverage_need("helse-nord", 12), 9)
    # Each chart says how far ahead its interval was checked against history.
    checked = f"Prognoseintervallet er prøvd mot historikken inntil {sf.BACKTESTED_MONTHS} måneder fram"
    assert sum(c.value.startswith(checked) for c in at.caption) == 2


def test_choosing_another_metric_shows_its_goals(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = open_page(app)
    at.selectbox(key="maal_metric").set_value("automatic_share").run()
    assert not at.exception
    (frame,) = chart_frames(at)
    history = frame[frame["Serie"] == "Utvikling"]
    assert [round(v, 9) for v in history["value"]] == [round(sf.national_automatic_share(i), 9) for i in range(13)]
    rows = csv_rows(csv_downloads["mal-automatic_share.csv"])
    assert rows[0] == ["Område", "Serie", "Måned", "Verdi", "Nedre grense", "Øvre grense"]
    assert rows[1] == ["Hele landet", "Utvikling", "oktober 2025", plain(sf.national_automatic_share(0), 1), "..", ".."]
    assert rows[-1] == ["Hele landet", "Mål", "desember 2029", "80,0", "..", ".."]


def test_official_goals_carry_no_illustrative_label(serving_home: Path, app: AppTest):
    with duckdb.connect(str(serving_home / "serving.duckdb")) as con:
        con.execute("UPDATE evaluation.goal_status SET illustrative = false")
    at = open_page(app)
    assert not at.exception
    assert len(at.warning) == 0


def test_without_published_goals_the_page_says_so(serving_home: Path, app: AppTest):
    with duckdb.connect(str(serving_home / "serving.duckdb")) as con:
        con.execute("DROP SCHEMA evaluation CASCADE")
    at = open_page(app)
    assert not at.exception
    assert [i.value for i in at.info] == ["Ingen mål er publisert ennå. De publiseres ved neste `kritinfo run`."]
    assert len(at.table) == 0


def test_the_indicator_chosen_on_effekt_opens_on_maal(serving_home: Path, app: AppTest):
    app.run()
    app.switch_page("views/effekt.py")
    at = app.run()
    at.selectbox(key="effekt_metric").set_value("automatic_share").run()
    at.selectbox(key="effekt_metric").set_value("registration_coverage_need").run()
    assert at.query_params["indikator"] == "registration_coverage_need"
    at.switch_page(PAGE)
    at.query_params.clear()  # a page switch in the browser starts from an address without parameters
    at.run()
    assert not at.exception
    assert at.selectbox(key="maal_metric").value == "registration_coverage_need"


def test_an_indicator_without_goals_in_the_address_falls_back_to_the_first(serving_home: Path, app: AppTest):
    app.run()
    app.switch_page(PAGE)
    app.query_params["indikator"] = "cost_per_new_person"  # published, but no goal is set for it
    at = app.run()
    assert not at.exception
    assert at.selectbox(key="maal_metric").value == "registration_coverage_need"
    assert "indikator" not in at.query_params
