"""Every CSV download names its source, reference month, publication time and legend, in rows
before the table, and still opens as ';'-separated columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboards.table import Number, Provenance, ShownTable

PROVENANCE = [
    ["Kilde: kritinfo, Pasientens kritiske informasjon"],
    ["Referansemåned: oktober 2026"],
    ["Publisert: 3. nov. 2026 kl. 14.05"],
    ["Tegnforklaring: : skjult for å verne personvernet, .. ingenting å beregne fra"],
    [],
]


def excel_rows(data: bytes) -> list[list[str]]:
    """The rows as a spreadsheet set to Norwegian reads them: UTF-8 by its byte-order mark, ';'."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_provenance_rows_come_before_the_header_and_leave_the_columns_alone():
    table = ShownTable.selected(
        pd.DataFrame({"county": ["Oslo", "Agder"], "persons": [1234.0, None]}),
        {"county": ("Fylke", None), "persons": ("Personer", Number())},
    )
    provenance = Provenance(date(2026, 10, 31), datetime(2026, 11, 3, 13, 5, tzinfo=UTC))
    rows = excel_rows(table.csv(provenance))
    assert rows[:5] == PROVENANCE
    assert rows[5:] == [["Fylke", "Personer"], ["Oslo", "1234"], ["Agder", ":"]]


def test_unknown_publication_is_written_as_not_available():
    assert Provenance(None, None).rows()[1:3] == ["Referansemåned: ..", "Publisert: .."]


def test_downloads_carry_the_provenance_of_the_published_copy(serving_home: Path, app: AppTest, csv_downloads: dict):
    at = app.run()
    assert not at.exception
    assert csv_downloads
    for name, data in csv_downloads.items():
        rows = excel_rows(data)
        assert rows[:5] == PROVENANCE, name
        assert len(rows[5]) > 1, name  # the header, split into its columns
