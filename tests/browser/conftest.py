"""Browser-test fixtures: a real `streamlit run` server and headless Debian chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests import serving_fixture

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "dashboards" / "app.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not become healthy in {START_TIMEOUT_S}s:\n{log.read_text()}")


@contextmanager
def streamlit_server(home: Path, log_dir: Path) -> Iterator[str]:
    """Run the dashboard against KRITINFO_HOME=home; yields its base URL."""
    port = _free_port()
    log = log_dir / f"streamlit-{port}.log"
    env = {
        **os.environ,
        "KRITINFO_HOME": str(home),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("w") as log_file:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{base_url}/_stcore/health", server, log)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def dashboard_server(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """Start the dashboard for a KRITINFO_HOME: ``url = dashboard_server(home)``.

    Every server started through it is stopped at fixture teardown."""
    with ExitStack() as stack:
        yield lambda home: stack.enter_context(streamlit_server(home, tmp_path))


@pytest.fixture
def handmade_home(tmp_path: Path) -> Path:
    """A KRITINFO_HOME with the hand-made serving.duckdb from tests/serving_fixture.py."""
    return serving_fixture.write_home(tmp_path / "home")


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KRITINFO_HOME with the hand-made serving.duckdb, served by ``dashboard_url`` (read only)."""
    return serving_fixture.write_home(tmp_path_factory.mktemp("served") / "home")


@pytest.fixture(scope="session")
def dashboard_url(served_home: Path) -> Iterator[str]:
    """One dashboard server for the session on ``served_home``, shared by the tests that only read
    it (accessibility, the analyst's walk-through)."""
    with streamlit_server(served_home, served_home.parent) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_browser():
    """Headless Debian chromium driven by playwright (no downloaded browser build)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not on PATH: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nb-NO")
    try:
        yield context.new_page()
    finally:
        context.close()
