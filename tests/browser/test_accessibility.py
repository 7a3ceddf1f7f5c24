"""WCAG 2.1 AA and small screens, in headless chromium, on every page of the dashboard.

axe-core (npm) checks each page; a serious or critical violation fails. Each page also has one h1
and headings that step down one level at a time; every chart has an accessible name and its
numbers in a table in the same block; no English toolbar shows over a table or a chart. At 390 px
width (a phone) axe checks again, and nothing may stick out to the side: the page does not scroll
horizontally and every chart legend lies inside the viewport.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboards.accessibility import FRAME_TEXTS
from tests.browser.page_actions import RENDER_TIMEOUT_MS, open_rendered

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
# The labels of Streamlit's element toolbars (st.dataframe and charts), which it cannot translate.
ENGLISH_TOOLBAR = re.compile(r"^(Download as CSV|Search|Fullscreen|Show.hide columns|Show data|Download as PNG|Copy )")


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


def heading_levels(page: Page) -> list[int]:
    """The levels of the page's headings (h1 to h6) in document order."""
    return page.evaluate("() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1])")


def assert_headings_in_order(page: Page) -> None:
    levels = heading_levels(page)
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(after <= before + 1 for before, after in zip(levels, levels[1:], strict=False)), levels


def assert_charts_named_with_tables(page: Page) -> None:
    """Every chart has an accessible name (its title and description) and a table in its block."""
    # A block's table may be drawn after its chart: wait for every block to have one, then judge
    # (a block that never gets one fails below, named).
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(chart => {
                const block = chart.closest('[class*="st-key-chart-"]');
                return block && block.querySelector('[data-testid="stDataFrame"], [data-testid="stTable"]');
            })""",
            timeout=RENDER_TIMEOUT_MS,
        )
    charts = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(chart => {
            const block = chart.closest('[class*="st-key-chart-"]');
            const tables = block ? block.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]') : [];
            const name = chart.getAttribute("aria-label") || "";
            return {name: name, role: chart.getAttribute("role"), tables: tables.length};
        })"""
    )
    for chart in charts:
        assert chart["role"] == "graphics-document" and len(chart["name"]) > 20, chart
        assert chart["tables"] >= 1, chart


def assert_no_english_toolbar(page: Page) -> None:
    """Streamlit shows an element's toolbar while the pointer is over it: none may show."""
    for element in page.locator('[data-testid="stDataFrame"], [data-testid="stVegaLiteChart"]').all():
        if element.is_visible():
            element.hover()
            expect(page.get_by_role("button", name=ENGLISH_TOOLBAR)).to_have_count(0)


def assert_frame_in_bokmaal(page: Page) -> None:
    """Streamlit's own frame speaks bokmål too: its skip link and the labels of its landmarks."""
    expect(page.get_by_test_id("stSkipToContent")).to_have_text("Hopp til hovedinnholdet")
    labels = page.evaluate(
        "() => [...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label'))"
    )
    assert not set(labels) & set(FRAME_TEXTS), sorted(set(labels) & set(FRAME_TEXTS))


@pytest.mark.parametrize("path", list(PAGES))
def test_page_has_no_serious_accessibility_violation(page: Page, dashboard_url: str, axe: str, path: str):
    open_rendered(page, f"{dashboard_url}/{path}", PAGES[path])
    found = violations(page, axe)
    assert not found, described(found)
    assert page.evaluate("document.documentElement.lang") == "nb"
    assert_headings_in_order(page)
    assert_charts_named_with_tables(page)
    assert_no_english_toolbar(page)
    assert_frame_in_bokmaal(page)


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
