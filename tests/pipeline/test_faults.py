"""Faults survived (issue 3, item 6), with `kritinfo run` for real (Dagster, dbt, DuckDB).

An uninterrupted run on a small simulation is the reference. Against it: a run killed with
SIGKILL while ingesting and while dbt builds, then run again; the same events in another file
split and delivered twice; two runs at once; no room to write; unreadable landing files (rejected).
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from pipelines.settings import Paths
from pipelines.simulate import SimulationConfig, simulate
from pipelines.single_writer import POOL, warehouse_lock
from tests.conftest import KRITINFO, run_cli

# About 750 events over two years, with redeliveries and broken lines, so every raw table has rows.
SIMULATION = SimulationConfig(
    start=date(2023, 7, 1), end=date(2025, 6, 30), scale=0.01, seed=5, duplicate_rate=0.03, malformed_rate=0.02
)
# Columns that record when a row was written, not what was delivered.
WRITE_TIME_COLUMNS = {"ingested_at", "quarantined_at", "replayed_at", "published_at"}
KILL_TIMEOUT_S = 900
# Marts about the deliveries themselves (files and arrival days), which a new split changes.
DELIVERY_MARTS = {"data_quality_daily", "data_quality_by_reason_daily"}
REDELIVERED_AT = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)  # noon in Oslo


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    return {**env, "KRITINFO_HOME": str(home), **extra}


def all_rows(database: Path, schema: str) -> dict[str, list[tuple]]:
    """Every table of a schema as sorted rows, without the write-time columns."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' "
                "order by 1",
                [schema],
            ).fetchall()
        ]
        rows = {}
        for table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in WRITE_TIME_COLUMNS
            ]
            selected = ", ".join(f'"{c}"' for c in columns)
            rows[table] = con.execute(f'select {selected} from {schema}."{table}" order by all').fetchall()
    return rows


def delivered_lines(folder: Path) -> list[bytes]:
    lines = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        lines.extend(gzip.decompress(data).splitlines() if path.name.endswith(".gz") else data.splitlines())
    return [line for line in lines if line.strip()]


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> Path:
    """The simulated files, kept apart: ingestion moves landing files to archive/."""
    folder = tmp_path_factory.mktemp("delivery")
    simulate(folder, SIMULATION)
    return folder


def home_with(tmp_path_factory, name: str, files: Path) -> Path:
    home = tmp_path_factory.mktemp(name)
    shutil.copytree(files, home / "landing")  # copytree keeps mtimes: the same arrival times
    return home


@pytest.fixture(scope="module")
def reference_home(tmp_path_factory, delivery: Path) -> Path:
    """One uninterrupted `kritinfo run` on the delivery."""
    home = home_with(tmp_path_factory, "uninterrupted", delivery)
    result = run_cli(home, "run")
    assert result.returncode == 0, result.stderr[-4000:]
    return home


def kill_run_when(home: Path, reached: Callable[[psutil.Process], bool]) -> None:
    """Start `kritinfo run`, and SIGKILL its whole process group once `reached` holds."""
    log = (home / "killed-runs.log").open("ab")
    run = subprocess.Popen([KRITINFO, "run"], env=cli_env(home), stdout=log, stderr=log, start_new_session=True)
    parent = psutil.Process(run.pid)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while run.poll() is None and not reached(parent) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before the point where it was to be killed"
    os.killpg(run.pid, signal.SIGKILL)
    assert run.wait(timeout=60) == -signal.SIGKILL
    log.close()


def dbt_is_building(seconds: float) -> Callable[[psutil.Process], bool]:
    """True `seconds` after a `dbt build` child process first showed up."""
    first_seen: list[float] = []

    def reached(parent: psutil.Process) -> bool:
        try:
            building = any(
                "build" in child.cmdline() and any(part.endswith("dbt") for part in child.cmdline())
                for child in parent.children(recursive=True)
            )
        except psutil.Error:  # a child ended while being looked at
            return False
        if building and not first_seen:
            first_seen.append(time.monotonic())
        return bool(first_seen) and time.monotonic() - first_seen[0] >= seconds

    return reached


def test_runs_killed_while_ingesting_and_while_building_then_rerun_match_an_uninterrupted_run(
    tmp_path_factory, delivery: Path, reference_home: Path
):
    home = home_with(tmp_path_factory, "killed", delivery)
    paths = Paths(home)
    # While ingesting: the warehouse's write-ahead log exists from the moment ingestion connects.
    kill_run_when(home, lambda _parent: paths.warehouse.with_name("warehouse.duckdb.wal").exists())
    assert not paths.serving.exists()
    kill_run_when(home, dbt_is_building(seconds=2))
    assert not paths.serving.exists()
    # A half-written copy, as a publish killed before its rename leaves it.
    leftover = home / ".serving.duckdb.99999.tmp"
    leftover.write_bytes(b"half a database")

    result = run_cli(home, "run")

    assert result.returncode == 0, result.stderr[-4000:]
    # Each killed run held the warehouse pool's slot; the run after it marked it failed and freed
    # the slot instead of waiting for it forever.
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        statuses = [run.status for run in reversed(instance.get_runs())]
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
    assert statuses == [DagsterRunStatus.FAILURE, DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS]
    assert not leftover.exists()
    assert all_rows(paths.serving, "main") == all_rows(reference_home / "serving.duckdb", "main")
    assert all_rows(paths.warehouse, "raw") == all_rows(reference_home / "warehouse.duckdb", "raw")


def test_the_same_events_in_another_split_and_delivered_twice_publish_the_same_copy(
    tmp_path_factory, delivery: Path, reference_home: Path
):
    lines = delivered_lines(delivery)
    # Five files of uneven sizes, two of them compressed, and a second copy of each under another name.
    cuts = [0, len(lines) // 7, len(lines) // 3, len(lines) // 2, len(lines) * 4 // 5, len(lines)]
    resplit = tmp_path_factory.mktemp("resplit")
    for number, (start, end) in enumerate(pairwise(cuts)):
        content = b"\n".join(lines[start:end]) + b"\n"
        for prefix in ("first", "second"):
            if number % 2:
                (resplit / f"{prefix}-{number}.ndjson.gz").write_bytes(gzip.compress(content))
            else:
                (resplit / f"{prefix}-{number}.ndjson").write_bytes(content)
    for path in resplit.iterdir():
        os.utime(path, (REDELIVERED_AT.timestamp(), REDELIVERED_AT.timestamp()))
    home = home_with(tmp_path_factory, "resplit", resplit)

    result = run_cli(home, "run")

    assert result.returncode == 0, result.stderr[-4000:]
    published = all_rows(home / "serving.duckdb", "main")
    reference_published = all_rows(reference_home / "serving.duckdb", "main")
    assert published.keys() == reference_published.keys()
    for table in published.keys() - DELIVERY_MARTS:
        assert published[table] == reference_published[table], table
    with duckdb.connect(str(reference_home / "warehouse.duckdb"), read_only=True) as reference:
        loaded, quarantined = reference.execute(
            "select (select count(*) from raw.events), (select count(*) from raw.quarantine)"
        ).fetchone()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        events, duplicates, refused = con.execute(
            "select (select count(*) from raw.events), (select count(*) from raw.duplicate_deliveries), "
            "(select count(*) from raw.quarantine)"
        ).fetchone()
    # Every line was delivered twice: the events are loaded once, each broken line is refused
    # twice, and every other line is a counted duplicate.
    assert (events, refused) == (loaded, 2 * quarantined)
    assert duplicates == 2 * len(lines) - loaded - 2 * quarantined
    # All ten files arrived on one day, and the delivery mart says so.
    assert [row[:-1] for row in published["data_quality_daily"]] == [
        (REDELIVERED_AT.date(), 10, 2 * len(lines), loaded, duplicates, 2 * quarantined)
    ]


def test_a_run_waits_for_the_writer_and_then_the_warehouse_is_consistent(tmp_path_factory, delivery: Path):
    home = home_with(tmp_path_factory, "two-writers", delivery)
    paths = Paths(home)
    with warehouse_lock(paths):
        # Impatient: gives up after a second, with one clear line.
        refused = subprocess.run(
            [KRITINFO, "run"],
            env=cli_env(home, KRITINFO_WAREHOUSE_LOCK_TIMEOUT="1"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "kritinfo run: another kritinfo run is writing the warehouse "
            "(waited 1 s for its lock); run again when it has finished"
        )
        assert not paths.warehouse.exists()
        # Patient: two ingestions at once (the refused run above wrote dagster.yaml: pool limit 1).
        ingest = (
            "from dagster import DagsterInstance, materialize\n"
            "from pipelines.ingest.assets import raw_tables\n"
            "with DagsterInstance.get() as instance:\n"
            "    assert materialize([raw_tables], instance=instance).success\n"
        )
        env = cli_env(home, DAGSTER_HOME=str(paths.dagster_home))
        # The instance's storage is made once here: two processes making it at once would collide.
        with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
            logs = [home / f"ingestion-{number}.log" for number in range(2)]
            ingestions = [
                subprocess.Popen(
                    [str(Path(KRITINFO).with_name("python")), "-c", ingest],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log.open("w"),
                )
                for log in logs
            ]
            deadline = time.monotonic() + 300
            while len(instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED]))) < 2:
                ended = [log for log, ingestion in zip(logs, ingestions, strict=True) if ingestion.poll() is not None]
                assert not ended, ended[0].read_text()[-4000:]
                assert time.monotonic() < deadline, "the two ingestion runs did not start"
                time.sleep(0.5)
        time.sleep(5)
        # Both runs are under way, and neither has opened the warehouse.
        assert [ingestion.poll() for ingestion in ingestions] == [None, None]
        assert not paths.warehouse.exists()
    for log, ingestion in zip(logs, ingestions, strict=True):
        assert ingestion.wait(timeout=600) == 0, log.read_text()[-4000:]

    landed = delivered_lines(paths.archive)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        files, lines_read, rows = con.execute(
            "select count(*), sum(lines_read), sum(loaded + duplicates + quarantined) from raw.ingested_files"
        ).fetchone()
        events, duplicates, quarantined = con.execute(
            "select (select count(*) from raw.events), (select count(*) from raw.duplicate_deliveries), "
            "(select count(*) from raw.quarantine)"
        ).fetchone()
    # Each file once, each line once: nothing was ingested by both.
    assert files == len(list(paths.archive.iterdir()))
    assert lines_read == rows == len(landed) == events + duplicates + quarantined


def copy_of_published(tmp_path_factory, reference_home: Path, name: str) -> Path:
    """The reference's warehouse and serving copy in a new home (a fresh Dagster instance)."""
    home = tmp_path_factory.mktemp(name)
    for kept in ("warehouse.duckdb", "serving.duckdb"):
        shutil.copy2(reference_home / kept, home / kept)
    (home / "landing").mkdir()
    return home


def kritinfo_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kritinfo run:")]


def test_no_room_to_write_fails_the_run_clearly_and_keeps_the_published_copy(tmp_path_factory, reference_home: Path):
    home = copy_of_published(tmp_path_factory, reference_home, "no-room")
    published = (home / "serving.duckdb").read_bytes()
    # New events to load: about 24 MB, another simulated year at a larger scale.
    simulate(home / "landing", SimulationConfig(start=date(2025, 7, 1), end=date(2026, 6, 30), scale=0.5, seed=6))
    # Dagster writes some 7 MB of run history before ingestion starts: 16 MiB leaves room for
    # that, not for the new events.
    limit = 16 << 20

    def no_room() -> None:
        # Writes past the limit fail with EFBIG, as on a full disk; ignoring SIGXFSZ keeps the process alive.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [KRITINFO, "run"], env=cli_env(home), capture_output=True, text=True, timeout=900, preexec_fn=no_room
    )

    assert result.returncode == 1
    assert kritinfo_lines(result.stderr) == [
        "kritinfo run: step raw_tables failed: cannot write the warehouse: file size limit reached; "
        "free space and run again (the last published copy is unchanged)"
    ], result.stderr[-4000:]
    assert (home / "serving.duckdb").read_bytes() == published
    # The failed batch was rolled back: the warehouse opens and holds what it held before.
    assert all_rows(home / "warehouse.duckdb", "raw") == all_rows(reference_home / "warehouse.duckdb", "raw")


def test_unreadable_landing_files_are_rejected_by_name_and_the_rest_is_published(
    tmp_path_factory, reference_home: Path
):
    home = copy_of_published(tmp_path_factory, reference_home, "unreadable")
    (home / "landing" / "corrupt.ndjson.gz").write_bytes(b'{"event_id": "not compressed at all"}\n')
    (home / "landing" / "x.ndjson").symlink_to(home / "nowhere.ndjson")

    result = run_cli(home, "run")

    # Both are reported in one run (nothing lost in silence): the link moved to rejected/, the
    # file, whose bytes were never checked, not kept; the run publishes what it has and exits 3.
    assert result.returncode == 3, result.stderr[-4000:]
    reported = kritinfo_lines(result.stderr)
    assert reported[:2] == [
        "kritinfo run: rejected landing file corrupt.ndjson.gz: its gzip data is damaged or cut short; "
        "not kept (its bytes were not checked; the producer holds it, raw.rejected_files its sha256)",
        f"kritinfo run: rejected landing file x.ndjson: it is a symbolic link (links are never followed); "
        f"moved to rejected/{os.listdir(home / 'rejected')[0]}",
    ]
    assert not list((home / "landing").iterdir())
    assert [name.split("-", 1)[1] for name in os.listdir(home / "rejected")] == ["x.ndjson"]
    assert all_rows(home / "serving.duckdb", "main") == all_rows(reference_home / "serving.duckdb", "main")
