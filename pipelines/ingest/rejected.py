"""Landing entries that cannot be read as event files leave landing/ for rejected/, on record.

Each is recorded in ``raw.rejected_files`` (its shown name, size, sha256 when readable, reason).
An entry without content of its own (a link, a pipe, a device) is then moved, itself, to
``rejected/`` under its shown name: a link is moved as a link, a pipe as a pipe, nothing is opened
or followed. A regular file is not kept: its bytes were not validated, so they may hold anything
personal in clear; the producer holds the original, and the recorded sha256 identifies it. The
record is a warehouse table rather than a sidecar file beside it: the run reports from it,
*Datakvalitet* and ``kritinfo quarantine`` can read it with the other ingestion tables, and it
holds no byte of the file. It is committed before the move, so a run killed in between finds the
entry in landing/ again and rejects it again: recorded twice, never lost.

A shown name is the delivered name with bytes that are not UTF-8 written as ``\\xNN`` and every
national identity number replaced by a fixed token (``[fnr]``), so it is safe in the warehouse, in logs and
in the name under rejected/.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.contract import identifiers, masking
from pipelines.ingest.landing import Inspection
from pipelines.settings import Paths


@dataclass(frozen=True)
class RejectedFile:
    shown_name: str
    stored_as: str | None  # its name in rejected/; None for a regular file, which is not kept
    reason_code: str
    reason: str


def shown_name(name: str) -> str:
    """The name as it may be shown and stored: undecodable bytes escaped, national IDs masked."""
    readable = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    for written in identifiers.national_ids_in_text(readable.encode("utf-8")):
        readable = readable.replace(written, masking.NATIONAL_ID)
    return readable


def reject(con, paths: Paths, path: Path, inspection: Inspection) -> RejectedFile:
    """Record the entry in raw.rejected_files, then move it to rejected/ or remove it (see the module)."""
    now = datetime.now(UTC)
    shown = shown_name(path.name)
    paths.rejected.mkdir(parents=True, exist_ok=True)
    kept = not stat.S_ISREG(os.lstat(path).st_mode)
    stored_as = f"{now:%Y%m%dT%H%M%S%fZ}-{shown}" if kept else None
    con.execute(
        "insert into raw.rejected_files values ($shown, $stored, $size, $sha256, $code, $reason, $now)",
        {
            "shown": shown,
            "stored": stored_as,
            "size": inspection.size_bytes,
            "sha256": inspection.sha256,
            "code": inspection.problem,
            "reason": inspection.reason,
            "now": now,
        },
    )
    if kept:
        # rename moves the directory entry itself: a link's target and a pipe's writer are untouched.
        os.rename(path, paths.rejected / stored_as)
    else:
        os.unlink(path)
    return RejectedFile(shown, stored_as, inspection.problem, inspection.reason)
