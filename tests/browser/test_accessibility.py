"""WCAG 2.1 AA and small screens, in headless chromium, on every page of the dashboard.

axe-core (npm) checks each page; a serious or critical violation fails. At 390 px width (a
phone) axe checks again, and nothing may stick out to the side: the page does not scroll
horizontally and every chart legend lies inside the viewport.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import serving_fixture
from tests.browser.conftest import streamlit_server
from tests.browser.page_actions import RENDER_TIMEOUT_MS, assert_no_error

AXE_VERSION = "4.14.1"
AXE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kritinfo-tests" / "axe-core"
PAGES = {  # path -> the page's title (its h1)
    "": "Pasientens kritiske informasjon",
    "maal": "Mål",
    "effekt": "Effekt",
    "datakvalitet": "Datakvalitet",
    "definisjoner": "Definisjoner",
    "rapporter": "Rapporter",
}
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}
OVERFLOW_TOLERANCE_PX = 2


def axe_script() -> str:
    """axe.min.js, fetched with `npm pack` once and kept in the user's cache for later sessions."""
    script = AXE_CACHE / AXE_VERSION / "axe.min.js"
    if not script.exists():
        if shutil.which("npm") is None:
            pytest.fail(f"npm is not on PATH: apt-get install -y npm (or put axe.min.js in {script.parent})")
        script.parent.mkdir(parents=True, exist_ok=True)
        packed = (
            subprocess.run(
                ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", str(script.parent)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(script.parent / packed) as archive:
            script.write_bytes(archive.extractfile("package/axe.min.js").read())
    return script.read_text()


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_script()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One dashboard server for the module, on the hand-made serving.duckdb."""
    root = tmp_path_factory.mktemp("accessibility")
    with streamlit_server(serving_fixture.write_home(root / "home"), root) as url:
        yield url


def open_rendered(page: Page, url: str, title: str) -> None:
    """Open a page and wait until its run has finished and its charts are drawn."""
    page.goto(url)
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
        expect(chart.locator("svg, canvas").first).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    assert_no_error(page)


def violations(page: Page, axe: str) -> list[dict]:
    page.add_script_tag(content=axe)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA_TAGS)
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def described(found: list[dict]) -> str:
    return json.dumps(
        [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in found
        ],
        ensure_ascii=False,
        indent=1,
    )


@pytest.mark.parametrize("path", list(PAGES))
def test_page_has_no_serious_accessibility_violation(page: Page, dashboard_url: str, axe: str, path: str):
    open_rendered(page, f"{dashboard_url}/{path}", PAGES[path])
    found = violations(page, axe)
    assert not found, described(found)
    assert page.evaluate("document.documentElement.lang") == "nb"


@pytest.mark.parametrize("path", list(PAGES))
def test_page_fits_a_phone_screen(chromium_browser, dashboard_url: str, axe: str, path: str):
    context = chromium_browser.new_context(viewport=PHONE, locale="nb-NO", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        open_rendered(page, f"{dashboard_url}/{path}", PAGES[path])
        found = violations(page, axe)  # tables that scroll sideways only do so on a narrow screen
        assert not found, described(found)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"] + OVERFLOW_TOLERANCE_PX
        legends = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] .role-legend')]
                .map(l => { const r = l.getBoundingClientRect(); return [r.left, r.right]; })"""
        )
        for left, right in legends:
            assert left >= -OVERFLOW_TOLERANCE_PX and right <= PHONE["width"] + OVERFLOW_TOLERANCE_PX, (left, right)
    finally:
        context.close()
