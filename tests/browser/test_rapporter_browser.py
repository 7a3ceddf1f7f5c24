"""The Rapporter page as a user sees it: `streamlit run` + headless Debian chromium."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.page_actions import assert_no_error, download, wait_rendered
from tests.dashboard.test_rapporter import write_package


def test_reports_page_offers_the_report_and_data_downloads(page: Page, dashboard_server, tmp_path: Path):
    home = tmp_path / "home"
    write_package(home, "2026-11-15", "2026-10", "2026-11-26", "def5678")

    page.goto(f"{dashboard_server(home)}/rapporter")
    wait_rendered(page, downloads=3, last_text="Rapport per 15. nov. 2026")
    assert_no_error(page)
    assert download(page, "Last ned rapporten (PDF)").startswith(b"%PDF")
    with zipfile.ZipFile(io.BytesIO(download(page, "Last ned dataene (ZIP)"))) as archive:
        assert "kritinfo-evaluering-2026-11-15/datapackage.json" in archive.namelist()
