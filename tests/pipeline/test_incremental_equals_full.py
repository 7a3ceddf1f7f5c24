"""A warehouse built delivery by delivery equals one built from all the deliveries at once (issue 14).

The foreign generator's delivery (tests/foreign/generator.py: late events, some months late,
redeliveries, malformed and identifier-planted lines) reaches one home in batches of consecutive
monthly files, with a `kritinfo run` after each, and another home all at once, with one run. Every
relation the runs build in the warehouse, and every table of the serving copy, must then hold the
same rows in both homes, save the columns that record when a run happened. This guards the
incremental dbt models: however a model restages, late events land where a full rebuild puts them.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from calendar import monthrange
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.settings import Paths
from pipelines.transform.manifest import read_manifest
from pipelines.transform.project import dbt_project
from tests.conftest import run_cli
from tests.foreign.generator import write_delivery
from tests.helpers import SEEDS

# Few persons: a run costs about a CPU minute whatever the events (Dagster, dbt's ~250 nodes, publishing).
PERSONS = 300
SEED = 23
# Runs of the incremental home, one per batch of monthly files; the redeliveries come with the last.
BATCHES = 3
OSLO = ZoneInfo("Europe/Oslo")

# Columns that record when a run happened, not what was delivered: a run's clock, so they differ
# between the homes by definition. Nothing else is left out.
RUN_TIME_COLUMNS = {
    "ingested_at",  # when a run loaded an event or a file (stg_registration_events, stg_ingested_files)
    "quarantined_at",  # when a run quarantined a line (stg_quarantine)
    "published_at",  # when a run published the serving copy (publish_info)
    # An incremental model's watermark: the latest ingested_at it has taken in (kritinfo_state).
    "ingested_through",
    "built_at",  # the dbt invocation that built a row of an incremental model
    "first_ingested_at",  # when a run first loaded a breakdown value (int_metric_dimension_values)
}
# Not what the runs build from the deliveries: raw is ingestion's record of the files (dbt reads it),
# the audit schema holds the rows of failed dbt tests.
NOT_BUILT = ("raw", "main_dbt_test__audit")
# What the last run rebuilt, not what it built: the periods it changed (every one on a first run).
RUN_WORK = {("main", "int_changed_periods")}
# A few relations of each layer: the comparison reaches the models the incremental work changes.
EXPECTED = {
    "stg_registration_events",
    "int_entry_states",
    "int_person_states",
    "coverage_by_county_month",
    "data_quality_daily",
    "metrics",
}
SHOWN = 5


def monthly(name: str) -> bool:
    return not name.startswith("kj-resend-")


def file_month(name: str) -> str:
    """kj-2024-03.ndjson[.gz] -> 2024-03: the month a monthly file delivers."""
    return name[3:10]


def file_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8-sig").splitlines()


def file_events(path: Path) -> list[dict]:
    """The lines of a delivered file that parse as JSON objects (malformed ones do not)."""
    events = []
    for text in file_lines(path):
        try:
            event = json.loads(text)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def oslo_day(instant: str) -> date:
    return datetime.fromisoformat(instant).astimezone(OSLO).date()


def oslo_month(instant: str) -> str:
    return f"{oslo_day(instant):%Y-%m}"


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def entry(event: dict) -> tuple[str, str]:
    return event["resource"]["resourceType"], event["resource"]["id"]


def months_between(earlier: str, later: str) -> int:
    (y1, m1), (y2, m2) = (map(int, month.split("-")) for month in (earlier, later))
    return (y2 - y1) * 12 + m2 - m1


def first_budget_year() -> int:
    with (SEEDS / "mandate_budget.csv").open(encoding="utf-8") as seed:
        return min(int(row["year"]) for row in csv.DictReader(seed))


def split(names: list[str]) -> list[list[str]]:
    """The history first (to the second month of the mandate's first budget year, so that the
    first delivery already has figures of every metric), then the later monthly files in
    consecutive groups, the redeliveries added to the last: BATCHES in all, in name order."""
    months = [name for name in names if monthly(name)]
    history = [name for name in months if file_month(name) <= f"{first_budget_year()}-02"]
    later = months[len(history) :]
    rest = BATCHES - 1
    batches = [history] + [later[i * len(later) // rest : (i + 1) * len(later) // rest] for i in range(rest)]
    batches[-1] += [name for name in names if not monthly(name)]
    return batches


def deliver(source: Path, home: Path, names: list[str]) -> None:
    landing = Paths(home).landing
    landing.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(source / name, landing / name)  # with its mtime: the file's arrival time


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> tuple[Path, list[list[str]], set[str]]:
    """(the folder the generator wrote, the batches of file names in delivery order, the ids of
    every valid event the generator made)."""
    source = tmp_path_factory.mktemp("delivery")
    written = write_delivery(source, seed=SEED, persons=PERSONS)
    names = sorted(path.name for path in source.iterdir())
    return source, split(names), {event["event_id"] for event in written.events}


@pytest.fixture(scope="module")
def homes(tmp_path_factory, delivery) -> tuple[Path, Path]:
    """(the incremental home, after one run per batch; the full home, after one run over all)."""
    source, batches, _ = delivery
    incremental, full = tmp_path_factory.mktemp("incremental"), tmp_path_factory.mktemp("full")
    deliver(source, full, [name for batch in batches for name in batch])
    # The full home's one run goes alongside the incremental runs (separate homes, ~1 core each).
    with ThreadPoolExecutor(max_workers=1) as pool:
        full_run = pool.submit(run_cli, full, "run")
        for number, batch in enumerate(batches, start=1):
            deliver(source, incremental, batch)
            # Malformed lines are quarantined, not rejected files: a clean 0, not FILES_REJECTED.
            result = run_cli(incremental, "run")
            assert result.returncode == 0, f"batch {number} of {len(batches)}: {result.stderr[-3000:]}"
        result = full_run.result()
    assert result.returncode == 0, f"the full run: {result.stderr[-3000:]}"
    return incremental, full


def test_later_batches_bring_events_of_months_delivered_earlier(delivery):
    """Not vacuous: the incremental home's later runs land events in months that earlier runs
    had already built, some of them months back. Found from the files alone."""
    source, batches, valid = delivery
    batch_of_month = {file_month(name): k for k, batch in enumerate(batches) for name in batch if monthly(name)}
    first_delivered: dict[str, tuple[int, str]] = {}  # event id -> (its first batch, its month)
    for k, batch in enumerate(batches):
        for name in batch:
            for event in file_events(source / name):
                if event.get("event_id") in valid:
                    first_delivered.setdefault(event["event_id"], (k, oslo_month(event["occurred_at"])))
    assert set(first_delivered) == valid, "every valid event is in some file"
    late = [(k, month) for k, month in first_delivered.values() if batch_of_month[month] < k]
    assert {k for k, _ in late} == set(range(1, len(batches))), "every batch after the first brings late events"
    # Months late, not merely across a batch's edge: some event is 3 months older than its batch.
    first_month = [min(file_month(name) for name in batch if monthly(name)) for batch in batches]
    assert max(months_between(month, first_month[k]) for k, month in late) >= 3


def relations(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, name) -> [(column, type)] of every table and view in a catalog, but those of NOT_BUILT."""
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? order by table_schema, table_name, ordinal_position",
        [catalog],
    ).fetchall()
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        if schema not in NOT_BUILT:
            found.setdefault((schema, table), []).append((column, data_type))
    return found


def select(alias: str, schema: str, table: str, columns: list[str]) -> str:
    listed = ", ".join(f'"{column}"' for column in columns)
    return f'select {listed} from "{alias}"."{schema}"."{table}"'


def differences(homes: tuple[Path, Path], database: str) -> tuple[set[tuple[str, str]], list[str], set[str]]:
    """Compares one database file of both homes: (the relations compared, what differs, the
    run-time columns left out). Of RUN_WORK, the columns only."""
    con = duckdb.connect()
    for alias, home in zip(("incremental", "full"), homes, strict=True):
        con.execute(f"attach '{home / database}' as \"{alias}\" (read_only)")
    ours, theirs = relations(con, "incremental"), relations(con, "full")
    found, left_out = [], set()
    if ours.keys() != theirs.keys():
        found.append(
            f"relations only in the incremental home: {sorted(ours.keys() - theirs.keys())}; "
            f"only in the full home: {sorted(theirs.keys() - ours.keys())}"
        )
    for schema, table in sorted(ours.keys() & theirs.keys()):
        columns = ours[(schema, table)]
        if columns != theirs[(schema, table)]:
            found.append(f"{schema}.{table}: columns differ: {columns} vs {theirs[(schema, table)]}")
            continue
        if (schema, table) in RUN_WORK:
            continue
        left_out |= {column for column, _ in columns} & RUN_TIME_COLUMNS
        kept = [column for column, _ in columns if column not in RUN_TIME_COLUMNS]
        # Multisets: each side's rows less the other's, duplicates counted (except all).
        only = {
            side: con.execute(
                f"select count(*) over (), * from ({select(side, schema, table, kept)} except all "
                f"{select(other, schema, table, kept)}) order by all limit {SHOWN}"
            ).fetchall()
            for side, other in (("incremental", "full"), ("full", "incremental"))
        }
        if any(only.values()):
            counts = {side: rows[0][0] if rows else 0 for side, rows in only.items()}
            shown = {side: [row[1:] for row in rows] for side, rows in only.items()}
            found.append(
                f"{schema}.{table} ({', '.join(kept)}): {counts['incremental']} rows only in the incremental "
                f"home, e.g. {shown['incremental']}; {counts['full']} only in the full home, e.g. {shown['full']}"
            )
    con.close()
    return set(ours), found, left_out


def test_the_incremental_warehouse_equals_the_full_one_relation_by_relation(homes):
    compared, found, left_out = differences(homes, Paths(homes[0]).warehouse.name)
    names = {table for schema, table in compared if schema == "main"}
    # Everything dbt builds (models and seeds, not ephemeral) is among what was compared.
    manifest = read_manifest(dbt_project.manifest_path)
    built = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed") and node["config"]["materialized"] != "ephemeral"
    }
    assert built - names == set(), "relations dbt builds that the warehouse lacks"
    assert EXPECTED <= names
    assert found == [], "\n".join(found)
    assert left_out >= {"ingested_at", "quarantined_at"}, "the run-time columns are still where they were"


def test_the_incremental_serving_copy_equals_the_full_one_table_by_table(homes):
    compared, found, left_out = differences(homes, Paths(homes[0]).serving.name)
    assert {("main", "metrics"), ("main", "coverage_by_county_month"), ("main", "publish_info")} <= compared
    assert found == [], "\n".join(found)
    assert left_out == {"published_at"}


def test_the_compared_relations_hold_rows(homes):
    """Equal because empty proves nothing: the key relations have rows in the incremental home."""
    with duckdb.connect(str(Paths(homes[0]).warehouse), read_only=True) as con:
        empty = [name for name in sorted(EXPECTED) if not con.execute(f'select count(*) from "{name}"').fetchone()[0]]
    assert empty == []


def test_the_last_run_rebuilt_the_periods_its_events_can_change(delivery, homes):
    """Marts and metrics of months are rebuilt per changed period: the last run's periods are the
    reported month ends from its earliest new event's month on, and the creation months of the
    entries its new events touch (docs/definitions.md, "Incremental runs"). Found from the files
    alone; the delivery brings no breakdown value new to its last batch (which would reach every
    month)."""
    source, batches, valid = delivery
    first_batch: dict[str, int] = {}
    events: dict[str, dict] = {}
    for k, batch in enumerate(batches):
        for name in batch:
            for event in file_events(source / name):
                if event.get("event_id") in valid and event["event_id"] not in events:
                    first_batch[event["event_id"]] = k
                    events[event["event_id"]] = event
    last = len(batches) - 1
    new = [event for event_id, event in events.items() if first_batch[event_id] == last]
    earlier = [event for event_id, event in events.items() if first_batch[event_id] < last]

    def breakdown_values(of: list[dict]) -> set[tuple[str, str]]:
        return (
            {("channel", e["channel"]) for e in of}
            | {("organisation_type", e["source"]["organisation_type"]) for e in of}
            | {("system", e["source"]["system"]) for e in of if e["channel"] == "api"}
        )

    assert breakdown_values(new) <= breakdown_values(earlier)

    days = [oslo_day(e["occurred_at"]) for e in events.values()]
    last_day = max(days)
    reported = {
        end
        for year in range(min(days).year, last_day.year + 1)
        for month in range(1, 13)
        if min(days).replace(day=1) <= (end := month_end(date(year, month, 1))) <= last_day
    }
    earliest_new = min(oslo_day(e["occurred_at"]) for e in new)
    reached = {end for end in reported if end >= month_end(earliest_new)}
    # An entry is its resource (type and id); its creation, its first created event in time.
    touched = {entry(e) for e in new}
    created: dict[tuple[str, str], datetime] = {}
    for e in events.values():
        if e["event_type"] == "created" and entry(e) in touched:
            instant = datetime.fromisoformat(e["occurred_at"])
            created[entry(e)] = min(created.get(entry(e), instant), instant)
    creation_months = {month_end(instant.astimezone(OSLO).date()) for instant in created.values()}

    with duckdb.connect(str(Paths(homes[0]).warehouse), read_only=True) as con:
        rebuilt = dict(con.execute("select period_end, reached_by_new_events from int_changed_periods").fetchall())
    assert {end for end, by_new_events in rebuilt.items() if by_new_events} == reached
    assert set(rebuilt) == reached | (creation_months & reported)
    assert reached < reported, "the last batch leaves earlier months as they were"
