"""Landing entries are looked at without following links or opening pipes and devices, and a
gzip bomb is stopped at the bound on decompressed bytes with little memory."""

from __future__ import annotations

import gzip
import hashlib
import os
import tracemalloc

import pytest

from pipelines.faults import UnreadableFile
from pipelines.ingest.landing import inspect, read_file

BOUND = 1_000_000


def test_a_gzip_bomb_is_too_large_and_inspecting_it_holds_a_few_megabytes(tmp_path):
    bomb = tmp_path / "bomb.ndjson.gz"
    compressed = gzip.compress(b"\n" * (200 * BOUND), compresslevel=9)
    bomb.write_bytes(compressed)
    tracemalloc.start()
    try:
        found = inspect(bomb, BOUND)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (found.problem, found.sha256) == ("too_large", hashlib.sha256(compressed).hexdigest())
    assert peak < 8 * BOUND
    with pytest.raises(UnreadableFile, match="more than 1000000 bytes"):
        read_file(bomb, BOUND)


def test_links_pipes_and_devices_are_never_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.ndjson")  # opening it to read would wait for a writer forever
    (tmp_path / "zero.ndjson").symlink_to("/dev/zero")
    (tmp_path / "passwd.ndjson").symlink_to("/etc/passwd")
    assert inspect(tmp_path / "pipe.ndjson", BOUND).problem == "not_regular_file"
    for name in ("zero.ndjson", "passwd.ndjson"):
        found = inspect(tmp_path / name, BOUND)
        assert (found.problem, found.sha256) == ("symlink", None)
        with pytest.raises(UnreadableFile):
            read_file(tmp_path / name)


def test_a_readable_file_has_its_size_and_sha256(tmp_path):
    path = tmp_path / "good.ndjson"
    path.write_bytes(b"{}\n" * 10)
    found = inspect(path, BOUND)
    assert (found.problem, found.size_bytes, found.sha256) == (None, 30, hashlib.sha256(b"{}\n" * 10).hexdigest())
    assert inspect(path, 29).problem == "too_large"
