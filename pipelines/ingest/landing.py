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


def read_file(path: Path) -> bytes:
    """A file's content, decompressed, without a leading UTF-8 BOM."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data[len(_BOM):] if data.startswith(_BOM) else data


def split_lines(data: bytes) -> list[bytes]:
    """Physical lines (numbered by position), without CR/LF; a final newline ends the last line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]
