"""The Datakvalitet page as a user sees it: `streamlit run` + headless Debian chromium."""

from __future__ import annotations

from pathlib import Path

import duckdb
from playwright.sync_api import Page, expect

from tests import serving_fixture as sf

NBSP = "\u00a0"
RENDER_TIMEOUT_MS = 60_000
KEY_FIGURES = ["Linjer lest", "Lastet", "Duplikater", "I karantene", "Andel i karantene"]


def open_data_quality(page: Page, url: str) -> dict[str, str]:
    """Load the page, wait until it has fully rendered; returns label -> shown value."""
    page.goto(f"{url}/datakvalitet")
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics).to_have_count(len(KEY_FIGURES), timeout=RENDER_TIMEOUT_MS)
    # The reason table, the unusual data and the definitions come last: once they are there the run is done.
    expect(page.locator('[data-testid="stTable"]')).to_have_count(2, timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text("Slik leses tallene")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(1)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    return {
        metric.locator('[data-testid="stMetricLabel"]').inner_text().strip(): metric.locator(
            '[data-testid="stMetricValue"]'
        )
        .inner_text()
        .strip()
        for metric in metrics.all()
    }


def test_data_quality_shows_hand_made_figures(page: Page, dashboard_server, handmade_home: Path):
    shown = open_data_quality(page, dashboard_server(handmade_home))

    loaded = sum(d[2] for d in sf.DATA_QUALITY_DAYS)
    duplicates = sum(d[3] for d in sf.DATA_QUALITY_DAYS)
    quarantined = sum(sum(d[4].values()) for d in sf.DATA_QUALITY_DAYS)
    read = loaded + duplicates + quarantined
    # 3 725 + 41 + 11 = 3 777 lines; 11 of them is 0,29 %.
    assert (read, loaded, duplicates, quarantined) == (3_777, 3_725, 41, 11)
    assert shown == {
        "Linjer lest": f"3{NBSP}777",
        "Lastet": f"3{NBSP}725",
        "Duplikater": "41",
        "I karantene": "11",
        "Andel i karantene": f"0,3{NBSP}%",
    }
    expect(page.get_by_text("Avstemt: lest = lastet + duplikater + i karantene")).to_be_visible()
    reasons = page.locator('[data-testid="stTable"]').first
    for label in sf.QUARANTINE_REASONS.values():
        expect(reasons).to_contain_text(label)
    expect(page.locator('[data-testid="stTable"] tr', has_text="Ugyldig JSON")).to_contain_text("5")
    unusual = page.locator('[data-testid="stTable"]').nth(1)
    for _finding, label, _unit, _count, _last in sf.UNUSUAL_DATA:
        expect(unusual).to_contain_text(label)


def test_data_quality_renders_a_real_publication(page: Page, dashboard_server, published_home: Path):
    """``published_home`` (tests/conftest.py) runs the real pipeline on a small simulation."""
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        (read,) = con.execute("SELECT sum(lines_read) FROM data_quality_daily").fetchone()

    shown = open_data_quality(page, dashboard_server(published_home))

    assert list(shown) == KEY_FIGURES
    assert shown["Linjer lest"] == f"{read:,}".replace(",", NBSP)
    expect(page.get_by_text("Avstemt: lest = lastet + duplikater + i karantene")).to_be_visible()
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
