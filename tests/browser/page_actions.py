"""What the browser tests of the Mål, Effekt and Definisjoner pages do on a page: wait until a
run has rendered, read key figures, choose in a filter, download a CSV."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Locator, Page, expect

RENDER_TIMEOUT_MS = 60_000


def wait_rendered(page: Page, *, downloads: int, last_text: str) -> None:
    """Until the page's run is complete: its download buttons and its last text are there and
    Streamlit shows no running script."""
    expect(page.locator('[data-testid="stDownloadButton"]')).to_have_count(downloads, timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text(last_text).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=RENDER_TIMEOUT_MS)


def open_rendered(page: Page, url: str, title: str) -> None:
    """Open a page and wait until its run has finished and its charts are drawn."""
    page.goto(url)
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=RENDER_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
        expect(chart.locator("svg, canvas").first).to_be_attached(timeout=RENDER_TIMEOUT_MS)
    assert_no_error(page)


def assert_no_error(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


def metric(page: Page, label: str) -> Locator:
    """The value of the key figure labelled ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return box.locator('[data-testid="stMetricValue"]')


def metric_values(page: Page) -> dict[str, str]:
    return {
        m.locator('[data-testid="stMetricLabel"]').inner_text().strip(): m.locator('[data-testid="stMetricValue"]')
        .inner_text()
        .strip()
        for m in page.locator('[data-testid="stMetric"]').all()
    }


def choose(page: Page, filter_label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``filter_label``."""
    page.get_by_role("combobox", name=filter_label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def segment(page: Page, control_label: str, option: str) -> None:
    """Pick ``option`` in the segmented control labelled ``control_label``."""
    page.get_by_role("radiogroup", name=control_label).get_by_role("radio", name=option, exact=True).click()


def download(page: Page, label: str) -> bytes:
    """Click the download button ``label``; the bytes of the file the browser saves."""
    with page.expect_download(timeout=RENDER_TIMEOUT_MS) as info:
        page.get_by_role("button", name=label).click()
    return info.value.path().read_bytes()


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without byte-order mark"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return rows[rows.index([]) + 1 :]  # the table after the provenance rows


def assert_counts_disclose_nothing(rows: list[list[str]], count_headings: list[str], threshold: int) -> None:
    """Every count is ':' (suppressed) or outside 1..threshold."""
    header, *body = rows
    columns = [header.index(h) for h in count_headings if h in header]
    assert columns, f"no count column among {header}"
    for row in body:
        for column in columns:
            cell = row[column]
            assert cell == ":" or not 1 <= float(cell.replace(",", ".")) <= threshold, (header[column], row)
