"""Act on the quarantine: list its lines, summarise them, and replay them after a fix.

A replay re-reads each selected quarantined line from its ingested file (in ``archive/``, or
``landing/`` until archived) and validates it again with the current validator. The archive
keeps a quarantined line only as its masked text (pipelines/contract/masking.py), which is the
line as delivered when masking replaced nothing in it. A line that still holds a mask token is
not what was delivered and is never replayed: it is left as it is until the operator writes the
producer's corrected line in its place in the archived file (without adding or removing lines,
which would renumber them), or the producer delivers it again in a new file. So both a corrected
line and a corrected validator count, the latter for lines without masked values. A line that
now passes is loaded (or counted as a duplicate when its ``event_id`` is already loaded) and
leaves the quarantine; one that still fails stays, with the reason it fails for now. The file's
row in ``raw.ingested_files`` moves the line from quarantined to loaded or duplicates, so lines
read = loaded + duplicates + quarantined still holds, and every replayed line is recorded in
``raw.quarantine_replays``. A replay is one transaction: all of it or nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import duckdb
import pyarrow as pa

from pipelines.contract.masking import MASK_TOKEN
from pipelines.contract.validation import REASON_CODES, validate_line  # noqa: F401 (the CLI reads REASON_CODES here)
from pipelines.ingest import warehouse
from pipelines.ingest.archive import ingested_file_path
from pipelines.ingest.landing import read_file, split_lines
from pipelines.ingest.loader import (
    ACCEPTED_SCHEMA,
    RefusedLine,
    ValidatedLines,
    insert_rows,
    load_validated_lines,
    validate_lines,
)
from pipelines.settings import Paths
from pipelines.single_writer import WarehouseBusy, warehouse_lock

LOADED = "loaded"
DUPLICATE = "duplicate"
STILL_QUARANTINED = "still_quarantined"
SOURCE_MISSING = "source_missing"
OUTCOMES = (LOADED, DUPLICATE, STILL_QUARANTINED, SOURCE_MISSING)


class QuarantineError(RuntimeError):
    """The warehouse cannot be opened as asked; the message says why and what to do."""


@dataclass(frozen=True)
class QuarantinedLine:
    source_file: str
    source_line: int
    reason_code: str
    reason: str
    masked_text: str
    quarantined_at: datetime


@dataclass(frozen=True)
class QuarantineSummary:
    lines: int
    by_reason: list[tuple[str, int]]  # most lines first
    by_file: list[tuple[str, int]]  # most lines first


class _LineAt(NamedTuple):
    source_file: str
    source_line: int


class _ReplayedLine(NamedTuple):
    """A row of ``raw.quarantine_replays`` without its time."""

    source_file: str
    source_line: int
    outcome: str
    reason_code: str | None  # when still quarantined


_REPLAYED_SCHEMA = pa.schema(
    [("source_file", pa.string()), ("source_line", pa.int32()), ("outcome", pa.string()), ("reason_code", pa.string())]
)


@dataclass(frozen=True)
class _Revalidation:
    validated: list[ValidatedLines]  # one per line found without masked text
    missing: list[_LineAt]  # the file, or the line in it, is gone
    masked: int  # lines that still hold masked text: never replayed


@dataclass(frozen=True)
class ReplayReport:
    outcomes: dict[str, int]  # every outcome in OUTCOMES, with its number of lines
    still_quarantined_by_reason: dict[str, int]
    masked_lines_kept: int  # matched the selection but still hold masked text: never replayed

    @property
    def replayed(self) -> int:
        return sum(self.outcomes.values())


def _open(paths: Paths, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not paths.warehouse.exists():
        raise QuarantineError(f"there is no warehouse at {paths.warehouse} yet: run `kritinfo run` first")
    try:
        if read_only:
            return duckdb.connect(str(paths.warehouse), read_only=True)
        return warehouse.connect(paths.warehouse)
    except duckdb.IOException as error:
        # DuckDB lets one process write a database file, and none read it meanwhile.
        raise QuarantineError(
            f"the warehouse {paths.warehouse} is in use by another process (most likely a running "
            f"pipeline); try again when it has finished ({error})"
        ) from None


def _where(reason: str | None, source_file: str | None) -> tuple[str, list[object]]:
    conditions, params = ["true"], []
    if reason is not None:
        conditions.append("reason_code = ?")
        params.append(reason)
    if source_file is not None:
        conditions.append("source_file = ?")
        params.append(source_file)
    return " and ".join(conditions), params


def list_lines(
    paths: Paths, reason: str | None = None, source_file: str | None = None, limit: int | None = None
) -> tuple[list[QuarantinedLine], int]:
    """Quarantined lines in file and line order (at most ``limit``), and how many match in all."""
    where, params = _where(reason, source_file)
    con = _open(paths, read_only=True)
    try:
        total = con.execute(f"select count(*) from raw.quarantine where {where}", params).fetchall()[0][0]
        rows = con.execute(
            "select source_file, source_line, reason_code, reason, masked_text, quarantined_at "
            f"from raw.quarantine where {where} order by source_file, source_line"
            + (" limit ?" if limit is not None else ""),
            params + ([limit] if limit is not None else []),
        ).fetchall()
    finally:
        con.close()
    return [QuarantinedLine(*row) for row in rows], total


def summarise(paths: Paths) -> QuarantineSummary:
    con = _open(paths, read_only=True)
    try:
        by_reason = con.execute(
            "select reason_code, count(*) from raw.quarantine group by 1 order by 2 desc, 1"
        ).fetchall()
        by_file = con.execute(
            "select source_file, count(*) from raw.quarantine group by 1 order by 2 desc, 1"
        ).fetchall()
    finally:
        con.close()
    return QuarantineSummary(sum(n for _, n in by_reason), by_reason, by_file)


def _revalidate(paths: Paths, selected: list[_LineAt]) -> _Revalidation:
    """Validate each selected line (in file order) again from its file. One file is held in memory at a time."""
    validated: list[ValidatedLines] = []
    missing: list[_LineAt] = []
    masked = 0
    current_file, lines = None, None
    for at in selected:
        if at.source_file != current_file:
            path = ingested_file_path(paths, at.source_file)
            current_file, lines = at.source_file, (split_lines(read_file(path)) if path.is_file() else None)
        if lines is None or at.source_line > len(lines):
            missing.append(at)
            continue
        raw = lines[at.source_line - 1]
        if MASK_TOKEN.search(raw.decode("utf-8", "replace")):
            masked += 1
            continue
        if not raw.strip():  # an emptied line is still no event; validate_lines would skip it uncounted
            refused = validate_line(raw)
            validated.append(
                ValidatedLines(
                    at.source_file,
                    1,
                    0,
                    ACCEPTED_SCHEMA.empty_table(),
                    [RefusedLine(*at, refused.reason_code, refused.reason, refused.masked_text)],
                )
            )
            continue
        validated.append(validate_lines(at.source_file, at.source_line, [raw]))
    return _Revalidation(validated, missing, masked)


def replay(paths: Paths, reason: str | None = None, source_file: str | None = None) -> ReplayReport:
    """Replay the quarantined lines selected by reason and/or file (all of them by default)."""
    where, params = _where(reason, source_file)
    try:
        # Not between a run's steps either: a run holds this lock from start to end.
        with warehouse_lock(paths, timeout=0):
            con = _open(paths, read_only=False)
            try:
                con.execute("begin")
                try:
                    report = _replay(con, paths, where, params)
                    con.execute("commit")
                except BaseException:
                    con.execute("rollback")
                    raise
            finally:
                con.close()
    except WarehouseBusy:
        raise QuarantineError(
            f"a kritinfo run is using the warehouse {paths.warehouse}; replay when it has finished"
        ) from None
    return report


def _replay(con: duckdb.DuckDBPyConnection, paths: Paths, where: str, params: list) -> ReplayReport:
    now = datetime.now(UTC)
    selected = [
        _LineAt(*row)
        for row in con.execute(
            f"select source_file, source_line from raw.quarantine where {where} order by 1, 2", params
        ).fetchall()
    ]
    revalidation = _revalidate(paths, selected)
    # As in ingestion: the first delivery of an event_id not yet loaded is loaded, the rest are duplicates.
    outcomes = load_validated_lines(con, revalidation.validated, now)
    moved = [
        (counts.loaded, counts.duplicates, counts.loaded + counts.duplicates, source_file)
        for source_file, counts in outcomes.counts_by_file().items()
        if counts.loaded or counts.duplicates
    ]
    if moved:
        con.executemany(
            "update raw.ingested_files set loaded = loaded + ?, duplicates = duplicates + ?, "
            "quarantined = quarantined - ? where source_file = ?",
            moved,
        )
    replayed = (
        [_ReplayedLine(row["source_file"], row["source_line"], LOADED, None) for row in outcomes.loaded.to_pylist()]
        + [
            _ReplayedLine(row["source_file"], row["source_line"], DUPLICATE, None)
            for row in outcomes.duplicates.to_pylist()
        ]
        + [
            _ReplayedLine(line.source_file, line.source_line, STILL_QUARANTINED, line.reason_code)
            for line in outcomes.quarantined
        ]
        + [_ReplayedLine(*at, SOURCE_MISSING, None) for at in revalidation.missing]
    )
    if replayed:
        insert_rows(
            con,
            "raw.quarantine_replays",
            pa.Table.from_pylist([line._asdict() for line in replayed], _REPLAYED_SCHEMA),
            "*, $now as replayed_at",
            {"now": now},
        )
    return ReplayReport(
        {
            LOADED: outcomes.loaded.num_rows,
            DUPLICATE: outcomes.duplicates.num_rows,
            STILL_QUARANTINED: len(outcomes.quarantined),
            SOURCE_MISSING: len(revalidation.missing),
        },
        dict(Counter(line.reason_code for line in outcomes.quarantined).most_common()),
        revalidation.masked,
    )


# What `kritinfo quarantine` prints. Texts come from raw.quarantine, where they are masked.


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def format_lines(lines: list[QuarantinedLine], total: int, width: int) -> str:
    if not total:
        return "no quarantined lines match"
    out = []
    for q in lines:
        out.append(f"{q.source_file}:{q.source_line}  [{q.reason_code}]  {q.reason}")
        out.append("    " + _shortened(q.masked_text, width - 4))
    shown = f"{len(lines)} of {total}" if len(lines) < total else f"all {total}"
    out.append(f"\n{shown} matching quarantined lines (masked text; see --limit, --reason, --file)")
    return "\n".join(out)


def format_summary(summary: QuarantineSummary, files_shown: int = 20) -> str:
    if not summary.lines:
        return "the quarantine is empty"
    code_width = max(len(code) for code, _ in summary.by_reason)
    out = [f"{summary.lines} quarantined lines in {len(summary.by_file)} files", "", "by reason:"]
    out += [f"  {code:<{code_width}}  {n:>8}" for code, n in summary.by_reason]
    file_width = max(len(name) for name, _ in summary.by_file[:files_shown])
    out += ["", "by file (most lines first):"]
    out += [f"  {name:<{file_width}}  {n:>8}" for name, n in summary.by_file[:files_shown]]
    if len(summary.by_file) > files_shown:
        rest = summary.by_file[files_shown:]
        out.append(f"  … and {len(rest)} more files with {sum(n for _, n in rest)} lines (list them with --file)")
    return "\n".join(out)


def format_replay(report: ReplayReport) -> str:
    kept = (
        [
            (
                f"{report.masked_lines_kept} lines were left as they are: only their masked text is kept, "
                "which is not what was delivered (write the producer's corrected line in its place in the "
                "archived file, or have it delivered again in a new file)"
            )
        ]
        if report.masked_lines_kept
        else []
    )
    if not report.replayed:
        return "\n".join(["no quarantined lines to replay match", *kept])
    o = report.outcomes
    out = [
        (
            f"replayed {report.replayed} quarantined lines: {o[LOADED]} loaded, {o[DUPLICATE]} duplicates "
            f"(event already loaded), {o[STILL_QUARANTINED]} still quarantined, "
            f"{o[SOURCE_MISSING]} not found in their original file"
        )
    ]
    if report.still_quarantined_by_reason:
        reasons = ", ".join(f"{code} {n}" for code, n in report.still_quarantined_by_reason.items())
        out.append(f"still quarantined by reason: {reasons} (see `kritinfo quarantine list`)")
    return "\n".join(out + kept)
