"""Validate new landing files in parallel and load them into the warehouse.

Every non-blank line ends as exactly one of: loaded (a new ``event_id``), duplicate (an
``event_id`` already loaded, earlier in the warehouse or earlier in file/line order) or
quarantined (with reason), placed by ``load_validated_lines``, which ``kritinfo quarantine
replay`` uses too. A batch of files is written in one transaction together with
its rows in ``raw.ingested_files``, so a killed run leaves either all of a file or none.

A landing entry that cannot be read as an event file (``landing.inspect``) is moved to
rejected/ on record and every other file is still ingested. A file's identity is its name and
the sha256 of its bytes: a different file delivered under a name already ingested is renamed
``<name>~<first 12 hex of its sha256>`` and ingested as its own delivery (so its events count,
and its lines keep their own place in quarantine and archive); a copy with the same name and
bytes is the same delivery and is not ingested twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from multiprocessing import get_context
from operator import attrgetter
from pathlib import Path
from queue import Queue
from threading import Thread
from typing import NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract.validation import AcceptedEvent, Rejection, validate_line
from pipelines.ingest import warehouse
from pipelines.ingest.archive import archive_delivered_again, archive_ingested
from pipelines.ingest.landing import (
    Inspection,
    ingested_name,
    inspect,
    read_file,
    ready_files,
    renamed_delivery,
    split_lines,
)
from pipelines.ingest.rejected import RejectedFile, reject
from pipelines.settings import Bounds, Paths, bounds

# About 5,000 lines of national data per worker task and 50,000 per transaction.
CHUNK_BYTES = 6_000_000
BATCH_BYTES = 60_000_000
BATCHES_AHEAD = 2
# Below this many lines a process pool costs more (start-up, imports) than it saves.
PARALLEL_THRESHOLD_BYTES = 20_000_000

_EVENT_FIELDS = [f.name for f in fields(AcceptedEvent)]
_event_values = attrgetter(*_EVENT_FIELDS)  # an AcceptedEvent's fields as a tuple
_ARROW_TYPES = {"occurred_at": pa.timestamp("us", tz="UTC"), "patient_birth_year": pa.int32()}
# Accepted lines: an AcceptedEvent's fields (the columns of raw.events) and where the line was read.
ACCEPTED_SCHEMA = pa.schema(
    [(name, _ARROW_TYPES.get(name, pa.string())) for name in _EVENT_FIELDS]
    + [("source_file", pa.string()), ("source_line", pa.int32())]
)


class RefusedLine(NamedTuple):
    """A line the validator refused, as ``raw.quarantine`` keeps it."""

    source_file: str
    source_line: int
    reason_code: str
    reason: str
    masked_text: str


_REFUSED_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int32()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
        ("masked_text", pa.string()),
    ]
)


@dataclass(frozen=True)
class FileCounts:
    source_file: str
    size_bytes: int
    lines_read: int
    blank_lines: int
    loaded: int
    duplicates: int
    quarantined: int
    arrived_at: datetime  # the file's modification time: when it was delivered
    sha256: str  # of the delivered bytes: with the name, the file's identity

    @property
    def reconciles(self) -> bool:
        return self.lines_read == self.loaded + self.duplicates + self.quarantined


@dataclass(frozen=True)
class IngestReport:
    files: list[FileCounts]
    seconds: float
    rejected: list[RejectedFile]
    # Landing copies with the name and bytes of a file already ingested: the same delivery again.
    already_ingested: list[str]

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def events_per_second(self) -> float:
        return self.total("lines_read") / self.seconds if self.seconds else 0.0

    def as_metadata(self) -> dict[str, int | float]:
        return {
            "files": len(self.files),
            "lines_read": self.total("lines_read"),
            "loaded": self.total("loaded"),
            "duplicates": self.total("duplicates"),
            "quarantined": self.total("quarantined"),
            "blank_lines": self.total("blank_lines"),
            "files_rejected": len(self.rejected),
            "seconds": round(self.seconds, 2),
            "lines_per_second": round(self.events_per_second),
        }


@dataclass(frozen=True)
class ValidatedLines:
    """Lines of one file, validated: the accepted ones (rows of ACCEPTED_SCHEMA) and the refused ones."""

    source_file: str
    lines_read: int  # not blank: each is accepted or refused
    blank_lines: int
    accepted: pa.Table
    refused: list[RefusedLine]


class LineCounts(NamedTuple):
    loaded: int
    duplicates: int
    quarantined: int


@dataclass(frozen=True)
class LineOutcomes:
    """What became of each line given to ``load_validated_lines``."""

    loaded: pa.Table  # source_file, source_line of the lines whose event is now in raw.events
    duplicates: pa.Table  # source_file, source_line of the lines now in raw.duplicate_deliveries
    quarantined: list[RefusedLine]  # now in raw.quarantine with this reason

    def counts_by_file(self) -> dict[str, LineCounts]:
        """Per file with any line given; a file given no line has none."""
        loaded, duplicates = _count_by_file(self.loaded), _count_by_file(self.duplicates)
        quarantined: dict[str, int] = {}
        for line in self.quarantined:
            quarantined[line.source_file] = quarantined.get(line.source_file, 0) + 1
        return {
            name: LineCounts(loaded.get(name, 0), duplicates.get(name, 0), quarantined.get(name, 0))
            for name in loaded.keys() | duplicates.keys() | quarantined.keys()
        }


def _count_by_file(lines: pa.Table) -> dict[str, int]:
    return {row["values"]: row["counts"] for row in pc.value_counts(lines["source_file"]).to_pylist()}


@dataclass(frozen=True)
class _Part:
    """A byte range of a file (after decompression and BOM) and the number of its first line."""

    path: Path
    start: int
    end: int | None
    first_line: int
    delivered_at: datetime


def _plan_parts(path: Path, delivered_at: datetime, limits: Bounds) -> list[_Part]:
    """One part per file, or newline-aligned ranges of about CHUNK_BYTES for large plain files.

    A compressed file is one part: only decompressing it tells where its lines are.
    """
    if path.name.endswith(".gz") or path.stat().st_size <= CHUNK_BYTES:
        return [_Part(path, 0, None, 1, delivered_at)]
    data = read_file(path, limits.max_file_bytes)
    parts, start, line = [], 0, 1
    while start < len(data):
        cut = data.find(b"\n", start + CHUNK_BYTES)
        end = len(data) if cut == -1 else cut + 1
        parts.append(_Part(path, start, end, line, delivered_at))
        line += data.count(b"\n", start, end)
        start = end
    return parts or [_Part(path, 0, None, 1, delivered_at)]


def _validate_parts(parts: list[_Part], limits: Bounds) -> list[ValidatedLines]:
    """Worker: read and validate some parts; the main process never handles the lines."""
    return [
        validate_lines(
            part.path.name,
            part.first_line,
            split_lines(read_file(part.path, limits.max_file_bytes)[part.start : part.end]),
            part.delivered_at,
            limits,
        )
        for part in parts
    ]


def validate_lines(
    source_file: str,
    first_line: int,
    lines: list[bytes],
    delivered_at: datetime | None = None,
    limits: Bounds | None = None,
) -> ValidatedLines:
    """Validate the lines of a file delivered at `delivered_at` (default: now; see validate_line)."""
    limits = limits or bounds()
    rows: list[tuple] = []
    lines_at: list[int] = []
    refused: list[RefusedLine] = []
    blank = 0
    for offset, raw in enumerate(lines):
        if not raw.strip():
            blank += 1
            continue
        line_number = first_line + offset
        result = validate_line(raw, delivered_at, limits)
        if isinstance(result, Rejection):
            refused.append(RefusedLine(source_file, line_number, result.reason_code, result.reason, result.masked_text))
            continue
        rows.append(_event_values(result))
        lines_at.append(line_number)
    # Rows to columns (an AcceptedEvent's fields, in order); no row: empty columns.
    values = zip(*rows, strict=True) if rows else ([] for _ in _EVENT_FIELDS)
    columns: dict[str, list] = {name: list(column) for name, column in zip(_EVENT_FIELDS, values, strict=True)}
    columns["source_file"] = [source_file] * len(lines_at)
    columns["source_line"] = lines_at
    return ValidatedLines(source_file, len(lines) - blank, blank, pa.table(columns, schema=ACCEPTED_SCHEMA), refused)


def _batches(
    files: list[tuple[Path, Inspection]], limits: Bounds
) -> Iterator[tuple[list[tuple[Path, Inspection]], list[list[_Part]]]]:
    """Batches of whole files (one transaction each), as tasks of about CHUNK_BYTES of parts."""
    batch: list[tuple[Path, Inspection]] = []
    tasks: list[list[_Part]] = [[]]
    task_bytes = batch_bytes = 0
    for path, inspection in files:
        batch.append((path, inspection))
        for part in _plan_parts(path, _delivered_at(inspection), limits):
            size = (part.end or inspection.size_bytes) - part.start
            if task_bytes and task_bytes + size > CHUNK_BYTES:
                tasks.append([])
                task_bytes = 0
            tasks[-1].append(part)
            task_bytes += size
            batch_bytes += size
        if batch_bytes >= BATCH_BYTES:
            yield batch, tasks
            batch, tasks, task_bytes, batch_bytes = [], [[]], 0, 0
    if batch:
        yield batch, tasks


def _delivered_at(inspection: Inspection) -> datetime:
    return datetime.fromtimestamp(inspection.mtime, UTC)


def _submit(executor: Executor | None, tasks: list[list[_Part]], limits: Bounds) -> list[Future | list[ValidatedLines]]:
    if executor is None:
        return [_validate_parts(task, limits) for task in tasks]
    return [executor.submit(_validate_parts, task, limits) for task in tasks]


def _worker_context():
    """Workers fork from a server that has imported the validator and every FHIR model once."""
    context = get_context("forkserver")
    context.set_forkserver_preload(["pipelines.ingest.worker_preload"])
    return context


def ingest_new_files(paths: Paths, workers: int | None = None) -> IngestReport:
    """Ingest every ready landing file not yet in ``raw.ingested_files``."""
    started = time.perf_counter()
    limits = bounds()
    con = warehouse.connect(paths.warehouse)
    rejected: list[RejectedFile] = []
    try:
        done = dict(con.execute("select source_file, sha256 from raw.ingested_files").fetchall())
        finished: dict[str, str] = {}  # ingested already (left by an interrupted run, or sent again): its name then
        todo: list[tuple[Path, Inspection]] = []
        for path in ready_files(paths.landing):
            inspection = inspect(path, limits.max_file_bytes)
            if inspection.problem:
                rejected.append(reject(con, paths, path, inspection))
            elif ingested := ingested_name(path.name, inspection.sha256, done):
                finished[path.name] = ingested
            elif path.name in done:
                renamed = path.with_name(renamed_delivery(path.name, inspection.sha256))
                os.rename(path, renamed)
                todo.append((renamed, inspection))
            else:
                todo.append((path, inspection))
        archive_delivered_again(con, paths, finished)
        workers = workers or os.cpu_count() or 1
        total_bytes = sum(inspection.size_bytes for _, inspection in todo)
        parallel = workers > 1 and total_bytes > PARALLEL_THRESHOLD_BYTES
        executor = ProcessPoolExecutor(workers, mp_context=_worker_context()) if parallel else None
        writer = _WarehouseWriter(con, paths)
        writer.start()
        try:
            for batch, tasks in _batches(todo, limits):
                if writer.error:
                    break
                writer.queue.put((batch, _submit(executor, tasks, limits)))
        finally:
            writer.queue.put(None)
            writer.join()
            if executor:
                executor.shutdown(cancel_futures=True)
        if writer.error:
            raise writer.error
    finally:
        con.close()  # includes the final checkpoint, so it counts in the measured time
    return IngestReport(writer.counts, time.perf_counter() - started, rejected, sorted(finished.values()))


class _WarehouseWriter(Thread):
    """Writes validated batches while later ones are read and validated (DuckDB releases the GIL).

    Its queue holds at most BATCHES_AHEAD batches, which bounds memory. After an error it only
    drains the queue, and the caller re-raises the error. A committed batch's files are archived
    at once, so landing/ keeps no identifier of an ingested file.
    """

    def __init__(self, con, paths: Paths):
        super().__init__(name="warehouse-writer")
        self.con = con
        self.paths = paths
        self.queue: Queue = Queue(maxsize=BATCHES_AHEAD)
        self.counts: list[FileCounts] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    counts = _write_batch(self.con, *item)
                    archive_ingested(self.con, self.paths, [c.source_file for c in counts])
                    self.counts.extend(counts)
                except BaseException as error:  # noqa: BLE001 (re-raised by ingest_new_files)
                    self.error = error


def _write_batch(con, batch: list[tuple[Path, Inspection]], submitted: list) -> list[FileCounts]:
    validated = [v for task in submitted for v in (task.result() if isinstance(task, Future) else task)]
    now = datetime.now(UTC)
    con.execute("begin")
    try:
        by_file = load_validated_lines(con, validated, now).counts_by_file()
        counts = []
        for path, inspection in batch:
            name = path.name
            chunks = [v for v in validated if v.source_file == name]
            lines = by_file.get(name, LineCounts(0, 0, 0))
            counts.append(
                FileCounts(
                    source_file=name,
                    size_bytes=inspection.size_bytes,
                    lines_read=sum(v.lines_read for v in chunks),
                    blank_lines=sum(v.blank_lines for v in chunks),
                    loaded=lines.loaded,
                    duplicates=lines.duplicates,
                    quarantined=lines.quarantined,
                    arrived_at=_delivered_at(inspection),
                    sha256=inspection.sha256,
                )
            )
        insert_rows(
            con,
            "raw.ingested_files",
            pa.Table.from_pylist([asdict(c) for c in counts]),
            "*, $now as ingested_at",
            {"now": now},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> Iterator[None]:
    """``rows`` readable as the view ``name`` for the duration of the block only."""
    con.register(name, rows)
    try:
        yield
    finally:
        con.unregister(name)


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, columns: str, params: dict, on_conflict: str = ""
) -> None:
    """Insert ``rows`` into ``table`` by name, as ``select {columns}`` from them."""
    with _registered(con, "rows_to_insert", rows):
        con.execute(f"insert into {table} by name select {columns} from rows_to_insert {on_conflict}", params)


def load_validated_lines(
    con: duckdb.DuckDBPyConnection, validated: Sequence[ValidatedLines], now: datetime
) -> LineOutcomes:
    """Put each validated line where it belongs, as of ``now``, in the caller's transaction.

    The first accepted line, in (file, line) order, of each event_id not yet in raw.events is
    loaded there; every other accepted line goes to raw.duplicate_deliveries; every refused line
    is quarantined with its reason (a line quarantined before keeps its quarantined_at). A line
    that is loaded or a duplicate leaves the quarantine: a replayed line ends in one place.
    Shared by ingestion and ``kritinfo quarantine replay``; leaves nothing on the connection.
    """
    accepted = pa.concat_tables([v.accepted for v in validated]) if validated else ACCEPTED_SCHEMA.empty_table()
    refused = [line for v in validated for line in v.refused]
    with _registered(con, "accepted_lines", accepted):
        # Decide on the narrow key columns first; only the loaded rows' wide columns are copied.
        loaded = con.sql(
            """
            select firsts.first_delivery.source_file, firsts.first_delivery.source_line
            from (
                -- A struct's minimum is its first in (file, line) order.
                select event_id, min({'source_file': source_file, 'source_line': source_line}) as first_delivery
                from accepted_lines
                group by event_id
            ) as firsts
            anti join raw.events as existing on existing.event_id = firsts.event_id
            """
        ).to_arrow_table()
        with _registered(con, "loaded_lines", loaded):
            con.execute(
                f"insert into raw.events select {', '.join(_EVENT_FIELDS)}, source_file, source_line, $now "
                "from accepted_lines semi join loaded_lines using (source_file, source_line)",
                {"now": now},
            )
            duplicates = con.sql(
                "insert into raw.duplicate_deliveries select event_id, source_file, source_line, $now "
                "from accepted_lines anti join loaded_lines using (source_file, source_line) "
                "returning source_file, source_line",
                params={"now": now},
            ).to_arrow_table()
    if refused:
        # A replayed line still refused is quarantined already: it takes its new reason, keeps its time.
        insert_rows(
            con,
            "raw.quarantine",
            pa.Table.from_pylist([line._asdict() for line in refused], _REFUSED_SCHEMA),
            "*, $now as quarantined_at",
            {"now": now},
            "on conflict (source_file, source_line) do update set reason_code = excluded.reason_code, "
            "reason = excluded.reason, masked_text = excluded.masked_text",
        )
    placed = pa.concat_tables([loaded, duplicates])
    if placed.num_rows:
        with _registered(con, "placed_lines", placed):
            con.execute(
                "delete from raw.quarantine as q using placed_lines as p "
                "where q.source_file = p.source_file and q.source_line = p.source_line"
            )
    return LineOutcomes(loaded, duplicates, refused)
