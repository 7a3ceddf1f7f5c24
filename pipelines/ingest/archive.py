"""Ingested files leave landing/ for archive/, with every quarantined line masked.

A landing file holds what the producer sent, personal data included. Once its batch is
committed, the file is archived: every quarantined line, whatever its reason, is replaced by
its masked text from ``raw.quarantine`` (a CR before its line end is kept), every other byte
(the loaded lines, which passed the identifier guard) stays as it was, and the result keeps
the original's compression. It is written under a hidden temporary name, fsynced and renamed,
and only then is the landing file removed. A file without quarantined lines is moved as it is.
Either way the archived file's modification time is the time it was archived, from which the
archive's retention counts (pipelines/housekeeping.py). A run that stopped between commit and
archive is finished by the next ingestion, which archives every landing file already in
``raw.ingested_files`` the same way.
"""

from __future__ import annotations

import errno
import gzip
import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from pipelines.ingest.landing import BOM
from pipelines.settings import Paths


def ingested_file_path(paths: Paths, name: str) -> Path:
    """Where the lines of an ingested file are now: archive/, or landing/ until it is archived."""
    archived = paths.archive / name
    return archived if archived.exists() else paths.landing / name


def archive_delivered_again(con, paths: Paths, ingested_names: Mapping[str, str]) -> None:
    """Archive landing files whose deliveries are ingested already (sent again, or left in landing/
    by an interrupted run), by landing name: each under the name its delivery was ingested under."""
    for landing_name, ingested_name in ingested_names.items():
        if landing_name != ingested_name:  # a renamed delivery, sent again
            os.rename(paths.landing / landing_name, paths.landing / ingested_name)
    archive_ingested(con, paths, sorted(ingested_names.values()))


def archive_ingested(con, paths: Paths, names: list[str]) -> None:
    """Archive these ingested landing files and remove them from landing/ (see the module)."""
    if not names:
        return
    paths.archive.mkdir(parents=True, exist_ok=True)
    masked_lines: dict[str, dict[int, str]] = defaultdict(dict)
    for source_file, source_line, masked_text in con.execute(
        "select source_file, source_line, masked_text from raw.quarantine where list_contains($names, source_file)",
        {"names": names},
    ).fetchall():
        masked_lines[source_file][source_line] = masked_text
    for name in names:
        _archive(paths.landing / name, paths.archive / name, masked_lines.get(name, {}))
    _fsync_directory(paths.archive)
    _fsync_directory(paths.landing)


def _archive(original: Path, target: Path, masked_lines: dict[int, str]) -> None:
    if target.exists():
        # The rename completed before a crash: the archive is whole, only the removal is left.
        original.unlink()
        return
    if not masked_lines:
        try:
            os.replace(original, target)
            os.utime(target)
            return
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            # landing/ is on another file system: copy as below.
    compressed = original.name.endswith(".gz")
    data = original.read_bytes()
    content = masked_content(gzip.decompress(data) if compressed else data, masked_lines)
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as f:
        f.write(gzip.compress(content, mtime=0) if compressed else content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, target)
    original.unlink()


def masked_content(data: bytes, masked_lines: dict[int, str]) -> bytes:
    """The decompressed file with the given lines (numbered as ``landing.split_lines`` does)
    replaced by their masked text; the BOM, line ends and every other line stay byte-identical."""
    bom = BOM if data.startswith(BOM) else b""
    lines = data[len(bom) :].split(b"\n")
    for number, text in masked_lines.items():
        carriage_return = b"\r" if lines[number - 1].endswith(b"\r") else b""
        lines[number - 1] = text.encode("utf-8") + carriage_return
    return bom + b"\n".join(lines)


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
