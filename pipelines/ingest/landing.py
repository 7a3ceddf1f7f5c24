"""Which landing files are ready, and how their lines are read."""

from __future__ import annotations

import gzip
from pathlib import Path

EVENT_FILE_SUFFIXES = (".ndjson", ".ndjson.gz")
_BOM = b"\xef\xbb\xbf"


def ready_files(landing: Path) -> list[Path]:
    """Complete event files, in name order. Hidden and temporary names are still being written."""
    if not landing.is_dir():
        return []
    return sorted(
        path
        for path in landing.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.name.endswith(EVENT_FILE_SUFFIXES)
    )


def read_lines(path: Path) -> list[bytes]:
    """Physical lines of a file (numbered from 1 by position), without BOM or CR/LF."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]
