"""The dashboard while the pipeline publishes, again and again: never a lock error, always figures."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from playwright.sync_api import Page

from pipelines.publish.serving import publish
from pipelines.settings import Paths
from pipelines.transform.project import dbt_project
from tests.browser.test_dashboard_browser import KEY_FIGURES, assert_no_streamlit_error, open_overview

PAGE_LOADS = 12
# Publishing (with disclosure control's audit) takes seconds: pages are read until the copy
# has been replaced at least this many times while they were read.
PUBLICATIONS = 3
# What DuckDB says when a file is locked by a writer or cannot be read.
ERROR_TEXTS = ("IO Error", "Conflicting lock", "Could not set lock", "database is locked", "Traceback")


def test_overview_renders_while_the_serving_copy_is_published_repeatedly(
    page: Page, dashboard_server, published_home: Path, tmp_path: Path
):
    # A home of its own, so the session's published home is left as other tests expect it.
    home = Paths(tmp_path / "home")
    home.home.mkdir()
    shutil.copy2(published_home / "warehouse.duckdb", home.warehouse)
    publish(home, dbt_project.manifest_path)
    url = dashboard_server(home.home)

    stop = threading.Event()
    publications: list[int] = []
    failures: list[BaseException] = []

    def publish_repeatedly() -> None:
        try:
            while not stop.is_set():
                publish(home, dbt_project.manifest_path)
                publications.append(home.serving.stat().st_mtime_ns)
        except BaseException as error:  # noqa: BLE001 (reported by the test below)
            failures.append(error)

    publisher = threading.Thread(target=publish_repeatedly, name="publisher")
    publisher.start()
    shown_each_time = []
    try:
        while len(shown_each_time) < PAGE_LOADS or len(set(publications)) < PUBLICATIONS:
            assert not failures, failures
            shown_each_time.append(open_overview(page, url))
            assert_no_streamlit_error(page)
            content = page.content()
            assert not [text for text in ERROR_TEXTS if text in content]
    finally:
        stop.set()
        publisher.join(timeout=120)

    assert not failures, failures
    # The copy really was replaced while the pages were read: several publications, each a new file.
    assert len(set(publications)) >= PUBLICATIONS
    for shown in shown_each_time:
        assert list(shown) == KEY_FIGURES
        assert all(value and value not in (":", "..") for value in shown.values()), shown
    # The same warehouse every time: the same figures every time.
    assert all(shown == shown_each_time[0] for shown in shown_each_time)
