"""The Datakvalitet page under streamlit's AppTest, against the hand-made serving.duckdb."""

from __future__ import annotations

from pathlib import Path

import duckdb
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from tests import serving_fixture as sf
from tests.dashboard.expected import NBSP, csv_rows, pct, thousands

PAGE = "views/datakvalitet.py"


def fixture_totals() -> dict[str, int]:
    loaded = sum(d[2] for d in sf.DATA_QUALITY_DAYS)
    duplicates = sum(d[3] for d in sf.DATA_QUALITY_DAYS)
    quarantined = sum(sum(d[4].values()) for d in sf.DATA_QUALITY_DAYS)
    return {
        "read": loaded + duplicates + quarantined,
        "loaded": loaded,
        "duplicates": duplicates,
        "quarantined": quarantined,
    }


def open_page(app: AppTest) -> AppTest:
    app.run()
    app.switch_page(PAGE)
    return app.run()


def test_key_figures_sum_the_published_days(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    t = fixture_totals()
    assert {m.label: m.value for m in at.metric} == {
        "Linjer lest": thousands(t["read"]),
        "Lastet": thousands(t["loaded"]),
        "Duplikater": thousands(t["duplicates"]),
        "I karantene": thousands(t["quarantined"]),
        "Andel i karantene": pct(100 * t["quarantined"] / t["read"]),
    }
    # The hand-chosen inputs, spelled out once: 3 725 + 41 + 11 = 3 777 lines, 0,3 % quarantined.
    assert t == {"read": 3_777, "loaded": 3_725, "duplicates": 41, "quarantined": 11}
    assert "29. okt. 2026–31. okt. 2026" in at.caption[0].value
    assert "4 filer" in at.caption[0].value.replace(NBSP, " ")


def test_reconciliation_line_says_whether_the_counts_add_up(serving_home: Path, app: AppTest):
    at = open_page(app)
    t = fixture_totals()
    equation = (
        f"lest = lastet + duplikater + i karantene: {thousands(t['read'])} = "
        f"{thousands(t['loaded'])} + {thousands(t['duplicates'])} + {thousands(t['quarantined'])}"
    )
    assert [s.value for s in at.success] == [f"Avstemt: {equation}"]
    assert len(at.error) == 0

    # A publication whose counts do not add up must say so, with the difference.
    with duckdb.connect(str(serving_home / "serving.duckdb")) as con:
        con.execute(
            "UPDATE data_quality_daily SET lines_read = lines_read + 2 WHERE arrived_on = ?",
            [sf.DATA_QUALITY_DAYS[0][0]],
        )
    at.run()
    assert not at.exception
    assert len(at.success) == 0
    assert len(at.error) == 1
    assert at.error[0].value.startswith(
        f"Stemmer ikke: lest = lastet + duplikater + i karantene: {thousands(t['read'] + 2)} = "
    )
    assert at.error[0].value.endswith("(avvik +2)")


def test_reason_table_has_every_reason_with_bokmal_label(serving_home: Path, app: AppTest):
    at = open_page(app)
    assert len(at.table) == 2
    table = at.table[0]
    shown = convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
    assert list(table.value.columns) == ["Årsak", "Kode", "Linjer i karantene", "Andel av karantenen"]

    lines = {code: 0 for code in sf.QUARANTINE_REASONS}
    for *_, by_reason in sf.DATA_QUALITY_DAYS:
        for code, n in by_reason.items():
            lines[code] += n
    total = sum(lines.values())
    order = sorted(lines, key=lambda code: (-lines[code], sf.QUARANTINE_REASONS[code]))
    expected = [[sf.QUARANTINE_REASONS[c], c, thousands(lines[c]), pct(100 * lines[c] / total)] for c in order]
    assert shown.astype(str).values.tolist() == expected
    assert expected[0] == ["Ugyldig JSON", "json_syntax", "5", f"45,5{NBSP}%"]


def test_daily_chart_has_each_outcome_on_each_arrival_day(serving_home: Path, app: AppTest):
    at = open_page(app)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    data = convert_arrow_bytes_to_pandas_df(charts[0].proto.datasets[0].data.data)
    shown = {(row.arrived_on.date(), row.Utfall): row.lines for row in data.itertuples()}
    expected = {}
    for day, _files, loaded, duplicates, by_reason in sf.DATA_QUALITY_DAYS:
        expected[(day, "Lastet")] = loaded
        expected[(day, "Duplikater")] = duplicates
        expected[(day, "I karantene")] = sum(by_reason.values())
    assert shown == expected


def test_without_a_publication_the_page_says_what_to_do(empty_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    assert len(at.info) == 1
    assert "kritinfo run" in at.info[0].value
    assert len(at.metric) == 0


def test_reason_csv_holds_the_table(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = open_page(app)
    rows = csv_rows(csv_downloads["karantene-etter-arsak.csv"])
    shown = convert_arrow_bytes_to_pandas_df(at.table[0].proto.arrow_data.styler.display_values)
    assert rows[0] == list(at.table[0].value.columns)
    # The same rows as on screen, numbers without grouping or unit.
    assert rows[1:] == [
        [label, code, lines, share.removesuffix(f"{NBSP}%")]
        for label, code, lines, share in shown.astype(str).values.tolist()
    ]


def test_unusual_data_table_shows_each_finding_most_first(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = open_page(app)
    assert not at.exception
    table = at.table[1]
    shown = convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
    assert list(table.value.columns) == ["Funn", "Antall", "Enhet", "Sist sett"]
    assert shown.astype(str).values.tolist() == [
        ["Oppføringer med mer enn én created-hendelse", thousands(1_204), "oppføringer", "september 2026"],
        ["Virksomheter som meldte inn som flere virksomhetstyper i samme måned", "3", "virksomheter", "oktober 2026"],
        ["Hendelser med versjon som ikke er et tall", "0", "hendelser", "aldri"],
    ]
    rows = csv_rows(csv_downloads["uvanlige-data.csv"])
    assert rows[1] == ["Oppføringer med mer enn én created-hendelse", "1204", "oppføringer", "september 2026"]
