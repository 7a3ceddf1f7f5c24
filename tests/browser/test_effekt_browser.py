"""The Effekt page as a user sees it: `streamlit run` + headless Debian chromium."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from playwright.sync_api import Page, expect

from tests import serving_fixture as sf
from tests.browser.page_actions import (
    RENDER_TIMEOUT_MS,
    assert_counts_disclose_nothing,
    assert_no_error,
    choose,
    csv_rows,
    download,
    metric,
    metric_values,
    segment,
    wait_rendered,
)

NBSP = "\u00a0"
LAST_TEXT = "Endring per måned før og etter oppstart"
METRIC = "Andel automatisk innmeldt via API"


def open_effect(page: Page, url: str) -> None:
    page.goto(f"{url}/effekt")
    wait_rendered(page, downloads=3, last_text=LAST_TEXT)
    assert_no_error(page)


def automatic_share(index: int, regions: tuple[str, ...]) -> str:
    """The share through the API, from the fixture's inputs, as the page writes it."""
    cells = [sf.automatic_entries(r, o, index) for r in regions for o in sf.ORGANISATION_TYPES]
    share = 100 * sum(a for a, _ in cells) / sum(n for _, n in cells)
    return f"{share:.1f}".replace(".", ",") + f"{NBSP}%"


def test_effect_page_renders_and_a_filter_change_updates_the_figures(page: Page, dashboard_server, handmade_home: Path):
    open_effect(page, dashboard_server(handmade_home))
    national = automatic_share(12, tuple(sf.REGIONS))
    assert national == f"60,5{NBSP}%"
    expect(metric(page, METRIC)).to_have_text(national)
    shown = metric_values(page)
    assert shown["Endring de første 12 månedene etter oppstart"] == f"+14,3{NBSP}%"
    assert shown["Endring fra 12. måned etter oppstart"] == f"+31,2{NBSP}%"
    # the series, the adoption per EPJ product and the event study
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(3)

    choose(page, "Helseregion", "Helse Vest RHF")
    expect(metric(page, METRIC)).to_have_text(automatic_share(12, ("helse-vest",)), timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text("Helse Vest RHF · siste periode:")).to_be_visible()
    assert automatic_share(12, ("helse-vest",)) != national
    assert_no_error(page)


def test_downloaded_breakdown_shows_suppressed_cells_as_colon(page: Page, dashboard_server, handmade_home: Path):
    open_effect(page, dashboard_server(handmade_home))
    choose(page, "Helseregion", "Helse Nord RHF")
    expect(page.get_by_text("Helse Nord RHF · siste periode:")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    segment(page, "Fordelt på", "Virksomhetstype")
    expect(page.locator('[data-testid="stMultiSelect"]')).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    wait_rendered(page, downloads=3, last_text=LAST_TEXT)

    # On screen, the suppressed cells read ':' (not 'None') and the rate over nothing '..'.
    table = page.locator('[data-testid="stTable"]').first
    expect(table.locator("tr", has_text="november 2025").filter(has_text="Fastlege")).to_have_text(
        ["november 2025Fastlege:52:"], use_inner_text=False
    )
    expect(table.locator("tr", has_text="november 2025").filter(has_text="Kommunal")).to_contain_text("..")
    expect(page.get_by_text("None", exact=True)).to_have_count(0)

    rows = csv_rows(download(page, "Last ned tallene (CSV)"))
    assert rows[0] == ["Periode", "Virksomhetstype", "Teller", "Nevner", "Verdi (prosent)"]
    assert len(rows) == 1 + 13 * len(sf.ORGANISATION_TYPES)
    # Helse Nord's GPs sent 1 of 52 entries through the API in November 2025 (1..4: suppressed).
    assert sf.automatic_entries("helse-nord", "gp", 1) == (1, 52)
    assert ["november 2025", "Fastlege", ":", "52", ":"] in rows
    # Its municipal services registered nothing: a rate over nothing is not available.
    assert ["november 2025", "Kommunal helse- og omsorgstjeneste", "0", "0", ".."] in rows
    assert_counts_disclose_nothing(rows, ["Teller", "Nevner"], sf.SUPPRESSION_THRESHOLD)
    assert_no_error(page)


def test_effect_page_renders_a_real_publication(page: Page, dashboard_server, published_home: Path):
    """``published_home`` (tests/conftest.py) runs the real pipeline on a small simulation."""
    serving = published_home / "serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        (threshold,) = con.execute("SELECT suppression_threshold FROM publish_info").fetchone()
        latest = dict(
            con.execute(
                "SELECT coalesce(health_region, 'national'), value FROM metrics WHERE metric_id = 'automatic_share' "
                "AND grain IN ('national', 'region') AND dimension_name = 'total' "
                "AND period_end = (SELECT max(period_end) FROM metrics WHERE metric_id = 'automatic_share')"
            ).fetchall()
        )
        region_names = dict(
            con.execute("SELECT DISTINCT health_region, health_region_name FROM coverage_by_region_month").fetchall()
        )
        # The region whose breakdown by organisation type hides the most counts.
        region, hidden = con.execute(
            "SELECT health_region, count(*) FILTER (WHERE numerator IS NULL OR denominator IS NULL) AS hidden "
            "FROM metrics WHERE metric_id = 'automatic_share' AND grain = 'region' "
            "AND dimension_name = 'organisation_type' GROUP BY ALL ORDER BY hidden DESC, health_region LIMIT 1"
        ).fetchone()
    assert hidden > 0, "the simulation should give some suppressed cells"

    open_effect(page, dashboard_server(published_home))
    shown = metric_values(page)
    assert shown[METRIC] == f"{latest['national']:.1f}".replace(".", ",") + f"{NBSP}%"

    choose(page, "Helseregion", region_names[region])
    expected = f"{latest[region]:.1f}".replace(".", ",") + f"{NBSP}%"
    expect(metric(page, METRIC)).to_have_text(expected, timeout=RENDER_TIMEOUT_MS)
    segment(page, "Fordelt på", "Virksomhetstype")
    expect(page.locator('[data-testid="stMultiSelect"]')).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    # The table by organisation type is drawn before the run that draws it is waited for: on a
    # loaded machine the wait could end before that run began, and the download was the last one's.
    table = page.locator('[data-testid="stTable"]').first
    expect(table.locator("th", has_text="Virksomhetstype").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    wait_rendered(page, downloads=3, last_text=LAST_TEXT)

    rows = csv_rows(download(page, "Last ned tallene (CSV)"))
    assert rows[0] == ["Periode", "Virksomhetstype", "Teller", "Nevner", "Verdi (prosent)"]
    with_hidden_counts = [row for row in rows[1:] if ":" in row[2:4]]
    assert len(with_hidden_counts) == hidden
    assert {row[4] for row in with_hidden_counts} == {":"}  # the rate beside a hidden count is hidden
    assert_counts_disclose_nothing(rows, ["Teller", "Nevner"], threshold)
    assert_no_error(page)


def shown_filters(page: Page) -> dict[str, str]:
    """The filters as shown: each select box's label and choice, and the chosen period."""
    boxes = {box.get_attribute("aria-label"): box.input_value() for box in page.get_by_role("combobox").all()}
    period = page.get_by_role("radiogroup", name="Periode").get_by_role("radio", checked=True)
    return {**boxes, "Periode": period.inner_text().strip()}


def test_a_filtered_effect_view_reopens_from_its_address(
    page: Page, dashboard_server, handmade_home: Path, chromium_browser
):
    url = dashboard_server(handmade_home)
    open_effect(page, url)
    choose(page, "Indikator", "Registreringsgrad av anslått behov")
    expect(page.get_by_role("combobox", name="Helseregion", exact=True)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    choose(page, "Helseregion", "Helse Nord RHF")
    expect(page.get_by_text("Helse Nord RHF · siste periode:")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    choose(page, "Fylke", "Finnmark")
    expect(page.get_by_text("Finnmark · siste periode:")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    segment(page, "Periode", "Hele perioden")
    expect(page).to_have_url(re.compile(r"periode=hele"), timeout=RENDER_TIMEOUT_MS)
    wait_rendered(page, downloads=3, last_text=LAST_TEXT)
    address = page.url
    assert {"fylke=56", "region=helse-nord", "indikator=registration_coverage_need"} <= set(
        address.split("?")[1].split("&")
    )
    filters = shown_filters(page)
    assert filters == {
        "Indikator": "Registreringsgrad av anslått behov",
        "Helseregion": "Helse Nord RHF",
        "Fylke": "Finnmark",
        "Periode": "Hele perioden",
    }
    figure = metric(page, "Registreringsgrad av anslått behov").inner_text()

    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nb-NO")
    try:
        reopened = context.new_page()
        reopened.goto(address)
        wait_rendered(reopened, downloads=3, last_text=LAST_TEXT)
        expect(reopened.get_by_text("Finnmark · siste periode:")).to_be_visible()
        assert shown_filters(reopened) == filters
        expect(metric(reopened, "Registreringsgrad av anslått behov")).to_have_text(figure)
        assert reopened.url == address
        assert_no_error(reopened)
    finally:
        context.close()
