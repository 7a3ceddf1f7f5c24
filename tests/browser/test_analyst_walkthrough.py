"""The analyst's walk-through of issue 13 (docs/analyst-walkthrough.md) in headless chromium, on the
session's dashboard (``dashboard_url`` on the hand-made copy): the tasks whose answer no other test
already finds. Expected figures and names are read from the served DuckDB copy, not computed by the
dashboard's code."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from playwright.sync_api import Page, expect

from tests.browser.page_actions import RENDER_TIMEOUT_MS, choose, metric, open_rendered

NBSP = "\u00a0"
MONTHS = (
    "januar februar mars april mai juni juli august september oktober november desember"
).split()  # bokmål month names, written out here rather than taken from the dashboard
OVERVIEW = "Pasientens kritiske informasjon"
PAGES = {
    "": OVERVIEW,
    "maal": "Mål",
    "effekt": "Effekt",
    "datakvalitet": "Datakvalitet",
    "definisjoner": "Definisjoner",
    "rapporter": "Rapporter",
}
PAGES_WITH_PERSON_COUNTS = ("", "effekt", "maal")  # the pages whose figures can be hidden
LEGEND = "= skjult for å verne personvernet"
PHONE = {"width": 390, "height": 844}


def served(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + f"{NBSP}%"


def month_name(day) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def test_api_share_has_one_name_and_one_value_on_oversikt_effekt_and_maal(
    page: Page, dashboard_url: str, served_home: Path
):
    [(name, value, period_end)] = served(
        served_home,
        "SELECT d.name_nb, m.value, m.period_end FROM metrics m JOIN metric_definitions d USING (metric_id) "
        "WHERE m.metric_id = 'automatic_share' AND m.grain = 'national' AND m.dimension_name = 'total' "
        "AND m.period = 'month' ORDER BY m.period_end DESC LIMIT 1",
    )
    expected, month = percent(value), month_name(period_end)

    open_rendered(page, dashboard_url, OVERVIEW)
    expect(metric(page, name)).to_have_text(expected)
    expect(page.get_by_text(f"Referansemåned: {month}")).to_be_visible()

    open_rendered(page, f"{dashboard_url}/effekt", "Effekt")
    choose(page, "Indikator", name)
    expect(metric(page, name)).to_have_text(expected, timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(f"siste periode: {month}$"))).to_be_visible()

    open_rendered(page, f"{dashboard_url}/maal", "Mål")
    goals = page.locator('[data-testid="stTable"]').first
    headings = goals.locator("thead th").all_inner_texts()
    row = goals.locator("tbody tr").filter(has_text=name).filter(has_text="Hele landet")
    cells = dict(
        zip(headings[-len(headings) :], row.locator("th, td").all_inner_texts()[-len(headings) :], strict=True)
    )
    assert (cells["Indikator"], cells["Siste verdi"], cells["Siste måned"]) == (name, expected, month)


def test_symbol_legend_is_on_every_page_that_can_show_hidden_cells(page: Page, dashboard_url: str):
    for path, title in PAGES.items():
        open_rendered(page, f"{dashboard_url}/{path}", title)
        symbols = page.locator('[data-testid="stTable"] td').filter(has_text=re.compile(r"^(:|\.\.)$"))
        if path in PAGES_WITH_PERSON_COUNTS or symbols.count():
            expect(page.locator('[data-testid="stCaptionContainer"]', has_text=LEGEND).first).to_be_visible()


def change_verdict(page: Page, name: str) -> tuple[str, str] | None:
    """The sign and the words of the change shown under key figure ``name`` (None without a sign)."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=name)
    )
    delta = box.locator('[data-testid="stMetricDelta"]')
    if not delta.count():
        return None
    signed = re.search(r"([+-])\s*[\d\s,]+\s*([^\d\s]+)", delta.inner_text())
    if signed is None:
        return None
    assert signed.group(2) not in ("", "%"), f"{name}: a change without its unit: {delta.inner_text()!r}"
    words = box.inner_text()
    return signed.group(1), "bedring" if "bedring" in words else "forverring" if "forverring" in words else ""


def test_a_change_says_better_or_worse_by_the_metrics_direction(page: Page, dashboard_url: str, served_home: Path):
    directions = dict(served(served_home, "SELECT name_nb, up_is_good FROM metric_definitions"))
    overview = [
        n for (n,) in served(served_home, "SELECT name_nb FROM metric_definitions WHERE overview_position >= 0")
    ]
    checked = []
    open_rendered(page, dashboard_url, OVERVIEW)
    for name in overview:
        # The key figures render after the page's heading: a change is read once its figure is there.
        expect(page.locator('[data-testid="stMetricLabel"]', has_text=name)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        checked.append((name, change_verdict(page, name)))
    open_rendered(page, f"{dashboard_url}/effekt", "Effekt")
    for name in sorted(n for n, up in directions.items() if not up):  # those better lower
        choose(page, "Indikator", name)
        expect(page.locator('[data-testid="stMetricLabel"]', has_text=name)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        checked.append((name, change_verdict(page, name)))
    shown = [(name, verdict) for name, verdict in checked if verdict is not None]
    assert {directions[name] for name, _ in shown} == {True, False}, checked  # both directions met
    for name, (sign, words) in shown:
        assert words == ("bedring" if (sign == "+") == directions[name] else "forverring"), (name, sign, words)


def test_the_county_table_sorts_by_a_click_on_a_heading(page: Page, dashboard_url: str, served_home: Path):
    counties = [n for (n,) in served(served_home, "SELECT DISTINCT county_name FROM coverage_by_county_month")]
    open_rendered(page, dashboard_url, OVERVIEW)
    table = page.locator('.st-key-chart-tilemap_chart [data-testid="stDataFrame"]')
    table.scroll_into_view_if_needed()
    first = table.get_by_test_id("glide-cell-0-0")
    expect(first).not_to_have_text(min(counties))  # the table comes in county-number order
    box = table.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 15)  # the heading of the first column, Fylke
    expect(first).to_have_text(min(counties))


def test_tile_map_shows_every_county_with_its_table_beside(page: Page, dashboard_url: str, served_home: Path):
    [(counties,)] = served(
        served_home,
        "SELECT count(DISTINCT county_code) FROM coverage_by_county_month "
        "WHERE period_end = (SELECT max(period_end) FROM coverage_by_county_month)",
    )
    open_rendered(page, dashboard_url, OVERVIEW)
    block = page.locator(".st-key-chart-tilemap_chart")
    chart = block.locator('[data-testid="stVegaLiteChart"]')
    tiles = chart.evaluate(
        "c => [...c.querySelectorAll('g.mark-rect path')].filter(p => !p.closest('.role-legend')).length"
    )
    assert tiles == counties
    table = block.locator('[data-testid="stDataFrame"]')
    expect(table.locator("table[role=grid]")).to_have_attribute("aria-rowcount", str(counties + 1))
    map_box, table_box = chart.bounding_box(), table.bounding_box()
    assert table_box["x"] >= map_box["x"] + map_box["width"] - 2  # beside, not under
    assert table_box["y"] < map_box["y"] + map_box["height"]


def test_regions_side_by_side_share_one_value_axis(page: Page, dashboard_url: str, served_home: Path):
    regions = sorted(
        n for (n,) in served(served_home, "SELECT DISTINCT health_region_name FROM coverage_by_region_month")
    )
    open_rendered(page, dashboard_url, OVERVIEW)
    chart = page.locator('.st-key-chart-comparison_chart [data-testid="stVegaLiteChart"]')
    panels = chart.evaluate("c => [...c.querySelectorAll('.role-scope.cell .role-title text')].map(t => t.textContent)")
    assert sorted(panels) == regions
    # One value axis per row of panels, the same ticks on each: the panels share the scale.
    axes = chart.evaluate(
        """c => [...c.querySelectorAll('.role-row-header .role-axis')]
            .map(a => [...a.querySelectorAll('.role-axis-label text')].map(t => t.textContent).join('|'))"""
    )
    assert len(axes) >= 2 and len(set(axes)) == 1, axes


def test_adoption_per_epj_product_is_on_effekt(page: Page, dashboard_url: str, served_home: Path):
    products = {
        p
        for (p,) in served(
            served_home, "SELECT DISTINCT dimension_value FROM metrics WHERE dimension_name = 'epj_product'"
        )
    }
    assert products
    open_rendered(page, f"{dashboard_url}/effekt", "Effekt")
    expect(page.get_by_role("heading", name="API-bruk per EPJ-produkt")).to_be_visible()
    chart = page.locator('.st-key-chart-adoption_chart [data-testid="stVegaLiteChart"]')
    expect(chart).to_have_attribute("aria-label", re.compile("EPJ-produkt"))
    named = set(chart.locator("svg .role-mark text, svg .mark-text text").all_text_contents())
    assert products <= named  # each product named at its line


def test_key_columns_are_in_view_on_a_phone(chromium_browser, dashboard_url: str, served_home: Path):
    coverages = [
        n
        for (n,) in served(
            served_home,
            "SELECT name_nb FROM metric_definitions WHERE metric_id LIKE 'registration_coverage_%' ORDER BY 1",
        )
    ]
    context = chromium_browser.new_context(viewport=PHONE, locale="nb-NO", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        for path, title, key_columns in (
            ("", OVERVIEW, ["Fylke", *coverages]),
            ("effekt", "Effekt", ["Periode", "Verdi (prosent)"]),
        ):
            open_rendered(page, f"{dashboard_url}/{path}", title)
            headings = page.locator('[data-testid="stTable"]').first.locator("thead th")
            for heading in key_columns:
                cell = headings.filter(has_text=heading).first
                cell.scroll_into_view_if_needed()
                box = cell.bounding_box()
                assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (path, heading, box)
    finally:
        context.close()
