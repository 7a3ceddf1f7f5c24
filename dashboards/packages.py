"""The evaluation packages under ``KRITINFO_HOME/evaluation/<D>/``, for the Rapporter page.

Only reads what the package builder wrote: each package's ``datapackage.json`` (its ``kritinfo``
section) and, for a download, its files. The listing is cached on the modification times of the
evaluation folder and of each package's datapackage.json, so a new or rebuilt package shows on
the next rerun.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from pipelines.settings import paths

DATAPACKAGE = "datapackage.json"
# What the data download holds: the tables in both formats, the JSON-stat cube and the metadata.
DATA_FOLDERS = ("data", "csv")
DATA_FILES = (DATAPACKAGE, "metrics.jsonstat.json")


@dataclass(frozen=True)
class PackageInfo:
    directory: str
    as_of: date
    reference_month: date | None  # the first day of the month
    meeting_date: date | None
    code_version: str | None

    @property
    def report_pdf(self) -> Path:
        return Path(self.directory) / "report.pdf"

    @property
    def report_html(self) -> Path:
        return Path(self.directory) / "report.html"


def evaluation_dir(home: Path | None = None) -> Path:
    return (home or paths().home) / "evaluation"


def _listing_key(folder: Path) -> tuple[int, tuple[tuple[str, int], ...]]:
    """The modification times the cached listing depends on."""
    stamps = []
    for datapackage in folder.glob(f"*/{DATAPACKAGE}"):
        try:
            stamps.append((str(datapackage), datapackage.stat().st_mtime_ns))
        except FileNotFoundError:  # removed since the glob
            continue
    return folder.stat().st_mtime_ns, tuple(sorted(stamps))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@st.cache_data(show_spinner=False, max_entries=16)
def _read_packages(folder: str, key: tuple) -> list[PackageInfo]:
    del key  # only part of the cache key: new modification times mean a new key
    packages = []
    for datapackage in Path(folder).glob(f"*/{DATAPACKAGE}"):
        try:
            meta = json.loads(datapackage.read_text(encoding="utf-8"))["kritinfo"]
            as_of = date.fromisoformat(meta["as_of"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a package being written or a stray folder: not listed
        reference = meta.get("reference_month")
        packages.append(
            PackageInfo(
                directory=str(datapackage.parent),
                as_of=as_of,
                reference_month=date.fromisoformat(f"{reference}-01") if reference else None,
                meeting_date=_day(meta.get("meeting_date")),
                code_version=meta.get("code_version"),
            )
        )
    return sorted(packages, key=lambda package: package.as_of, reverse=True)


def list_packages(home: Path | None = None) -> list[PackageInfo]:
    """Every readable evaluation package, newest first."""
    folder = evaluation_dir(home)
    if not folder.is_dir():
        return []
    return _read_packages(str(folder), _listing_key(folder))


def data_zip(package: PackageInfo) -> bytes:
    """The package's data files as one zip, built in memory, under a folder named after it."""
    directory = Path(package.directory)
    root = f"kritinfo-evaluering-{package.as_of.isoformat()}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in DATA_FILES:
            if (directory / name).is_file():
                archive.write(directory / name, f"{root}/{name}")
        for folder in DATA_FOLDERS:
            for path in sorted((directory / folder).glob("*")):
                if path.is_file():
                    archive.write(path, f"{root}/{folder}/{path.name}")
    return buffer.getvalue()
