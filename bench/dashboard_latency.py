"""How long the dashboard takes to answer, as a user in Chromium sees it.

The dashboard is served from a home's published copy (`streamlit run`, as tests/browser/conftest.py
does) and driven by playwright in Debian's Chromium. Each interaction is timed from the click (or
the navigation) until Streamlit has settled: the browser received the script run's
``script_finished`` message and shows no running indicator and no stale element.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import quantiles

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["", "maal", "effekt", "datakvalitet", "definisjoner", "rapporter"]
# The menu's name of each page (dashboards/app.py), by its path.
PAGE_TITLES = dict(zip(PAGES, ["Oversikt", "Mål", "Effekt", "Datakvalitet", "Definisjoner", "Rapporter"], strict=True))
SETTLED = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
    "&& !document.querySelector('[data-stale=\"true\"]')"
)
TIMEOUT_MS = 120_000


@contextmanager
def dashboard(home: Path) -> Iterator[str]:
    """`streamlit run` of the dashboard on ``home``; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "app.py")]
    command += ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "KRITINFO_HOME": str(home)}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the dashboard did not start") from None
                time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)


class ScriptRuns:
    """Counts the script runs the browser has seen finish, from Streamlit's websocket messages."""

    def __init__(self, page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._message = ForwardMsg
        self.finished = 0
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload) -> None:
        if isinstance(payload, bytes):
            message = self._message()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "script_finished":
                self.finished += 1

    def seconds_until_settled(self, page, action: Callable[[], None]) -> float:
        before = self.finished
        started = time.perf_counter()
        action()
        deadline = started + TIMEOUT_MS / 1000
        while self.finished == before:  # playwright delivers the frames while it waits
            if time.perf_counter() > deadline:
                raise TimeoutError("no script run finished")
            page.wait_for_timeout(2)
        page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling="raf")
        return time.perf_counter() - started


def _select_other(page, label: str) -> Callable[[], None]:
    """Opens the select box ``label``; the returned action picks an option other than the shown one."""
    page.get_by_role("combobox", name=label, exact=True).click()
    options = page.get_by_role("option")
    options.first.wait_for()
    other = next(o for o in options.all() if o.get_attribute("aria-selected") != "true")
    return other.click


def _segment_other(page, label: str) -> Callable[[], None]:
    """The action picking an unselected option of the segmented control ``label``."""
    radios = page.get_by_role("radiogroup", name=label).get_by_role("radio")
    other = next(r for r in radios.all() if r.get_attribute("aria-checked") != "true")
    return other.click


def _menu_link(page, path: str) -> Callable[[], None]:
    """The action choosing page ``path`` in the dashboard's menu (Streamlit switches pages in the
    open session: no new load of the app in the browser)."""
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=PAGE_TITLES[path])
    return link.click


def measure(home: Path, repeats: int) -> dict[str, dict[str, float]]:
    """p50 and p95 in milliseconds per kind of interaction: the load of each page (opening its
    address: the browser loads the app, which then draws the page), the switch to each page by
    the menu from the one before it, and on Effekt a change of indicator, region, breakdown and
    period."""
    from playwright.sync_api import sync_playwright

    seconds: dict[str, list[float]] = {}
    with dashboard(home) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nb-NO").new_page()
        runs = ScriptRuns(page)
        runs.seconds_until_settled(page, lambda: page.goto(f"{url}/effekt"))  # warms the server's caches
        for _ in range(repeats):
            for path in PAGES:
                load = runs.seconds_until_settled(page, lambda path=path: page.goto(f"{url}/{path}"))
                seconds.setdefault(f"load /{path}", []).append(load)
            for path in PAGES[1:] + PAGES[:1]:
                switch = runs.seconds_until_settled(page, _menu_link(page, path))
                seconds.setdefault(f"menu /{path}", []).append(switch)
            # From Effekt's defaults each time (national, its first indicator): the region chosen
            # first publishes a breakdown, which the indicator chosen last might not.
            runs.seconds_until_settled(page, lambda: page.goto(f"{url}/effekt"))
            for kind, control in (
                ("region", lambda: _select_other(page, "Helseregion")),
                ("breakdown", lambda: _segment_other(page, "Fordelt på")),
                ("period", lambda: _segment_other(page, "Periode")),
                ("indicator", lambda: _select_other(page, "Indikator")),
            ):
                seconds.setdefault(kind, []).append(runs.seconds_until_settled(page, control()))
        browser.close()
    return {kind: _percentiles(values) for kind, values in seconds.items()}


def _percentiles(values: list[float]) -> dict[str, float]:
    cuts = quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1), "n": len(values)}
