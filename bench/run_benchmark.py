"""Benchmark: what kritinfo costs against the floor and an analyst's script, at several scales.

    .venv/bin/python bench/run_benchmark.py [--scales 1,10] [--repeats 3] [--dashboard-repeats 10]
                                            [--workdir DIR]

For each scale (1.0: national volume, about 550,000 events over 2014-2026), on one simulation:
- floor: DuckDB's read_ndjson over the landing files, coverage of persons with critical
  information per county, no validation: what pure SQL costs;
- script: what an analyst writes honestly: json + pandas, every resource validated with
  fhir.resources (R4B), then the same coverage per county;
- ingest: the validation and load of every line in-process (lines/s), and what the identifier
  guard costs of it (CPU time per line with and without its checks);
- full run: `kritinfo run` on the history without its last day (wall time, lines/s, and the peak
  memory of the whole process tree, sampled every 0.5 s: the sum of its processes' proportional
  set sizes (PSS), each shared page counted once; the sum of their resident sizes (RSS) besides,
  which counts a page each process shares, such as the dbt forks' with their server, once per process);
- increment: the last day's file added, `kritinfo run` again on the home the full run left;
- the two are measured in pairs, a full run on a fresh home then its increment, repeated (three
  times by default), and each reported as the median with every time: this machine's speed drifts
  by a fifth and more within minutes, and the increment's share of the full run is only meaningful
  when both are sampled alike, side by side, rather than one full run against later increments;
- idle: `kritinfo run` with nothing new;
- dashboard: p50/p95 of page loads and of Effekt's filters in Chromium (bench/dashboard_latency.py).
Every timed `kritinfo run` starts with the disk synced (os.sync), so that none pays for
writing out what the setup or an earlier run left in the page cache.
Prints one table, the targets of issue 14 as met or missed, and writes the results to
bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import dashboard_latency  # noqa: E402 (after sys.path: bench runs as a script)
from pipelines.contract import identifiers  # noqa: E402 (after sys.path: bench runs as a script)
from pipelines.contract.validation import validate_line  # noqa: E402 (after sys.path: bench runs as a script)
from pipelines.ingest.landing import read_file, ready_files, split_lines  # noqa: E402 (after sys.path: bench runs as a script)
from pipelines.ingest.loader import ingest_new_files  # noqa: E402 (after sys.path: bench runs as a script)
from pipelines.settings import SEEDS_DIR, Paths  # noqa: E402 (after sys.path: bench runs as a script)

GIB = 1024**3
KRITINFO = str(Path(sys.executable).parent / "kritinfo")
GUARD_SAMPLE_LINES = 60_000
# Whether an entry is active after its latest event (contract v1.1, simplified: no resource status).
ACTIVE_CLINICAL = ("active", "recurrence", "relapse")
INACTIVE_VERIFICATION = ("entered-in-error", "refuted")

# Coverage per county from the raw lines: each entry's latest event decides whether it is active;
# a person counts in the county of their latest event when one of their entries is active.
FLOOR_SQL = f"""
with events as (
    select distinct on (event_id)
        event_id, event_type, occurred_at::timestamptz as occurred_at,
        patient.pseudonym as person, left(patient.municipality, 2) as county_code,
        (resource ->> 'resourceType') || '/' || (resource ->> 'id') as entry,
        resource ->> '$.clinicalStatus.coding[0].code' as clinical,
        resource ->> '$.verificationStatus.coding[0].code' as verification
    from read_ndjson(?, ignore_errors = true, columns = {{
        event_id: 'varchar', event_type: 'varchar', occurred_at: 'varchar',
        patient: 'struct(pseudonym varchar, municipality varchar)', resource: 'json'
    }})
    where event_id is not null and patient.pseudonym is not null
),
entries as (
    select person, arg_max(
        event_type in ('created', 'updated')
        and coalesce(clinical, 'active') in {ACTIVE_CLINICAL}
        and coalesce(verification, '') not in {INACTIVE_VERIFICATION}, occurred_at) as active
    from events group by entry, person
),
persons as (
    select person, arg_max(county_code, occurred_at) as county_code from events group by person
)
select persons.county_code, count(distinct person) as persons
from persons join entries using (person)
where entries.active
group by all
"""


# Reading a process's PSS walks its page tables: sampled every 0.1 s, the samples of a run's five
# or so processes took some 2.5 s of CPU in a 13 s increment, a fifth of one of the two cores
# the run itself needs. Every half second, a tenth of that; DuckDB's peaks last seconds.
MEMORY_SAMPLE_SECONDS = 0.5


class PeakMemory:
    """Samples the memory of a process and all its descendants: the peak of their summed PSS
    (``peak``) and of their summed RSS (``peak_rss``)."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                pss = rss = 0
                for process in [self.root, *self.root.children(recursive=True)]:
                    try:
                        memory = process.memory_full_info()
                    except psutil.Error:
                        continue
                    pss += memory.pss
                    rss += memory.rss
                self.peak = max(self.peak, pss)
                self.peak_rss = max(self.peak_rss, rss)
            except psutil.Error:
                pass
            self._stop.wait(MEMORY_SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def coverage(persons_per_county: dict[str, int]) -> dict[str, float]:
    """Persons with critical information per 100 inhabitants, per county (the seed's populations)."""
    import pandas as pd

    population = pd.read_csv(SEEDS_DIR / "counties.csv", dtype={"county_code": str}).set_index("county_code")
    return {
        county: round(100 * persons / population.loc[county, "population"], 3)
        for county, persons in sorted(persons_per_county.items())
        if county in population.index
    }


def floor(landing: Path) -> dict[str, float]:
    import duckdb

    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        rows = con.execute(FLOOR_SQL, [[str(path) for path in ready_files(landing)]]).fetchall()
    return coverage(dict(rows))


def analyst_script(landing: Path) -> dict[str, float]:
    """json + pandas, each resource validated with fhir.resources R4B; then the floor's coverage."""
    import pandas as pd
    from fhir.resources.R4B import get_fhir_model_class

    rows = []
    for path in ready_files(landing):
        for raw in path.read_bytes().splitlines():  # json.loads decodes each line: a bad one is dropped
            try:
                event = json.loads(raw)
                resource = event["resource"]
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                rows.append(
                    {
                        "event_id": event["event_id"],
                        "event_type": event["event_type"],
                        "occurred_at": event["occurred_at"],
                        "person": event["patient"]["pseudonym"],
                        "county_code": event["patient"]["municipality"][:2],
                        "entry": f"{resource['resourceType']}/{resource['id']}",
                        "clinical": (resource.get("clinicalStatus") or {}).get("coding", [{}])[0].get("code"),
                        "verification": (resource.get("verificationStatus") or {}).get("coding", [{}])[0].get("code"),
                    }
                )
            except Exception:  # noqa: BLE001 (an analyst's script drops what does not parse or validate)
                continue
    events = pd.DataFrame(rows).drop_duplicates("event_id")
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], utc=True, format="ISO8601", errors="coerce")
    events = events.dropna(subset=["occurred_at"])
    events = events.sort_values("occurred_at", kind="stable")
    events["active"] = (
        events["event_type"].isin(["created", "updated"])
        & events["clinical"].fillna("active").isin(ACTIVE_CLINICAL)
        & ~events["verification"].fillna("").isin(INACTIVE_VERIFICATION)
    )
    entries = events.groupby(["entry", "person"]).last().reset_index()
    covered = set(entries.loc[entries["active"], "person"])
    persons = events.groupby("person")["county_code"].last()
    return coverage(persons[persons.index.isin(covered)].value_counts().to_dict())


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


def kritinfo_run(home: Path) -> tuple[float, PeakMemory, str]:
    """`kritinfo run` on ``home`` in its own process: wall seconds, peak memory of its process tree, stdout."""
    env = {**os.environ, "KRITINFO_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen([KRITINFO, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) as memory:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RunFailed(f"kritinfo run failed ({process.returncode}):\n{stderr[-3000:]}")
    return seconds, memory, stdout


class RunFailed(RuntimeError):
    """`kritinfo run` exited with an error; the message ends with its last lines of stderr."""


def timed_pairs(
    home: Paths, history: list[Path], last_day: Path, repeats: int
) -> tuple[list[tuple[float, PeakMemory]], list[tuple[float, PeakMemory]], list[str]]:
    """``repeats`` times: a full run of ``history`` on a fresh ``home``, then its increment (the
    last day's file added, `kritinfo run` again). An increment that fails is listed (its last line)
    and made again on the home as its full run left it (copied aside first); as many failures as
    repeats stop the benchmark. The home ends as the last successful increment leaves it."""
    before = home.home.with_name(f"{home.home.name}-before-increment")
    full_runs: list[tuple[float, PeakMemory]] = []
    increments: list[tuple[float, PeakMemory]] = []
    failed: list[str] = []
    while len(increments) < repeats:
        shutil.rmtree(home.home, ignore_errors=True)
        home.ensure()
        for path in history:
            shutil.copy2(path, home.landing)  # copy2 keeps the modification time: the arrival time
        seconds, peak, _ = kritinfo_run(home.home)
        full_runs.append((seconds, peak))
        shutil.copytree(home.home, before, symlinks=True)
        while True:
            shutil.copy2(last_day, home.landing)
            try:
                seconds, peak, _ = kritinfo_run(home.home)
            except RunFailed as failure:
                if len(failed) + 1 >= repeats:
                    raise
                failed.append(str(failure).strip().splitlines()[-1])
                print(f"  increment failed, made again: {failed[-1]}", flush=True)
                shutil.rmtree(home.home)
                shutil.copytree(before, home.home, symlinks=True)
                continue
            increments.append((seconds, peak))
            break
        shutil.rmtree(before)
        print(f"  pair {len(increments)}: full run {full_runs[-1][0]:.1f} s, increment {seconds:.1f} s", flush=True)
    return full_runs, increments, failed


def bench_scale(scale: float, workdir: Path, repeats: int, dashboard_repeats: int) -> dict:
    source = Paths(workdir / f"scale-{scale:g}" / "source").ensure()
    env = {**os.environ, "KRITINFO_HOME": str(source.home)}
    env.pop("DAGSTER_HOME", None)
    # A separate process, as in use: the simulator's heap must not count against anything measured.
    simulate_seconds, _ = timed(
        lambda: subprocess.run(
            [KRITINFO, "simulate", "--scale", str(scale)], env=env, check=True, stdout=subprocess.DEVNULL
        )
    )
    files = ready_files(source.landing)
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    # One file per delivery day, named after it: the last name is the last day.
    last_day = files[-1]
    print(f"scale {scale:g}: simulated {lines} lines in {len(files)} files in {simulate_seconds:.1f} s", flush=True)

    floor_seconds, floor_coverage = timed(lambda: floor(source.landing))
    print(f"  floor (read_ndjson, no validation): {floor_seconds:.1f} s", flush=True)
    script_seconds, script_coverage = timed(lambda: analyst_script(source.landing))
    print(f"  analyst's script (json, pandas, fhir.resources R4B): {script_seconds:.1f} s", flush=True)

    ingest_home = Paths(workdir / f"scale-{scale:g}" / "ingest").ensure()
    shutil.copytree(source.landing, ingest_home.landing, dirs_exist_ok=True)
    with PeakMemory(os.getpid()) as ingest_memory:
        ingest = ingest_new_files(ingest_home)
    print(f"  ingest in-process: {ingest.events_per_second:,.0f} lines/s", flush=True)
    guard = guard_cost(source.landing)

    run_home = Paths(workdir / f"scale-{scale:g}" / "run")
    history_lines = lines - last_day.read_bytes().count(b"\n")
    full_runs, increments, failed_increments = timed_pairs(run_home, files[:-1], last_day, repeats)
    full_times = [seconds for seconds, _ in full_runs]
    full_seconds = statistics.median(full_times)
    # The highest of the full runs' peaks: memory is a bound, not a typical value.
    full_peak = max((peak for _, peak in full_runs), key=lambda peak: peak.peak)
    print(
        f"  full run ({history_lines} lines): median {full_seconds:.1f} s of "
        + ", ".join(f"{seconds:.1f}" for seconds in full_times)
        + f"; peak {full_peak.peak / GIB:.2f} GiB (summed RSS {full_peak.peak_rss / GIB:.2f} GiB)",
        flush=True,
    )
    increment_times = [seconds for seconds, _ in increments]
    increment_seconds = statistics.median(increment_times)
    increment_peak = max(peak.peak for _, peak in increments)
    print(
        f"  increment ({last_day.name}): median {increment_seconds:.1f} s of "
        + ", ".join(f"{seconds:.1f}" for seconds in increment_times),
        flush=True,
    )
    idle_seconds, _, idle_output = kritinfo_run(run_home.home)
    print(f"  idle: {idle_seconds:.1f} s: {idle_output.strip()}", flush=True)
    latency = dashboard_latency.measure(run_home.home, dashboard_repeats)

    return {
        "scale": scale,
        "lines": lines,
        "files": len(files),
        "simulate_seconds": round(simulate_seconds, 1),
        "floor_seconds": round(floor_seconds, 2),
        "script_seconds": round(script_seconds, 2),
        "script_coverage_equals_floor": script_coverage == floor_coverage,
        "ingest": {**ingest.as_metadata(), "peak_memory_gib": round(ingest_memory.peak / GIB, 2)},
        "identifier_guard": guard,
        "full_run": {
            "seconds": round(full_seconds, 1),
            "repeats_seconds": [round(seconds, 1) for seconds in full_times],
            "lines": history_lines,
            "lines_per_second": round(history_lines / full_seconds),
            "peak_memory_gib": round(full_peak.peak / GIB, 2),
            "peak_rss_sum_gib": round(full_peak.peak_rss / GIB, 2),
        },
        "increment": {
            "seconds": round(increment_seconds, 1),
            "repeats_seconds": [round(seconds, 1) for seconds in increment_times],
            "failed_repeats": failed_increments,
            "file": last_day.name,
            "peak_memory_gib": round(increment_peak / GIB, 2),
        },
        "idle_seconds": round(idle_seconds, 2),
        "dashboard_ms": latency,
    }


def targets(runs: list[dict]) -> list[tuple[str, str, bool]]:
    """Issue 14's targets: (target, measured, met)."""
    found = []
    by_scale = {run["scale"]: run for run in runs}
    for run in runs:
        at = f"scale {run['scale']:g}"
        if run["scale"] == 1:
            seconds = run["increment"]["seconds"]
            found.append(("day increment < 20 s at scale 1", f"{seconds} s", seconds < 20))
        full = run["full_run"]["seconds"]
        increment_share, idle_share = run["increment"]["seconds"] / full, run["idle_seconds"] / full
        found.append((f"increment <= 1/4 of the full run ({at})", f"{increment_share:.2f}", increment_share <= 1 / 4))
        found.append((f"idle run <= 1/10 of the full run ({at})", f"{idle_share:.3f}", idle_share <= 1 / 10))
        found.append((f"idle run < 5 s ({at})", f"{run['idle_seconds']} s", run["idle_seconds"] < 5))
        # Stated for scale 2; checked at every scale measured.
        speed, memory = run["full_run"]["lines_per_second"], run["full_run"]["peak_memory_gib"]
        found.append((f"full run >= 50,000 lines/s ({at}; target at scale 2)", f"{speed:,} lines/s", speed >= 50_000))
        found.append((f"full run peak (summed PSS) < 1.5 GiB ({at}; target at scale 2)", f"{memory} GiB", memory < 1.5))
        worst = max(run["dashboard_ms"].items(), key=lambda item: item[1]["p95_ms"])
        found.append(
            (f"dashboard p95 < 300 ms ({at}; worst: {worst[0]})", f"{worst[1]['p95_ms']} ms", worst[1]["p95_ms"] < 300)
        )
    if 1 in by_scale and 10 in by_scale:
        ratio = by_scale[10]["increment"]["seconds"] / by_scale[1]["increment"]["seconds"]
        found.append(("day increment at scale 10 <= 1.3 x scale 1", f"{ratio:.2f} x", ratio <= 1.3))
    return found


def table(runs: list[dict]) -> str:
    scales = [run["scale"] for run in runs]
    rows: list[tuple[str, list[str]]] = [
        ("lines", [f"{run['lines']:,}" for run in runs]),
        ("floor: read_ndjson coverage (s)", [f"{run['floor_seconds']:.1f}" for run in runs]),
        ("script: json+pandas+fhir.resources (s)", [f"{run['script_seconds']:.1f}" for run in runs]),
        ("ingest in-process (lines/s)", [f"{run['ingest']['lines_per_second']:,}" for run in runs]),
        ("kritinfo run, full, median (s)", [f"{run['full_run']['seconds']:.1f}" for run in runs]),
        ("  lines/s", [f"{run['full_run']['lines_per_second']:,}" for run in runs]),
        ("  peak memory, summed PSS (GiB)", [f"{run['full_run']['peak_memory_gib']:.2f}" for run in runs]),
        ("  peak memory, summed RSS (GiB)", [f"{run['full_run']['peak_rss_sum_gib']:.2f}" for run in runs]),
        ("kritinfo run, day increment, median (s)", [f"{run['increment']['seconds']:.1f}" for run in runs]),
        ("kritinfo run, idle (s)", [f"{run['idle_seconds']:.2f}" for run in runs]),
        ("run / floor", [f"{run['full_run']['seconds'] / run['floor_seconds']:.1f} x" for run in runs]),
        ("run / script", [f"{run['full_run']['seconds'] / run['script_seconds']:.2f} x" for run in runs]),
        ("increment / full", [f"{run['increment']['seconds'] / run['full_run']['seconds']:.2f}" for run in runs]),
        ("idle / full", [f"{run['idle_seconds'] / run['full_run']['seconds']:.3f}" for run in runs]),
    ]
    for kind in runs[0]["dashboard_ms"]:
        rows.append(
            (
                f"dashboard {kind} p50/p95 (ms)",
                [
                    f"{run['dashboard_ms'][kind]['p50_ms']:.0f}/{run['dashboard_ms'][kind]['p95_ms']:.0f}"
                    for run in runs
                ],
            )
        )
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':{width}}" + "".join(f"{f'scale {s:g}':>16}" for s in scales)]
    lines += [f"{name:{width}}" + "".join(f"{value:>16}" for value in values) for name, values in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1,10", help="comma-separated simulation scales (default 1,10)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="times a full run and its day increment are run, in pairs (default 3; the medians count)",
    )
    parser.add_argument("--dashboard-repeats", type=int, default=10, help="times each dashboard interaction is timed")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kritinfo-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    runs = [
        bench_scale(float(scale), args.workdir, args.repeats, args.dashboard_repeats)
        for scale in args.scales.split(",")
    ]

    found = targets(runs)
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1)},
        "scales": runs,
        "targets": [{"target": target, "measured": measured, "met": met} for target, measured, met in found],
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    written = out / f"{results['measured_at'].replace(':', '')}.json"
    written.write_text(json.dumps(results, indent=2))
    print()
    print(table(runs))
    print()
    for target, measured, met in found:
        print(f"{'met   ' if met else 'MISSED'} {target}: {measured}")
    print(f"\nresults: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
