"""Which landing files are ready, which of them cannot be read as event files, and how lines are read.

Nothing in landing/ is trusted to be a regular file. An entry is looked at with ``lstat`` and
opened with ``O_NOFOLLOW | O_NONBLOCK``, then checked again on the open descriptor, so a link
is never followed and a pipe or device is never read (a pipe's writer could stall the run
holding the warehouse lock; ``/dev/zero`` never ends). Content is read in chunks and
decompressed up to the bound on decompressed bytes, so a gzip bomb costs at most that bound.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import stat
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from pipelines.contract.identifiers import national_ids_in_text
from pipelines.faults import UnreadableFile

EVENT_FILE_SUFFIXES = (".ndjson", ".ndjson.gz")
BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 20

# Why a landing file is rejected (raw.rejected_files.reason_code).
UNDECODABLE_NAME = "undecodable_name"
IDENTIFIER_IN_NAME = "identifier_in_name"
SYMLINK = "symlink"
NOT_REGULAR_FILE = "not_regular_file"
UNREADABLE = "unreadable"
BAD_GZIP = "bad_gzip"
TOO_LARGE = "too_large"
_KINDS = {
    stat.S_IFIFO: "named pipe",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "directory",
}


def ready_files(landing: Path) -> list[Path]:
    """Delivered entries, in name order: every name with an event-file suffix that is not hidden
    (hidden and temporary names are still being written). Links, pipes and the like are
    included: ``inspect`` rejects them loudly rather than skip a delivered name in silence.
    """
    if not landing.is_dir():
        return []
    return sorted(
        path for path in landing.iterdir() if not path.name.startswith(".") and path.name.endswith(EVENT_FILE_SUFFIXES)
    )


def ingested_name(name: str, sha256: str | None, ingested: dict[str, str | None]) -> str | None:
    """The name under which the delivery of this landing file was ingested already, or None when it
    is a new delivery. ``ingested``: raw.ingested_files' sha256 by name (None for files logged
    before hashes were kept). A delivery is its name and bytes: a file under a used name with other
    bytes is a new delivery, ingested as ``renamed_delivery``, which it may have been already."""
    if name not in ingested:
        return None
    if ingested[name] in (None, sha256):
        return name
    renamed = renamed_delivery(name, sha256)
    return renamed if ingested.get(renamed) == sha256 else None


def renamed_delivery(name: str, sha256: str) -> str:
    """The landing name under which a new file delivered under a used name is ingested."""
    suffix = next(s for s in sorted(EVENT_FILE_SUFFIXES, key=len, reverse=True) if name.endswith(s))
    return f"{name[: -len(suffix)]}~{sha256[:12]}{suffix}"


@dataclass(frozen=True)
class Inspection:
    """What a landing entry is: a readable event file (``problem`` None) or why it is not."""

    size_bytes: int | None  # on disk, as lstat tells (the link itself for a link)
    mtime: float | None  # when it was delivered
    sha256: str | None  # of its bytes on disk, when they could be read
    problem: str | None = None  # one of the reason codes above
    reason: str | None = None


def _open_regular(path: Path) -> BinaryIO:
    """The file opened for reading, or OSError: never through a link, never a non-regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by something else since lstat
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return os.fdopen(fd, "rb")


class _Hashing:
    """A file object that hashes what is read through it (gzip reads the raw bytes through it)."""

    def __init__(self, file: BinaryIO):
        self.file = file
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.digest.update(data)
        return data

    def rest(self) -> str:
        while self.read(_READ_CHUNK):
            pass
        return self.digest.hexdigest()


def inspect(path: Path, max_bytes: int) -> Inspection:
    """Whether the entry can be read as an event file within `max_bytes` decompressed bytes,
    with its size, delivery time and sha256 (read in chunks: memory stays small)."""
    found = _inspect_entry(path, max_bytes)
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        # No table, log or Dagster tag can hold the name (recorded escaped, see ingest/rejected.py).
        if found.problem is None:
            return replace(found, problem=UNDECODABLE_NAME, reason="its name is not valid UTF-8")
    # A name is stored and logged wherever the file goes: one holding a person's number is refused.
    if found.problem is None and national_ids_in_text(path.name.encode("utf-8")):
        return replace(found, problem=IDENTIFIER_IN_NAME, reason="its name holds a national identity number")
    return found


def _inspect_entry(path: Path, max_bytes: int) -> Inspection:
    try:
        status = os.lstat(path)
    except OSError as error:
        return Inspection(None, None, None, UNREADABLE, f"it cannot be looked at: {error.strerror}")
    size, mtime = status.st_size, status.st_mtime
    if stat.S_ISLNK(status.st_mode):
        return Inspection(size, mtime, None, SYMLINK, "it is a symbolic link (links are never followed)")
    if not stat.S_ISREG(status.st_mode):
        kind = _KINDS.get(stat.S_IFMT(status.st_mode), "special file")
        return Inspection(size, mtime, None, NOT_REGULAR_FILE, f"it is a {kind}, not a regular file")
    try:
        with _open_regular(path) as f:
            hashing = _Hashing(f)
            if not path.name.endswith(".gz"):
                sha256 = hashing.rest()
                if size > max_bytes:
                    return Inspection(size, mtime, sha256, TOO_LARGE, _too_large(max_bytes))
                return Inspection(size, mtime, sha256)
            try:
                decompressed = 0
                with gzip.GzipFile(fileobj=hashing, mode="rb") as unzipped:
                    while chunk := unzipped.read(_READ_CHUNK):
                        decompressed += len(chunk)
                        if decompressed > max_bytes:
                            return Inspection(size, mtime, hashing.rest(), TOO_LARGE, _too_large(max_bytes))
            except (OSError, EOFError, zlib.error):
                return Inspection(size, mtime, hashing.rest(), BAD_GZIP, "its gzip data is damaged or cut short")
            return Inspection(size, mtime, hashing.rest())
    except OSError as error:
        if error.errno == errno.ELOOP:  # became a link since lstat
            return Inspection(size, mtime, None, SYMLINK, "it is a symbolic link (links are never followed)")
        return Inspection(size, mtime, None, UNREADABLE, f"it cannot be read: {error.strerror}")


def _too_large(max_bytes: int) -> str:
    return f"it holds more than {max_bytes} bytes (decompressed), the bound KRITINFO_MAX_FILE_BYTES"


def read_file(path: Path, max_bytes: int | None = None) -> bytes:
    """A file's content, decompressed (at most `max_bytes`), without a leading UTF-8 BOM."""
    try:
        with _open_regular(path) as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    data = _read_bounded(path, unzipped, max_bytes)
            else:
                data = _read_bounded(path, raw, max_bytes)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise _unreadable(path, "its gzip data is damaged or cut short") from None
    except OSError as error:
        raise _unreadable(path, error.strerror or "it cannot be read") from None
    return data[len(BOM) :] if data.startswith(BOM) else data


def _read_bounded(path: Path, file: BinaryIO, max_bytes: int | None) -> bytes:
    data = file.read() if max_bytes is None else file.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        # The file changed since it was inspected.
        raise _unreadable(path, _too_large(max_bytes))
    return data


def _unreadable(path: Path, reason: str) -> UnreadableFile:
    return UnreadableFile(f"landing file {path.name} cannot be read: {reason}; fix or remove it and run again")


def split_lines(data: bytes) -> list[bytes]:
    """Physical lines (numbered by position), without CR/LF; a final newline ends the last line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]
