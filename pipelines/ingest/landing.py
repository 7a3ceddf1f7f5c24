"""Which landing files are ready, and how their lines are read."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from pipelines.faults import UnreadableFile

EVENT_FILE_SUFFIXES = (".ndjson", ".ndjson.gz")
BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"


def ready_files(landing: Path) -> list[Path]:
    """Complete event files, in name order. Hidden and temporary names are still being written.

    A link to a missing file is included: ingestion stops on it (``check_readable``) rather than
    skip a delivered name in silence.
    """
    if not landing.is_dir():
        return []
    return sorted(
        path
        for path in landing.iterdir()
        if (path.is_file() or path.is_symlink()) and not path.name.startswith(".")
        and path.name.endswith(EVENT_FILE_SUFFIXES)
    )


def check_readable(path: Path) -> None:
    """UnreadableFile, naming the file, if it cannot be opened or a .gz file is not gzip data."""
    try:
        with open(path, "rb") as f:
            if path.name.endswith(".gz") and f.read(len(_GZIP_MAGIC)) != _GZIP_MAGIC:
                raise _unreadable(path, "it is not gzip data")
    except OSError as error:
        reason = "it is a link to a missing file" if path.is_symlink() and not path.exists() else error.strerror
        raise _unreadable(path, reason) from None


def read_file(path: Path) -> bytes:
    """A file's content, decompressed, without a leading UTF-8 BOM."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise _unreadable(path, "its gzip data is damaged or cut short") from None
    return data[len(BOM):] if data.startswith(BOM) else data


def _unreadable(path: Path, reason: str) -> UnreadableFile:
    return UnreadableFile(f"landing file {path.name} cannot be read: {reason}; fix or remove it and run again")


def split_lines(data: bytes) -> list[bytes]:
    """Physical lines (numbered by position), without CR/LF; a final newline ends the last line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]
