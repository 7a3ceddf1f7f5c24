"""The published data-quality marts after a real `kritinfo run`, against counts made here from
the delivered files themselves."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import orjson

from pipelines.contract.validation import REASON_CODES
from tests.conftest import BAD_LINES_FILE, bad_lines


def delivered_lines(home: Path) -> dict[str, list[bytes]]:
    """Non-blank lines of every ingested file (archived after ingestion; line counts unchanged)."""
    return {
        path.name: [line for line in path.read_bytes().split(b"\n") if line.strip()]
        for path in sorted((home / "archive").iterdir())
        if not path.name.startswith(".")
    }


def expected_simulated_days(files: dict[str, list[bytes]]) -> dict[date, tuple[int, int, int, int, int]]:
    """Per simulated file's day (its name): files, read, loaded, duplicates, quarantined.

    The test simulation has no malformed lines, so a line is loaded when its event_id is new in
    file and line order, and a duplicate otherwise."""
    seen: set[str] = set()
    days = {}
    for name, lines in files.items():
        if name == BAD_LINES_FILE:
            continue
        ids = [orjson.loads(line)["event_id"] for line in lines]
        new = len(set(ids) - seen)
        seen.update(ids)
        days[date.fromisoformat(name.removeprefix("events-").removesuffix(".ndjson"))] = (
            1,
            len(lines),
            new,
            len(lines) - new,
            0,
        )
    return days


def test_published_data_quality_matches_the_delivered_files(published_home: Path):
    files = delivered_lines(published_home)
    simulated = expected_simulated_days(files)
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        daily = {
            row[0]: row[1:]
            for row in con.execute(
                "select arrived_on, files, lines_read, loaded, duplicates, quarantined from data_quality_daily"
            ).fetchall()
        }
        by_reason = con.execute(
            "select arrived_on, reason_code, lines from data_quality_by_reason_daily where lines > 0"
        ).fetchall()
        reason_days = con.execute(
            "select count(distinct arrived_on), count(*) from data_quality_by_reason_daily"
        ).fetchall()

    # The bad-lines file arrived when the test wrote it: today in Norway (yesterday past midnight).
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    (bad_day,) = set(daily) - set(simulated)
    assert bad_day in (today, today - timedelta(days=1))
    assert {day: counts for day, counts in daily.items() if day != bad_day} == simulated
    bad = bad_lines()
    assert daily[bad_day] == (1, len(files[BAD_LINES_FILE]), 0, 0, len(bad))
    assert Counter({(bad_day, code): 1 for _, code in bad}) == Counter({(d, c): n for d, c, n in by_reason})
    # Every reason code on every arrival day, zero where none.
    assert reason_days == [(len(daily), len(daily) * len(REASON_CODES))]
