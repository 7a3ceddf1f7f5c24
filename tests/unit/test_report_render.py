"""The evaluation report (pipelines/report/render.py) from a small hand-made package: the PDF
renders with text on every page, both formats carry the sections and the figures in bokmål, and
no count from 1 to the suppression threshold is printed."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pypdfium2
import pytest

from pipelines.report.render import write_report

NBSP = "\u00a0"
THRESHOLD = 4
SMALL_COUNT = 3  # planted in every count field the report prints; must show as ':'
HEADINGS = [
    "Status per mål",
    "Framdrift siden forrige rapport",
    "Avvik",
    "Risiko",
    "Økonomi",
    "Kvalitet i datagrunnlaget",
    "Revisjoner",
    "Kommentar fra analytiker",
    "Om rapporten",
]
BUDGET_2026 = 12_000_000
NEW_PERSONS_2026 = 1_600
COMMENTARY = """# Tiltak

Framdriften i Helse Nord er for svak.

- Flere EPJ-leverandører tas i bruk
- Opplæring av fastleger
"""

METRIC_KEY = """metric_id VARCHAR, period_end DATE, period VARCHAR, grain VARCHAR, health_region VARCHAR,
    county_code VARCHAR, dimension_name VARCHAR, dimension_value VARCHAR"""
TABLES = {
    "metric_definitions": """metric_id VARCHAR, name_nb VARCHAR, definition VARCHAR, numerator VARCHAR,
        denominator VARCHAR, unit VARCHAR, grains VARCHAR, dimensions VARCHAR, mandate VARCHAR,
        source_model VARCHAR, periods VARCHAR, latest_period_end DATE""",
    "metrics": f"{METRIC_KEY}, numerator DOUBLE, denominator DOUBLE, value DOUBLE",
    "revisions": f"{METRIC_KEY}, previous_value DOUBLE, current_value DOUBLE, difference DOUBLE",
    "coverage_by_region_month": """period_end DATE, health_region VARCHAR, health_region_name VARCHAR,
        persons_with_critical_info BIGINT, population BIGINT, estimated_need DOUBLE,
        coverage_pct_population DOUBLE, coverage_pct_need DOUBLE""",
    "goal_status": """goal_id VARCHAR, metric_id VARCHAR, area VARCHAR, baseline_value DOUBLE,
        baseline_date DATE, target_value DOUBLE, target_date DATE, latest_value DOUBLE,
        latest_period_end DATE, forecast_at_target DOUBLE, lower_at_target DOUBLE,
        upper_at_target DOUBLE, status VARCHAR, backtested_months INTEGER, method VARCHAR,
        illustrative BOOLEAN, goals_version VARCHAR""",
    "goal_forecasts": "goal_id VARCHAR, period_end DATE, forecast DOUBLE, lower DOUBLE, upper DOUBLE",
    "data_quality_by_reason_daily": "arrived_on DATE, reason_code VARCHAR, reason_label VARCHAR, lines BIGINT",
    "data_quality_unusual_data": "finding VARCHAR, label_nb VARCHAR, unit_nb VARCHAR, count BIGINT, last_month DATE",
}


def months(first: date, count: int) -> list[date]:
    ends = []
    year, month = first.year, first.month
    for _ in range(count):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(date.fromordinal(following.toordinal() - 1))
        year, month = following.year, following.month
    return ends


def national(metric_id: str, period_end: date, value: float | None, numerator=None, denominator=None, period="month"):
    return (metric_id, period_end, period, "national", None, None, "total", "all", numerator, denominator, value)


def write_package(directory: Path) -> Path:
    """A package as of 15 November 2026 reporting October, after a package of 15 October."""
    coverage = [(end, 40.0 + i) for i, end in enumerate(months(date(2025, 1, 1), 22))]  # Jan 2025 - Oct 2026
    rows = {
        "metric_definitions": [
            (
                "registration_coverage_need",
                "Registreringsgrad av anslått behov",
                "",
                "",
                "",
                "prosent",
                "national,region",
                "",
                "",
                "metric_registration_coverage_need",
                "month",
                date(2026, 10, 31),
            ),
            (
                "api_organisations",
                "Virksomheter som melder inn via API",
                "",
                "",
                "",
                "virksomheter",
                "national,region",
                "",
                "",
                "metric_api_organisations",
                "month",
                date(2026, 10, 31),
            ),
            (
                "corrections_share",
                "Andel senere rettet eller inaktivert",
                "",
                "",
                "",
                "prosent",
                "national,region",
                "",
                "",
                "metric_corrections_share",
                "month",
                date(2026, 10, 31),
            ),
            (
                "cost_per_new_person",
                "Kostnad per nyregistrert person",
                "",
                "",
                "",
                "kroner per person",
                "national",
                "",
                "",
                "metric_cost_per_new_person",
                "year",
                date(2026, 12, 31),
            ),
        ],
        "metrics": [
            *(national("registration_coverage_need", end, value) for end, value in coverage),
            national("api_organisations", date(2026, 9, 30), 12),
            national("api_organisations", date(2026, 10, 31), SMALL_COUNT),
            national("corrections_share", date(2026, 9, 30), 2.5),
            national("corrections_share", date(2026, 10, 31), None),  # hidden
            national("cost_per_new_person", date(2025, 12, 31), 8_000_000 / 2, 8_000_000, 2, "year"),
            national(
                "cost_per_new_person",
                date(2026, 12, 31),
                BUDGET_2026 / NEW_PERSONS_2026,
                BUDGET_2026,
                NEW_PERSONS_2026,
                "year",
            ),
        ],
        "revisions": [
            (*national("registration_coverage_need", date(2026, 9, 30), None)[:8], 58.5, 60.0, 1.5),
        ],
        "coverage_by_region_month": [(date(2026, 10, 31), "helse-nord", "Helse Nord RHF", 100, 1000, 50.0, 10.0, 20.0)],
        "goal_status": [
            (
                "coverage-need-national",
                "registration_coverage_need",
                "national",
                40.0,
                date(2024, 1, 31),
                75.0,
                date(2029, 12, 31),
                61.0,
                date(2026, 10, 31),
                61.2,
                55.0,
                67.4,
                "at_risk",
                20,
                "",
                True,
                "7",
            ),
            (
                "coverage-need-helse-nord",
                "registration_coverage_need",
                "helse-nord",
                40.0,
                date(2024, 1, 31),
                75.0,
                date(2029, 12, 31),
                20.0,
                date(2026, 10, 31),
                30.0,
                25.0,
                35.0,
                "off_track",
                20,
                "",
                True,
                "7",
            ),
        ],
        "goal_forecasts": [("coverage-need-national", end, 61.2, 58.0, 64.0) for end in months(date(2026, 11, 1), 38)],
        "data_quality_by_reason_daily": [
            (date(2026, 10, 2), "json_syntax", "Ugyldig JSON", 40),
            (date(2026, 10, 3), "missing_field", "Manglende felt", SMALL_COUNT),
        ],
        "data_quality_unusual_data": [
            (
                "epj_product_several_spellings",
                "EPJ-produkter sendt med flere skrivemåter",
                "produkter",
                SMALL_COUNT,
                None,
            ),
        ],
    }
    con = duckdb.connect()
    (directory / "data").mkdir(parents=True)
    for table, columns in TABLES.items():
        con.execute(f"CREATE TABLE {table} ({columns})")
        if rows[table]:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[table][0]))})", rows[table])
        con.execute(f"COPY {table} TO '{directory / 'data' / table}.parquet' (FORMAT parquet)")
    con.close()
    meta = {
        "as_of": "2026-11-15",
        "reference_month": "2026-10",
        "cutoff": "2026-11-15T23:00:00+00:00",
        "previous_package": "2026-10-15",
        "meeting_date": "2026-11-26",
        "code_version": "abcdef0",
        "goals_version": "7",
        "calendar_version": "9",
        "suppression_threshold": THRESHOLD,
        "quality": {
            "files": 20,
            "lines_read": 1046,
            "loaded": 1000,
            "duplicates": SMALL_COUNT,
            "quarantined": 43,
            "late_events": SMALL_COUNT,
        },
        "input_files": [],
    }
    (directory / "datapackage.json").write_text(
        json.dumps({"name": "kritinfo-2026-11-15", "resources": [], "kritinfo": meta})
    )
    (directory / "commentary.md").write_text(COMMENTARY, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_report(write_package(tmp_path_factory.mktemp("package") / "2026-11-15"))


def words(text: str) -> str:
    """Text with every run of spaces (no-break ones too) and line breaks as one space."""
    return re.sub(r"\s+", " ", text.replace(NBSP, " ")).strip()


def html_text(markup: str) -> str:
    return words(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", markup, flags=re.S))))


def expected_cost() -> str:
    """Budget / persons written the bokmål way, independently of pipelines/nb_format.py."""
    return f"{round(BUDGET_2026 / NEW_PERSONS_2026):,} kr".replace(",", " ")


FORECAST = "Ved dagens utvikling ventes 61,2 % ved utgangen av 2029 (trolig mellom 55,0 % og 67,4 %); målet er 75 %"


def test_pdf_pages_render_with_text_and_the_sections(report: tuple[Path, Path]):
    _, pdf_path = report
    pdf = pypdfium2.PdfDocument(pdf_path)
    texts = []
    for page in pdf:
        pixels = page.render(scale=0.5, grayscale=True).to_numpy()
        assert pixels.std() > 5, "a blank page"
        texts.append(page.get_textpage().get_text_range())
    text = words(" ".join(texts))
    for heading in HEADINGS:
        assert heading in text
    assert FORECAST in text
    assert "risiko for å ikke nå målet" in text and "Helse Nord RHF" in text
    assert expected_cost() in text
    assert "Flere EPJ-leverandører tas i bruk" in text


def test_html_is_bokmal_with_ordered_headings_and_the_figures(report: tuple[Path, Path]):
    html_path, _ = report
    markup = html_path.read_text(encoding="utf-8")
    assert '<html lang="nb">' in markup
    headings = re.findall(r"<h([1-3])>([^<]*)</h\1>", markup)
    assert [text for level, text in headings if level == "2" and text in HEADINGS] == HEADINGS
    assert ("3", "Tiltak") in headings  # the commentary's heading, one level below its section
    assert markup.count('<img src="data:image/png;base64,') == 1  # the national goal's chart
    text = html_text(markup)
    assert FORECAST in text
    assert f'<tr><th scope="row">2026</th><td class="number">12{NBSP}000{NBSP}000{NBSP}kr</td>' in markup
    assert expected_cost() in text
    # The revised September value as the previous package published it.
    assert "Registreringsgrad av anslått behov 58,5 % 61,0 % +2,5 pp" in text
    assert "<li>Opplæring av fastleger</li>" in markup


def test_no_small_count_is_printed(report: tuple[Path, Path]):
    html_path, pdf_path = report
    text = html_text(html_path.read_text(encoding="utf-8"))
    # Each planted count of 3, where the report prints it.
    assert ": var duplikater" in text
    assert "kom etter fristen for den: :." in text
    assert "Manglende felt :" in text
    assert "EPJ-produkter sendt med flere skrivemåter: : produkter" in text
    assert "Virksomheter som melder inn via API 12 : :" in text  # now, and the change (12 -> 3) with it
    assert "2025 8 000 000 kr : :" in text  # 2 new persons; the cost per person would give them away
    # Parts with a hidden one hide their totals: quarantine (40 + 3) and lines read.
    assert "lest 20 filer med : linjer" in text and ": ble satt i karantene" in text
    assert "Andel senere rettet eller inaktivert 2,5 % : :" in text  # hidden NULL
    pdf_text = words(" ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf_path)))
    for count in ("1046", "1 046", "43", "2 filer"):
        assert count not in text and count not in pdf_text
    assert not re.search(r"(?<![\d,])[1-4] (duplikater|hendelser|produkter|linjer)", text + pdf_text)
