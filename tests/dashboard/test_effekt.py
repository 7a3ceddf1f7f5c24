"""The Effekt page under streamlit's AppTest, against the hand-made serving.duckdb."""

from __future__ import annotations

from pathlib import Path

import duckdb
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests import serving_fixture as sf
from tests.dashboard.expected import NBSP, change, csv_rows, pct, plain, pp, signed_pct, thousands

PAGE = "views/effekt.py"
MONTHS = [
    "oktober 2025",
    "november 2025",
    "desember 2025",
    "januar 2026",
    "februar 2026",
    "mars 2026",
    "april 2026",
    "mai 2026",
    "juni 2026",
    "juli 2026",
    "august 2026",
    "september 2026",
    "oktober 2026",
]
ORGANISATION_TYPES = {"gp": "Fastlege", "municipal": "Kommunal helse- og omsorgstjeneste", "hospital": "Sykehus"}


def open_page(app: AppTest) -> AppTest:
    app.run()
    app.switch_page(PAGE)
    return app.run()


def key_figures(at: AppTest) -> dict[str, tuple[str, str]]:
    """label -> (value, delta) of the metric's key figures (the effect estimates excluded)."""
    return {m.label: (m.value, m.proto.delta) for m in at.metric if not m.label.startswith("Endring")}


def shown_rows(at: AppTest) -> list[list[str]]:
    """The cells of the metric's table (the first on the page) as shown."""
    table = at.table[0]
    return convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values).astype(str).values.tolist()


def headings(at: AppTest) -> list[str]:
    return list(at.table[0].value.columns)


def automatic(index: int, regions=tuple(sf.REGIONS), types=tuple(ORGANISATION_TYPES)) -> tuple[int, int]:
    """(API, all) entries summed over regions and organisation types, from the fixture's inputs."""
    cells = [sf.automatic_entries(r, t, index) for r in regions for t in types]
    return sum(a for a, _ in cells), sum(n for _, n in cells)


def suppressed(count: int) -> bool:
    return 1 <= count <= sf.SUPPRESSION_THRESHOLD


def test_national_total_of_the_first_metric(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    assert at.selectbox(key="effekt_metric").value == "automatic_share"  # first by name
    api, total = automatic(12)
    api_before, total_before = automatic(0)
    share, share_before = 100 * api / total, 100 * api_before / total_before
    assert key_figures(at) == {
        "Andel automatisk innmeldt via API": (pct(share), pp(share - share_before)),
        "Teller": (thousands(api), ""),
        "Nevner": (thousands(total), ""),
    }
    assert (api, total) == (420, 694)  # 60,5 % of the entries came through the API in October 2026
    assert "Hele landet · siste periode: **oktober 2026**" in [c.value for c in at.caption]
    assert headings(at) == ["Periode", "Teller", "Nevner", "Verdi (prosent)"]
    assert shown_rows(at)[0] == ["oktober 2026", "420", "694", pct(share)]


def test_region_filter_changes_the_figures(serving_home: Path, app: AppTest):
    at = open_page(app)
    at.selectbox(key="effekt_region").set_value("helse-vest").run()
    assert not at.exception
    api, total = automatic(12, regions=("helse-vest",))
    api_before, total_before = automatic(0, regions=("helse-vest",))
    assert key_figures(at)["Andel automatisk innmeldt via API"] == (
        pct(100 * api / total),
        pp(100 * api / total - 100 * api_before / total_before),
    )
    assert key_figures(at)["Nevner"] == (thousands(total), "")
    assert "Helse Vest RHF · siste periode: **oktober 2026**" in [c.value for c in at.caption]
    # automatic_share is not published per county: no county filter.
    assert [s.key for s in at.selectbox] == ["effekt_metric", "effekt_region"]


def expected_breakdown_rows(region: str, types: list[str], value) -> list[list[str]]:
    """Newest month first, then the organisation types by name; a suppressed count and its rate
    ':' and a rate over nothing '..'."""
    rows = []
    for index in reversed(range(13)):
        for code in sorted(types, key=ORGANISATION_TYPES.get):
            api, total = sf.automatic_entries(region, code, index)
            hidden = suppressed(api) or suppressed(total)
            rate = ":" if hidden else ".." if total == 0 else value(100 * api / total)
            rows.append(
                [
                    MONTHS[index],
                    ORGANISATION_TYPES[code],
                    ":" if suppressed(api) else str(api),
                    ":" if suppressed(total) else str(total),
                    rate,
                ]
            )
    return rows


def test_breakdown_by_organisation_type_with_suppressed_and_empty_cells(
    serving_home: Path, app: AppTest, csv_downloads: dict
):
    at = open_page(app)
    at.selectbox(key="effekt_region").set_value("helse-nord").run()
    at.button_group(key="effekt_dimension").set_value("organisation_type").run()
    assert not at.exception
    assert at.multiselect(key="effekt_organisation_type").value == ["gp", "municipal", "hospital"]
    assert headings(at) == ["Periode", "Virksomhetstype", "Teller", "Nevner", "Verdi (prosent)"]
    expected = expected_breakdown_rows("helse-nord", list(ORGANISATION_TYPES), pct)
    assert shown_rows(at) == expected
    flat = [cell for row in expected for cell in row]
    assert ":" in flat and ".." in flat  # the fixture has both kinds of missing values here

    rows = csv_rows(csv_downloads["automatic_share-helse-nord-organisation_type.csv"])
    assert rows[0] == headings(at)
    assert rows[1:] == expected_breakdown_rows("helse-nord", list(ORGANISATION_TYPES), lambda v: plain(v, 1))
    for row in rows[1:]:
        for count in row[2:4]:
            assert count == ":" or not 1 <= int(count) <= sf.SUPPRESSION_THRESHOLD

    # The value filter narrows the rows to the chosen organisation types.
    at.multiselect(key="effekt_organisation_type").set_value(["hospital"]).run()
    assert shown_rows(at) == expected_breakdown_rows("helse-nord", ["hospital"], pct)


def test_county_filter_shows_a_suppressed_county(serving_home: Path, app: AppTest):
    at = open_page(app)
    at.selectbox(key="effekt_metric").set_value("registration_coverage_need").run()
    at.selectbox(key="effekt_region").set_value("helse-nord").run()
    assert at.selectbox(key="effekt_county").options == ["Hele Helse Nord RHF", "Troms", "Finnmark"]
    at.selectbox(key="effekt_county").set_value("55").run()
    assert not at.exception
    troms = next(c for c in sf.COUNTIES if c.code == "55")
    need = troms.population * sf.NEED_SHARE
    assert key_figures(at) == {
        "Registreringsgrad av anslått behov": (":", ""),
        "Teller": (":", ""),
        "Nevner": (thousands(need), ""),
    }
    assert {tuple(row[1:]) for row in shown_rows(at)} == {(":", thousands(need), ":")}

    at.selectbox(key="effekt_county").set_value("56").run()
    finnmark = next(c for c in sf.COUNTIES if c.code == "56")
    coverage = 100 * finnmark.persons_reference / (finnmark.population * sf.NEED_SHARE)
    assert key_figures(at)["Registreringsgrad av anslått behov"][0] == pct(coverage)


def test_a_quantile_has_no_numerator_and_shows_hours(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = open_page(app)
    at.selectbox(key="effekt_metric").set_value("delay_median_hours").run()
    assert not at.exception
    api, portal = sf.delay_entries("api", 12)[0], sf.delay_entries("portal", 12)[0]
    assert key_figures(at) == {
        "Tid til kjernejournal, median": (f"{thousands(sf.DELAY_TOTAL_HOURS, 1)} timer", change(0, "t", 1)),
        "Nevner": (thousands(api + portal), ""),
    }
    at.button_group(key="effekt_dimension").set_value("channel").run()
    assert headings(at) == ["Periode", "Kanal", "Nevner", "Verdi (timer)"]
    rows = {(row[0], row[1]): row[2:] for row in shown_rows(at)}
    api_name = "API (fra journalsystemet)"
    assert rows[(MONTHS[2], api_name)] == ["0", ".."]  # no API entries: nothing to take a median of
    assert rows[(MONTHS[3], api_name)] == [":", ":"]  # three entries: suppressed
    assert rows[(MONTHS[12], api_name)] == [
        str(sf.delay_entries("api", 12)[0]),
        thousands(sf.delay_entries("api", 12)[1], 1),
    ]
    # The chart's API line stops at the two months without a value instead of bridging them.
    chart = convert_arrow_bytes_to_pandas_df(at.get("vega_lite_chart")[0].proto.datasets[0].data.data)
    api_line = chart[chart["dimension_value"] == "api"].sort_values("period_end")
    assert [p.strftime("%Y-%m") for p in api_line["period_end"]][:3] == ["2025-10", "2025-11", "2026-02"]
    assert api_line["segment"].iloc[1] != api_line["segment"].iloc[2]
    assert api_line["segment"].iloc[2:].nunique() == 1
    csv = csv_rows(csv_downloads["delay_median_hours-nasjonalt-channel.csv"])
    assert ["desember 2025", api_name, "0", ".."] in csv
    assert ["januar 2026", api_name, ":", ":"] in csv


def test_a_yearly_metric_is_shown_per_year(serving_home: Path, app: AppTest):
    at = open_page(app)
    at.selectbox(key="effekt_metric").set_value("cost_per_new_person").run()
    assert not at.exception
    (budget_2024, persons_2024), (budget_2025, persons_2025) = sf.COST_YEARS.values()
    cost_2024, cost_2025 = budget_2024 / persons_2024, budget_2025 / persons_2025
    assert (cost_2024, cost_2025) == (850, 1_150)  # 10,2 MNOK / 12 000 and 23 MNOK / 20 000
    assert key_figures(at)["Kostnad per nyregistrert person"] == (
        f"{thousands(cost_2025)} kroner per person",
        change(cost_2025 - cost_2024, "kr"),
    )
    cost = next(m for m in at.metric if m.label == "Kostnad per nyregistrert person")
    assert cost.proto.color == MetricProto.RED  # a dearer new registration is a worsening
    assert cost.proto.delta_description == "fra 2024 · forverring"  # said in words, not by colour alone
    assert [s.key for s in at.selectbox] == ["effekt_metric"]  # national only: no area filters
    assert shown_rows(at) == [
        ["2025", thousands(budget_2025), thousands(persons_2025), thousands(cost_2025)],
        ["2024", thousands(budget_2024), thousands(persons_2024), thousands(cost_2024)],
    ]


def test_rollout_effect_with_interval_event_study_and_method(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = open_page(app)
    effects = {m.label: m.value for m in at.metric if m.label.startswith("Endring")}
    by_estimand = {e[0]: e for e in sf.ROLLOUT_EFFECTS}
    ramp_up, full = by_estimand["relative_change_months_0_to_11"], by_estimand["relative_change_from_month_12"]
    assert effects == {
        "Endring de første 12 månedene etter oppstart": signed_pct(100 * ramp_up[2]),
        "Endring fra 12. måned etter oppstart": signed_pct(100 * full[2]),
    }
    captions = [c.value for c in at.caption]
    for _, _, _, low, high in (ramp_up, full):
        assert f"95{NBSP}% konfidensintervall: {signed_pct(100 * low)} til {signed_pct(100 * high)}" in captions
    assert any(sf.ROLLOUT_METHOD in m.value for m in at.markdown)

    study = next(
        frame
        for chart in at.get("vega_lite_chart")
        for frame in (convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets)
        if "event_month" in frame.columns
    )
    assert {
        m: (round(e, 9), round(lo, 9), round(hi, 9))
        for m, e, lo, hi in zip(study["event_month"], study["Anslag"], study["Nedre"], study["Øvre"], strict=True)
    } == {
        m: (round(100 * e, 9), round(100 * lo, 9), round(100 * hi, 9)) for m, (e, lo, hi, _) in sf.EVENT_STUDY.items()
    }

    estimates = csv_rows(csv_downloads["api-effekt-anslag.csv"])
    assert estimates == [
        [
            "Anslag",
            "Relativ endring (%)",
            "Nedre grense (%)",
            "Øvre grense (%)",
            "Konfidensnivå (%)",
            "Helseregioner",
            "Måneder",
        ],
        ["Endring de første 12 månedene etter oppstart", "14,3", "5,2", "24,1", "95", "4", "30"],
        ["Endring fra 12. måned etter oppstart", "31,2", "18,4", "45,1", "95", "4", "30"],
    ]
    months = csv_rows(csv_downloads["api-effekt-per-maned.csv"])
    assert months[0] == [
        "Måneder fra oppstart",
        "Relativ endring (%)",
        "Nedre grense (%)",
        "Øvre grense (%)",
        "Helseregioner",
    ]
    assert months[1:] == [
        [str(m), plain(100 * e, 1), plain(100 * lo, 1), plain(100 * hi, 1), str(n)]
        for m, (e, lo, hi, n) in sorted(sf.EVENT_STUDY.items())
    ]


def test_without_evaluation_the_metrics_still_show(serving_home: Path, app: AppTest):
    with duckdb.connect(str(serving_home / "serving.duckdb")) as con:
        con.execute("DROP SCHEMA evaluation CASCADE")
    at = open_page(app)
    assert not at.exception
    assert [i.value for i in at.info] == ["Effektanslaget er ikke publisert ennå."]
    assert "Andel automatisk innmeldt via API" in key_figures(at)


def open_address(app: AppTest, **params: str) -> AppTest:
    """The Effekt page opened from an address holding ``params``."""
    app.run()
    app.switch_page(PAGE)
    app.query_params.update(params)
    return app.run()


def test_filters_are_read_from_the_address(serving_home: Path, app: AppTest):
    at = open_address(app, indikator="registration_coverage_need", region="helse-nord", fylke="55", periode="hele")
    assert not at.exception
    assert at.selectbox(key="effekt_metric").value == "registration_coverage_need"
    assert at.selectbox(key="effekt_region").value == "helse-nord"
    assert at.selectbox(key="effekt_county").value == "55"
    assert at.button_group(key="effekt_period").value == "hele"
    assert "Troms · siste periode: **oktober 2026**" in [c.value for c in at.caption]


def test_invalid_values_in_the_address_fall_back_to_the_start_view(serving_home: Path, app: AppTest):
    at = open_address(app, indikator="no_such_metric", region="atlantis", periode="1999", fordelt="x")
    assert not at.exception
    assert at.selectbox(key="effekt_metric").value == "automatic_share"
    assert at.selectbox(key="effekt_region").value is None
    assert at.button_group(key="effekt_period").value == "fra-2024"
    assert not {"indikator", "region", "periode", "fordelt"} & set(at.query_params)


def test_a_filter_change_is_written_to_the_address_and_the_start_view_leaves_it_empty(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert not {"indikator", "region", "fordelt", "verdier", "periode"} & set(at.query_params)
    at.selectbox(key="effekt_region").set_value("helse-nord").run()
    at.button_group(key="effekt_dimension").set_value("organisation_type").run()
    at.multiselect(key="effekt_organisation_type").set_value(["gp", "hospital"]).run()
    at.button_group(key="effekt_period").set_value("hele").run()
    assert at.query_params["region"] == "helse-nord"
    assert at.query_params["fordelt"] == "organisation_type"
    assert at.query_params["verdier"] == ["gp", "hospital"]
    assert at.query_params["periode"] == "hele"
    at.selectbox(key="effekt_region").set_value(None).run()
    at.button_group(key="effekt_period").set_value("fra-2024").run()
    assert "region" not in at.query_params
    assert "periode" not in at.query_params
