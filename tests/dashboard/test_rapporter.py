"""The Rapporter page under streamlit's AppTest, with hand-made evaluation packages."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards import packages

PAGE = "views/rapporter.py"
NBSP = "\u00a0"


def write_package(home: Path, as_of: str, reference_month: str | None, meeting_date: str | None, code: str) -> Path:
    """A package folder as the builder lays it out, with small stand-in files."""
    directory = home / "evaluation" / as_of
    (directory / "data").mkdir(parents=True)
    (directory / "csv").mkdir()
    meta = {"as_of": as_of, "reference_month": reference_month, "meeting_date": meeting_date, "code_version": code}
    (directory / "datapackage.json").write_text(
        json.dumps({"name": f"kritinfo-{as_of}", "resources": [], "kritinfo": meta})
    )
    (directory / "data" / "metrics.parquet").write_bytes(b"PAR1 stand-in")
    (directory / "csv" / "metrics.csv").write_text("metric_id\n")
    (directory / "metrics.jsonstat.json").write_text("{}")
    (directory / "report.pdf").write_bytes(b"%PDF-1.7 stand-in")
    (directory / "report.html").write_text('<html lang="nb"></html>')
    (directory / "commentary.md").write_text("Ikke en del av datanedlastingen.")
    return directory


def open_page(app: AppTest) -> AppTest:
    app.run()
    app.switch_page(PAGE)
    return app.run()


def test_packages_are_listed_newest_first_with_their_downloads(empty_home: Path, app: AppTest):
    write_package(empty_home, "2026-10-15", "2026-09", None, "abc1234")
    write_package(empty_home, "2026-11-15", "2026-10", "2026-11-26", "def5678")
    (empty_home / "evaluation" / "2026-12-01.tmp").mkdir()  # a package being written: no datapackage.json

    at = open_page(app)
    assert not at.exception
    assert [h.value for h in at.header] == ["Rapport per 15. nov. 2026", "Rapport per 15. okt. 2026"]
    details = [m.value for m in at.markdown if "Tall for" in m.value]
    assert "**Tall for:** oktober 2026" in details[0]
    assert "**Oppfølgingsmøte:** 26. nov. 2026" in details[0]
    assert "`def5678`" in details[0]
    assert "**Tall for:** september 2026" in details[1]
    assert "**Oppfølgingsmøte:** –" in details[1]
    assert "`abc1234`" in details[1]
    assert "2 evalueringspakker, nyeste først" in at.caption[0].value

    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Last ned rapporten (PDF)",
        "Last ned rapporten (HTML)",
        "Last ned dataene (ZIP)",
    ] * 2
    assert not any(b.proto.disabled for b in buttons)


def test_data_zip_holds_the_tables_and_metadata_only(empty_home: Path):
    write_package(empty_home, "2026-11-15", "2026-10", None, "def5678")
    (package,) = packages.list_packages(empty_home)
    with zipfile.ZipFile(io.BytesIO(packages.data_zip(package))) as archive:
        names = sorted(archive.namelist())
    root = "kritinfo-evaluering-2026-11-15"
    assert names == [
        f"{root}/{name}"
        for name in ("csv/metrics.csv", "data/metrics.parquet", "datapackage.json", "metrics.jsonstat.json")
    ]


def test_without_packages_the_page_says_how_to_make_one(empty_home: Path, app: AppTest):
    at = open_page(app)
    assert not at.exception
    assert not at.get("download_button")
    assert "kritinfo report --as-of ÅÅÅÅ-MM-DD" in at.info[0].value
