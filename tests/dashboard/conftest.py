"""Fixtures for AppTest runs of the dashboard against a hand-made serving.duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
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


@pytest.fixture
def csv_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The CSV files the app offers for download (st.download_button), by file name.

    AppTest keeps downloads in Streamlit's in-memory media storage; this records each CSV as
    the storage receives it, so a test can read exactly the bytes a user would get."""
    files: dict[str, bytes] = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def recording_store(self, path_or_data, mimetype, kind, filename=None):
        if mimetype == "text/csv":
            files[filename] = path_or_data
        return store(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording_store)
    return files
