"""Benchmark: ingestion throughput, full `kritinfo run` time and peak memory on a national simulation.

    .venv/bin/python bench/run_benchmark.py [--scale 1.2] [--workdir /tmp/kritinfo-bench]

Simulates (scale 1.0: about 550,000 events over 2014-2026), then
1. ingests them in-process (validation included) into a fresh warehouse: lines/s;
2. runs `kritinfo run` (ingest + dbt build + publish through Dagster) on a fresh copy:
   wall time and the peak resident memory of the whole process tree (sampled every 0.1 s);
3. measures what the identifier guard costs: validation of a sample of the lines in one
   process, with the guard and with its checks switched off (CPU time per line).
Results are printed and written to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.contract import identifiers  # noqa: E402 (after the sys.path entry above: bench runs as a script)
from pipelines.contract.validation import validate_line  # noqa: E402 (after the sys.path entry above: bench runs as a script)
from pipelines.ingest import ingest_new_files  # noqa: E402 (after the sys.path entry above: bench runs as a script)
from pipelines.ingest.landing import read_file, split_lines  # noqa: E402 (after the sys.path entry above: bench runs as a script)
from pipelines.settings import Paths  # noqa: E402 (after the sys.path entry above: bench runs as a script)

GIB = 1024**3


class PeakMemory:
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
                total = 0
                for process in processes:
                    try:
                        total += process.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


GUARD_SAMPLE_LINES = 60_000


def validation_seconds_per_line(lines: list[bytes]) -> float:
    """Best of three passes, in CPU seconds per line (the first pass also fills the memo)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for raw in lines:
            validate_line(raw)
        best = min(best, (time.process_time() - started) / len(lines))
    return best


def guard_cost(landing: Path) -> dict[str, float]:
    """Validation cost per line with the identifier guard and with its checks switched off."""
    lines: list[bytes] = []
    for path in sorted(landing.iterdir(), reverse=True):  # the latest files: the national mix of today
        lines.extend(split_lines(read_file(path)))
        if len(lines) >= GUARD_SAMPLE_LINES:
            break
    with_guard = validation_seconds_per_line(lines)
    saved = identifiers.national_ids_in_text, identifiers.may_hold_structural_identifiers
    identifiers.national_ids_in_text = lambda raw: []
    identifiers.may_hold_structural_identifiers = lambda raw: False
    try:
        without_guard = validation_seconds_per_line(lines)
    finally:
        identifiers.national_ids_in_text, identifiers.may_hold_structural_identifiers = saved
    return {
        "sample_lines": len(lines),
        "us_per_line_with_guard": round(with_guard * 1e6, 1),
        "us_per_line_without_guard": round(without_guard * 1e6, 1),
        "throughput_cost_pct": round(100 * (1 - without_guard / with_guard), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kritinfo-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    source = Paths(args.workdir / "source").ensure()

    kritinfo = str(Path(sys.executable).parent / "kritinfo")
    env = {**os.environ, "KRITINFO_HOME": str(source.home)}
    env.pop("DAGSTER_HOME", None)
    started = time.perf_counter()
    # A separate process, as in use: the simulator's heap must not count against ingestion.
    subprocess.run([kritinfo, "simulate", "--scale", str(args.scale)], env=env, check=True, stdout=subprocess.DEVNULL)
    simulate_seconds = time.perf_counter() - started
    lines = sum(path.read_bytes().count(b"\n") for path in source.landing.iterdir())
    print(f"simulated {lines} lines in {simulate_seconds:.1f} s", flush=True)

    ingest_home = Paths(args.workdir / "ingest").ensure()
    shutil.copytree(source.landing, ingest_home.landing, dirs_exist_ok=True)
    with PeakMemory(os.getpid()) as ingest_memory:
        report = ingest_new_files(ingest_home)
    print(
        f"ingested {report.total('lines_read')} lines in {report.seconds:.1f} s: "
        f"{report.events_per_second:,.0f} lines/s, peak {ingest_memory.peak / GIB:.2f} GiB",
        flush=True,
    )

    run_home = Paths(args.workdir / "run").ensure()
    shutil.copytree(source.landing, run_home.landing, dirs_exist_ok=True)
    env["KRITINFO_HOME"] = str(run_home.home)
    started = time.perf_counter()
    process = subprocess.Popen([kritinfo, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) as run_memory:
        _, stderr = process.communicate()
    run_seconds = time.perf_counter() - started
    if process.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
        return 1
    print(f"kritinfo run: {run_seconds:.1f} s, peak {run_memory.peak / GIB:.2f} GiB", flush=True)
    guard = guard_cost(source.landing)
    print(f"identifier guard: {guard}", flush=True)

    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1)},
        "scale": args.scale,
        "lines": lines,
        "events_loaded": report.total("loaded"),
        "simulate_seconds": round(simulate_seconds, 1),
        "ingest": {**report.as_metadata(), "peak_memory_gib": round(ingest_memory.peak / GIB, 2)},
        "kritinfo_run": {"seconds": round(run_seconds, 1), "peak_memory_gib": round(run_memory.peak / GIB, 2)},
        "identifier_guard": guard,
        "targets": {
            "ingest_lines_per_second>=10000": report.events_per_second >= 10_000,
            "peak_memory<1.5GiB": max(ingest_memory.peak, run_memory.peak) < 1.5 * GIB,
            "identifier_guard_cost<=25%": guard["throughput_cost_pct"] <= 25,
        },
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{results['measured_at'].replace(':', '')}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
