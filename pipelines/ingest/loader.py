"""Validate new landing files in parallel and load them into the warehouse.

Every non-blank line ends as exactly one of: loaded (a new ``event_id``), duplicate (an
``event_id`` already loaded, earlier in the warehouse or earlier in file/line order) or
quarantined (with reason). A batch of files is written in one transaction together with
its rows in ``raw.ingested_files``, so a killed run leaves either all of a file or none.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa

from pipelines.contract.validation import Event, Rejection, validate_line
from pipelines.ingest import warehouse
from pipelines.ingest.landing import read_lines, ready_files
from pipelines.settings import Paths

CHUNK_LINES = 5_000
BATCH_LINES = 100_000
# Below this many lines a process pool costs more (start-up, imports) than it saves.
PARALLEL_THRESHOLD = 20_000

_EVENT_FIELDS = [f.name for f in fields(Event)]
_ARROW_TYPES = {"occurred_at": pa.timestamp("us", tz="UTC"), "patient_birth_year": pa.int32()}


@dataclass(frozen=True)
class FileCounts:
    source_file: str
    size_bytes: int
    lines_read: int
    blank_lines: int
    loaded: int
    duplicates: int
    quarantined: int

    @property
    def reconciles(self) -> bool:
        return self.lines_read == self.loaded + self.duplicates + self.quarantined


@dataclass(frozen=True)
class IngestReport:
    files: list[FileCounts]
    seconds: float

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
            "seconds": round(self.seconds, 2),
            "lines_per_second": round(self.events_per_second),
        }


@dataclass
class _ChunkResult:
    source_file: str
    lines_read: int
    blank_lines: int
    accepted: pa.Table
    rejections: list[tuple]


def identifier_hash_key(paths: Paths) -> bytes:
    """The key for masking identifiers: KRITINFO_IDENTIFIER_KEY (hex) or a key file made once."""
    from_env = os.environ.get("KRITINFO_IDENTIFIER_KEY")
    if from_env:
        return bytes.fromhex(from_env)
    key_file = paths.identifier_key_file
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return key_file.read_bytes()


def _validate_chunk(task: tuple[str, int, list[bytes], bytes]) -> _ChunkResult:
    source_file, first_line, lines, key = task
    columns: dict[str, list] = {name: [] for name in _EVENT_FIELDS}
    lines_at: list[int] = []
    rejections: list[tuple] = []
    blank = 0
    for offset, raw in enumerate(lines):
        if not raw.strip():
            blank += 1
            continue
        line_number = first_line + offset
        result = validate_line(raw, key)
        if isinstance(result, Rejection):
            rejections.append((source_file, line_number, result.reason_code, result.reason, result.masked_text))
            continue
        for name in _EVENT_FIELDS:
            columns[name].append(getattr(result, name))
        lines_at.append(line_number)
    arrays = {name: pa.array(values, type=_ARROW_TYPES.get(name, pa.string())) for name, values in columns.items()}
    arrays["source_file"] = pa.array([source_file] * len(lines_at), type=pa.string())
    arrays["source_line"] = pa.array(lines_at, type=pa.int32())
    return _ChunkResult(source_file, len(lines) - blank, blank, pa.table(arrays), rejections)


def _batches(files: list[Path]) -> Iterator[list[tuple[Path, list[bytes]]]]:
    batch: list[tuple[Path, list[bytes]]] = []
    size = 0
    for path in files:
        lines = read_lines(path)
        batch.append((path, lines))
        size += len(lines)
        if size >= BATCH_LINES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _submit(executor: Executor | None, batch: list[tuple[Path, list[bytes]]], key: bytes) -> list[Future | _ChunkResult]:
    tasks = [
        (path.name, start + 1, lines[start : start + CHUNK_LINES], key)
        for path, lines in batch
        for start in range(0, max(len(lines), 1), CHUNK_LINES)
    ]
    if executor is None:
        return [_validate_chunk(task) for task in tasks]
    return [executor.submit(_validate_chunk, task) for task in tasks]


def ingest_new_files(paths: Paths, workers: int | None = None) -> IngestReport:
    """Ingest every ready landing file not yet in ``raw.ingested_files``."""
    started = time.perf_counter()
    key = identifier_hash_key(paths)
    con = warehouse.connect(paths.warehouse)
    try:
        done = {row[0] for row in con.execute("select source_file from raw.ingested_files").fetchall()}
        todo = [path for path in ready_files(paths.landing) if path.name not in done]
        workers = workers or os.cpu_count() or 1
        total_bytes = sum(path.stat().st_size for path in todo)
        parallel = workers > 1 and total_bytes > PARALLEL_THRESHOLD * 1_000
        executor = ProcessPoolExecutor(workers, mp_context=get_context("forkserver")) if parallel else None
        counts: list[FileCounts] = []
        try:
            pending: tuple[list, list] | None = None
            for batch in _batches(todo):
                # Validate this batch while the previous one is written.
                submitted = (batch, _submit(executor, batch, key))
                if pending:
                    counts.extend(_write_batch(con, *pending))
                pending = submitted
            if pending:
                counts.extend(_write_batch(con, *pending))
        finally:
            if executor:
                executor.shutdown(cancel_futures=True)
        return IngestReport(counts, time.perf_counter() - started)
    finally:
        con.close()


def _write_batch(con, batch: list[tuple[Path, list[bytes]]], submitted: list) -> list[FileCounts]:
    results: list[_ChunkResult] = [r.result() if isinstance(r, Future) else r for r in submitted]
    now = datetime.now(timezone.utc)
    incoming = pa.concat_tables([r.accepted for r in results])
    rejections = [row for r in results for row in r.rejections]
    con.execute("begin")
    try:
        con.register("incoming", incoming)
        con.execute(
            """
            create or replace temp table incoming_new as
            select * exclude (delivery_rank) from (
                select *, row_number() over (partition by event_id order by source_file, source_line) as delivery_rank
                from incoming
            ) as i
            where delivery_rank = 1 and not exists (select 1 from raw.events as e where e.event_id = i.event_id)
            """
        )
        con.execute(f"insert into raw.events select {', '.join(_EVENT_FIELDS[:-1])}, resource_json::json, source_file, source_line, $now from incoming_new", {"now": now})
        con.execute(
            """
            insert into raw.duplicate_deliveries
            select event_id, source_file, source_line, $now from incoming
            anti join incoming_new using (source_file, source_line)
            """,
            {"now": now},
        )
        if rejections:
            con.executemany(
                "insert into raw.quarantine values (?, ?, ?, ?, ?, ?)", [(*row, now) for row in rejections]
            )
        loaded = dict(con.execute("select source_file, count(*) from incoming_new group by 1").fetchall())
        arrived = dict(con.execute("select source_file, count(*) from incoming group by 1").fetchall())
        con.unregister("incoming")
        counts = []
        for path, _lines in batch:
            name = path.name
            chunks = [r for r in results if r.source_file == name]
            quarantined = sum(len(r.rejections) for r in chunks)
            counts.append(
                FileCounts(
                    source_file=name,
                    size_bytes=path.stat().st_size,
                    lines_read=sum(r.lines_read for r in chunks),
                    blank_lines=sum(r.blank_lines for r in chunks),
                    loaded=loaded.get(name, 0),
                    duplicates=arrived.get(name, 0) - loaded.get(name, 0),
                    quarantined=quarantined,
                )
            )
        con.executemany(
            "insert into raw.ingested_files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.source_file, c.size_bytes, c.lines_read, c.blank_lines, c.loaded, c.duplicates, c.quarantined, now)
                for c in counts
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts
