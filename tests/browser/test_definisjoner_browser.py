"""The Definisjoner page as a user sees it: `streamlit run` + headless Debian chromium."""

from __future__ import annotations

from pathlib import Path

import duckdb
from playwright.sync_api import Page, expect

from tests import serving_fixture as sf
from tests.browser.page_actions import assert_no_error, csv_rows, download, wait_rendered


def open_definitions(page: Page, url: str, last_name: str) -> None:
    page.goto(f"{url}/definisjoner")
    wait_rendered(page, downloads=1, last_text=last_name)
    assert_no_error(page)


def test_definitions_page_lists_the_hand_made_registry(page: Page, dashboard_server, handmade_home: Path):
    names = sorted(d.name_nb for d in sf.METRIC_DEFINITIONS)
    open_definitions(page, dashboard_server(handmade_home), names[-1])
    overview = page.locator('[data-testid="stTable"]')
    for definition in sf.METRIC_DEFINITIONS:
        expect(overview.locator("tr", has_text=definition.name_nb)).to_contain_text(f"metric_{definition.metric_id}")
        expect(page.get_by_text(definition.definition)).to_be_visible()
    rows = csv_rows(download(page, "Last ned definisjonene (CSV)"))
    assert [row[0] for row in rows[1:]] == names


def test_definitions_page_renders_a_real_publication(page: Page, dashboard_server, published_home: Path):
    """Every metric of the real registry, with its source model and freshness."""
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        registry = con.execute("SELECT name_nb, source_model FROM metric_definitions ORDER BY name_nb").fetchall()
    assert len(registry) >= 14

    open_definitions(page, dashboard_server(published_home), registry[-1][0])
    overview = page.locator('[data-testid="stTable"]')
    for name, source_model in registry:
        expect(overview.locator("tr", has_text=name).first).to_contain_text(source_model)
    rows = csv_rows(download(page, "Last ned definisjonene (CSV)"))
    assert [(row[0], row[4]) for row in rows[1:]] == registry
