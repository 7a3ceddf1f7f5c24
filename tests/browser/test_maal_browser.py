"""The Mål page as a user sees it: `streamlit run` + headless Debian chromium."""

from __future__ import annotations

from pathlib import Path

import duckdb
from playwright.sync_api import Page, expect

from tests import serving_fixture as sf
from tests.browser.page_actions import assert_no_error, csv_rows, download, metric_values, wait_rendered

ILLUSTRATIVE = "Illustrative mål – de offisielle målene er ikke publisert"
LAST_TEXT = "Slik leses målene"
STATUSES = {
    "on_track": "På sporet",
    "at_risk": "Usikker",
    "off_track": "Ikke på sporet",
    "met": "Nådd",
    "missed": "Ikke nådd",
    "insufficient_data": "For lite data",
}


def open_goals(page: Page, url: str) -> None:
    page.goto(f"{url}/maal")
    wait_rendered(page, downloads=2, last_text=LAST_TEXT)
    assert_no_error(page)


def test_goals_page_renders_hand_made_goals(page: Page, dashboard_server, handmade_home: Path):
    open_goals(page, dashboard_server(handmade_home))
    expect(page.get_by_text(ILLUSTRATIVE)).to_be_visible()
    assert metric_values(page) == {"På sporet": "1", "Usikker": "2", "Ikke på sporet": "1", "For lite data": "1"}
    table = page.locator('[data-testid="stTable"]')
    national = table.locator("tr", has_text="Hele landet").filter(has_text="Registreringsgrad av anslått behov")
    expect(national).to_contain_text("59,2\u00a0%")  # the latest national coverage of need
    expect(national).to_contain_text("På sporet")
    # Coverage of need has goals nationally and in Helse Nord: one chart each.
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2)

    rows = csv_rows(download(page, "Last ned målene (CSV)"))
    assert rows[0][:2] == ["Indikator", "Område"]
    assert len(rows) == 1 + len(sf.GOALS)
    assert ["Registreringsgrad av anslått behov", "Helse Nord RHF"] == rows[3][:2]
    assert_no_error(page)


def test_goals_page_renders_a_real_publication(page: Page, dashboard_server, published_home: Path):
    """``published_home`` (tests/conftest.py) runs the real pipeline, goals.yml included."""
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        goals = con.execute("SELECT status, illustrative FROM evaluation.goal_status").fetchall()
    assert goals, "the real pipeline publishes the goals of goals.yml"

    open_goals(page, dashboard_server(published_home))
    if any(illustrative for _, illustrative in goals):
        expect(page.get_by_text(ILLUSTRATIVE)).to_be_visible()
    counts: dict[str, int] = {}
    for status, _ in goals:
        counts[STATUSES[status]] = counts.get(STATUSES[status], 0) + 1
    assert metric_values(page) == {label: str(count) for label, count in counts.items()}
    rows = csv_rows(download(page, "Last ned målene (CSV)"))
    assert len(rows) == 1 + len(goals)
    assert_no_error(page)
