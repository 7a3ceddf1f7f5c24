"""Fixtures for AppTest runs of the dashboard against a hand-made serving.duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import serving_fixture

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
RUN_TIMEOUT_S = 60  # the first run imports pandas, altair and duckdb


@pytest.fixture
def serving_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """KRITINFO_HOME set to a tmp dir holding the hand-made serving.duckdb."""
    home = serving_fixture.write_home(tmp_path / "home")
    monkeypatch.setenv("KRITINFO_HOME", str(home))
    return home


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """KRITINFO_HOME set to a tmp dir where nothing has been published."""
    home = tmp_path / "empty"
    home.mkdir()
    monkeypatch.setenv("KRITINFO_HOME", str(home))
    return home


@pytest.fixture
def app() -> AppTest:
    """The dashboard entry point (st.navigation runs its default page, Oversikt)."""
    return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
