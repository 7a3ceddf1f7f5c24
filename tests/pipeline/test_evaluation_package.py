"""Evaluation packages on a history delivered in two parts, the second holding late events for
months the first package already reported: the package as of the first day is rebuilt
byte-identical, the next one lists the revisions that an independent comparison of the two finds,
`verify` catches a changed byte, and no package file shows a small count."""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq
import pypdfium2
import pytest

from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import Paths
from pipelines.simulate import SimulationConfig, simulate
from tests.conftest import run_cli

OSLO = ZoneInfo("Europe/Oslo")
HISTORY = SimulationConfig(start=date(2024, 9, 1), end=date(2025, 3, 20), scale=0.25, seed=23)
# Two report cut-offs of the shipped calendar (meetings 20 February and 17 April 2025). The test's
# calendar starts with them, so the first package has no previous one to revise.
FIRST, SECOND = date(2025, 2, 6), date(2025, 4, 3)
CALENDAR = """\
version: test-1
note: The shipped calendar's meetings of 2025, without the earlier ones.
meetings:
  - {date: 2025-02-20}
  - {date: 2025-04-17}
"""
THRESHOLD = 4
HEADINGS = ("Status per mål", "Framdrift", "Avvik", "Risiko", "Økonomi", "Kvalitet", "Revisjoner", "Kommentar")


def cli(home: Path, *args: str):
    os.environ["KRITINFO_REPORTING_FILE"] = str(home / "reporting.yml")
    try:
        return run_cli(home, *args)
    finally:
        del os.environ["KRITINFO_REPORTING_FILE"]


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), OSLO)


def data_files(package: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(package)): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and path.parent.name in ("data", "csv") or path.name == "metrics.jsonstat.json"
    }


def resource_hashes(package: Path) -> dict[str, str]:
    document = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    return {r["path"]: r["hash"] for r in document["resources"] if not r["path"].startswith(("report.", "commentary"))}


def make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def two_part_home(tmp_path_factory):
    """A home that ingested the files delivered by the end of FIRST, then the rest; the package as
    of FIRST written between the two, kept aside as `first_build`."""
    home = tmp_path_factory.mktemp("evaluation-home")
    (home / "reporting.yml").write_text(CALENDAR, encoding="utf-8")
    everything = tmp_path_factory.mktemp("all-deliveries")
    simulate(everything, HISTORY)
    (home / "landing").mkdir()
    later = []
    for path in sorted(everything.iterdir()):
        # The simulator stamps each file with its delivery time (noon in Norway of its day).
        delivered = datetime.fromtimestamp(path.stat().st_mtime, OSLO)
        if delivered < end_of(FIRST):
            shutil.move(path, home / "landing" / path.name)  # keeps the modification time
        else:
            later.append(path)
    assert later
    # A package is built from the raw tables alone (its own dbt build), so ingestion is all it needs.
    ingest_new_files(Paths(home).ensure())
    report = cli(home, "report", "--as-of", FIRST.isoformat())
    assert report.returncode == 0, report.stderr[-3000:]
    first_build = tmp_path_factory.mktemp("first-build") / FIRST.isoformat()
    shutil.copytree(home / "evaluation" / FIRST.isoformat(), first_build)
    for path in later:
        shutil.move(path, home / "landing" / path.name)
    ingest_new_files(Paths(home))
    return home, first_build


def test_the_package_is_read_only_and_cites_its_cut_off(two_part_home):
    home, first_build = two_part_home
    package = home / "evaluation" / FIRST.isoformat()
    assert all(not path.stat().st_mode & 0o222 for path in [package, *package.rglob("*")])
    document = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    facts = document["kritinfo"]
    assert facts["as_of"] == "2025-02-06" and facts["reference_month"] == "2025-01"
    assert facts["meeting_date"] == "2025-02-20" and facts["previous_package"] is None
    assert facts["calendar_version"] == "test-1" and facts["goals_version"] == "1"
    assert len(facts["code_version"]) >= 40
    # The input manifest: exactly the files delivered by the end of the day, each with its hash.
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        delivered = con.execute(
            "select source_file, sha256 from raw.ingested_files where arrived_at < ?", [end_of(FIRST)]
        ).fetchall()
    assert {(f["name"], f["sha256"]) for f in facts["input_files"]} == set(delivered)
    for resource in document["resources"]:
        assert resource["hash"].startswith("sha256:") and (package / resource["path"]).is_file()
    # No month after the reference month is reported (a year's figure covers its reported months).
    metrics = pq.read_table(package / "data" / "metrics.parquet").to_pylist()
    assert max(row["period_end"] for row in metrics if row["period"] == "month") == date(2025, 1, 31)


def test_a_rebuild_after_late_deliveries_is_byte_identical(two_part_home):
    home, first_build = two_part_home
    # The second part did hold late events for January, a month the first package reported.
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        late = con.execute(
            """
            select count(*) from raw.events inner join raw.ingested_files using (source_file)
            where occurred_at < ? and arrived_at >= ?""",
            [end_of(date(2025, 1, 31)), end_of(FIRST)],
        ).fetchone()[0]
    assert late > 0
    package = home / "evaluation" / FIRST.isoformat()
    make_writable(package)
    shutil.rmtree(package)
    rebuilt = cli(home, "report", "--as-of", FIRST.isoformat())
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert resource_hashes(package) == resource_hashes(first_build)
    before, after = data_files(first_build), data_files(package)
    assert len(before) > 30 and before.keys() == after.keys()
    assert [name for name in before if before[name] != after[name]] == []


def test_the_next_package_lists_revisions_equal_to_the_difference_of_the_two(two_part_home):
    home, _ = two_part_home
    # Through Dagster: the package asset's partition for the second report day.
    from dagster import DagsterInstance, materialize

    from pipelines.report.assets import evaluation_package

    saved = {name: os.environ.get(name) for name in ("KRITINFO_HOME", "KRITINFO_REPORTING_FILE")}
    os.environ.update(KRITINFO_HOME=str(home), KRITINFO_REPORTING_FILE=str(home / "reporting.yml"))
    try:
        result = materialize(
            [evaluation_package], partition_key=SECOND.isoformat(), instance=DagsterInstance.ephemeral()
        )
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    assert result.success
    first, second = home / "evaluation" / FIRST.isoformat(), home / "evaluation" / SECOND.isoformat()
    facts = json.loads((second / "datapackage.json").read_text(encoding="utf-8"))["kritinfo"]
    assert facts["previous_package"] == FIRST.isoformat() and facts["reference_month"] == "2025-02"

    key = (
        "metric_id",
        "period_end",
        "period",
        "grain",
        "health_region",
        "county_code",
        "dimension_name",
        "dimension_value",
    )
    old = {
        tuple(row[k] for k in key): row["value"]
        for row in pq.read_table(first / "data" / "metrics.parquet").to_pylist()
    }
    new = {
        tuple(row[k] for k in key): row["value"]
        for row in pq.read_table(second / "data" / "metrics.parquet").to_pylist()
    }
    expected = {cell: (old[cell], new[cell]) for cell in old if cell in new and old[cell] != new[cell]}
    listed = {
        tuple(row[k] for k in key): (row["previous_value"], row["current_value"], row["difference"])
        for row in pq.read_table(second / "data" / "revisions.parquet").to_pylist()
    }
    assert expected and listed.keys() == expected.keys()
    for cell, (previous, current, difference) in listed.items():
        assert (previous, current) == expected[cell]
        # A hidden value (None) keeps the difference hidden.
        assert difference == (None if previous is None or current is None else pytest.approx(current - previous))


def test_verify_rebuilds_a_package_and_catches_a_changed_byte(two_part_home):
    home, _ = two_part_home
    package = home / "evaluation" / SECOND.isoformat()
    verified = cli(home, "report", "verify", str(package))
    assert verified.returncode == 0, verified.stderr[-3000:]
    tampered = package / "csv" / "metrics.csv"
    make_writable(package)
    content = bytearray(tampered.read_bytes())
    content[-2] = ord("7") if content[-2] != ord("7") else ord("8")
    tampered.write_bytes(bytes(content))
    failed = cli(home, "report", "verify", str(package))
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"kritinfo report verify: {tampered}: its sha256 differs from datapackage.json"
    ]


def test_no_package_file_shows_a_small_count(two_part_home):
    home, _ = two_part_home
    for package in sorted((home / "evaluation").iterdir()):
        metrics = pq.read_table(package / "data" / "metrics.parquet").to_pylist()
        counts = [row[column] for row in metrics for column in ("numerator", "denominator")]
        # A count from 1 to the threshold is hidden; the estimated need (5 % of a population) is no count.
        assert not [c for c in counts if c is not None and float(c).is_integer() and 1 <= c <= THRESHOLD]
        for table in (
            "coverage_national_month",
            "coverage_by_region_month",
            "coverage_by_county_month",
            "registrations_national_month",
            "registrations_by_channel_month",
        ):
            rows = pq.read_table(package / "data" / f"{table}.parquet").to_pylist()
            small = [
                row
                for row in rows
                for name, value in row.items()
                if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= THRESHOLD
            ]
            assert small == [], (package.name, table)
        # The CSV shows ':' where the Parquet file has a hidden count, and no small count either.
        lines = (package / "csv" / "metrics.csv").read_text(encoding="utf-8-sig").splitlines()
        fields = [line.split(";") for line in lines[1:]]
        assert any(":" in row[8:10] for row in fields)
        assert not [row for row in fields for text in row[8:10] if text in {str(n) for n in range(1, THRESHOLD + 1)}]
        # JSON-stat: the same cells hidden, marked ':'.
        dataset = json.loads((package / "metrics.jsonstat.json").read_text(encoding="utf-8"))
        assert dataset["version"] == "2.0" and ":" in dataset["status"].values()
        measures = dataset["dimension"]["statistikkvariabel"]["category"]["index"]
        count_positions = {measures["numerator"], measures["denominator"]}
        size = len(measures)
        assert not [
            v
            for index, v in dataset["value"].items()
            if int(index) % size in count_positions and float(v).is_integer() and 1 <= v <= THRESHOLD
        ]


def test_the_report_reads_as_a_report_in_bokmal(two_part_home):
    home, _ = two_part_home
    package = home / "evaluation" / SECOND.isoformat()
    html = (package / "report.html").read_text(encoding="utf-8")
    assert '<html lang="nb"' in html
    document = pypdfium2.PdfDocument(str(package / "report.pdf"))
    text = ""
    for page in document:
        image = page.render(scale=0.5).to_pil().convert("L")
        low, high = image.getextrema()
        assert high - low > 100, "a blank page"
        text += page.get_textpage().get_text_range()
    for heading in HEADINGS:
        assert heading in text and heading in html
    assert "februar 2025" in text and "17. apr. 2025" in text
