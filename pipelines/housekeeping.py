"""Keep KRITINFO_HOME bounded, and say what it holds and who holds its locks.

Three areas grow with every run; each is bounded by a setting of ``settings.Retention``:
- ``dbt/``: dbt's target and log files, one folder per run; the newest ``dbt_runs`` are kept;
- ``dagster/``: Dagster's run history (runs, event logs, captured output, the log of each
  ``kritinfo run`` in ``logs/``); the newest
  ``dagster_runs`` finished runs are kept (at least one, so that the next run can tell whether
  the event-day partitions were ever built);
- ``archive/``: ingested files, removed ``archive_days`` after they were archived. A removed
  file's lines can no longer be replayed; its events and counts stay in the warehouse.

``kritinfo run`` applies the retention after its job, while it still holds the warehouse lock, and
a run with nothing new applies it too (all but Dagster's, to which it adds no run), so archived
files go when they are due however long no delivery comes; ``kritinfo doctor`` shows the sizes,
the lock holders and what the retention would remove.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR, Paths, Retention

_DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Removal:
    area: str
    what: str  # a path, or a Dagster run id
    bytes: int


def size(path: Path) -> int:
    """Bytes of a file or of every file below a folder (links not followed; 0 if it is gone)."""
    if not path.exists():
        return 0
    if not path.is_dir():
        return path.lstat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # removed meanwhile
                pass
    return total


def areas(paths: Paths) -> list[tuple[str, Path]]:
    """Every area kritinfo writes, with where it is (dbt's parse output stays in the repository)."""
    return [
        ("landing", paths.landing),
        ("archive", paths.archive),
        ("warehouse", paths.warehouse),
        ("serving copy", paths.serving),
        ("dagster", paths.dagster_home),
        ("dbt runs", paths.dbt_runs),
        ("dbt parse (repository)", DBT_PROJECT_DIR / "target"),
    ]


def _dagster_run_folders(paths: Paths, run_id: str) -> list[Path]:
    # The SQLite storage keeps one event-log database per run and captured output per run;
    # deleting a run from the instance leaves both, and kritinfo's log of the run.
    return [
        paths.dagster_event_logs / f"{run_id}.db",
        paths.dagster_home / "storage" / run_id,
        paths.run_log(run_id),
    ]


def planned_removals(paths: Paths, retention: Retention, instance=None, now: float | None = None) -> list[Removal]:
    """What the retention would remove now (Dagster runs only when an instance is given)."""
    now = time.time() if now is None else now
    removals = []
    dbt_runs = sorted(
        (p for p in paths.dbt_runs.iterdir() if p.is_dir()) if paths.dbt_runs.is_dir() else [],
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removals += [Removal("dbt runs", str(p), size(p)) for p in dbt_runs[max(retention.dbt_runs, 0) :]]
    # Folders dagster-dbt left in the repository's target/ before dbt's run files moved to dbt/
    # (dbt parse writes only files there).
    legacy = DBT_PROJECT_DIR / "target"
    if legacy.is_dir():
        removals += [Removal("dbt runs", str(p), size(p)) for p in sorted(legacy.iterdir()) if p.is_dir()]
    if instance is not None:
        removals += [
            Removal("dagster", run_id, sum(size(p) for p in _dagster_run_folders(paths, run_id)))
            for run_id in _old_dagster_runs(instance, retention)
        ]
    if paths.archive.is_dir():
        cutoff = now - retention.archive_days * _DAY_SECONDS
        removals += [
            Removal("archive", str(p), p.stat().st_size)
            for p in sorted(paths.archive.iterdir())
            if p.is_file() and p.stat().st_mtime < cutoff
        ]
    return removals


def _old_dagster_runs(instance, retention: Retention) -> list[str]:
    from dagster import DagsterRunStatus, RunsFilter

    finished = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    runs = instance.get_runs(RunsFilter(statuses=finished))  # newest first
    return [run.run_id for run in runs[max(retention.dagster_runs, 1) :]]


def apply(paths: Paths, removals: list[Removal], instance=None) -> None:
    """Remove what ``planned_removals`` listed. Call only while holding the warehouse lock."""
    for removal in removals:
        if removal.area == "dagster":
            instance.delete_run(removal.what)
            for path in _dagster_run_folders(paths, removal.what):
                _remove(path)
        else:
            _remove(Path(removal.what))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def lock_holders(path: Path) -> list[tuple[int, str]]:
    """(pid, command line) of each process holding a lock on the file, from /proc/locks (Linux);
    DuckDB locks its database file while a process has it open for writing."""
    try:
        stat = path.stat()
        with open("/proc/locks", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    holders = set()
    for line in lines:
        fields = line.split()
        # "1: FLOCK ADVISORY WRITE <pid> <maj:min:inode> 0 EOF"; a waiter's line has "->" after "1:".
        if len(fields) >= 6 and fields[1] != "->" and fields[5] == device:
            holders.add(int(fields[4]))
    return [(pid, _command_line(pid)) for pid in sorted(holders)]


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return " ".join(f.read().replace(b"\0", b" ").decode("utf-8", "replace").split())
    except OSError:
        return "(ended)"


def human(n: float) -> str:
    unit = "B"
    for larger in ("kB", "MB", "GB"):
        if n < 1000:
            break
        n, unit = n / 1000, larger
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"


def report(paths: Paths, retention: Retention, instance=None) -> str:
    """What `kritinfo doctor` prints."""
    out = [f"KRITINFO_HOME {paths.home}", "", "areas:"]
    named = areas(paths)
    width = max(len(name) for name, _ in named)
    out += [f"  {name:<{width}}  {human(size(path)):>9}  {path}" for name, path in named]
    out += ["", "locks:"]
    for path in (paths.lock, paths.warehouse):
        holders = lock_holders(path)
        held = "; ".join(f"pid {pid} ({command})" for pid, command in holders) if holders else "free"
        out.append(f"  {path.name}: {held}")
    out += [
        "",
        f"retention: dbt files of the newest {retention.dbt_runs} runs (KRITINFO_KEEP_DBT_RUNS), "
        f"the newest {retention.dagster_runs} Dagster runs (KRITINFO_KEEP_DAGSTER_RUNS), "
        f"archived files for {retention.archive_days} days (KRITINFO_ARCHIVE_RETENTION_DAYS)",
    ]
    removals = planned_removals(paths, retention, instance)
    if not removals:
        out.append("the retention would remove nothing now")
    else:
        by_area: dict[str, list[Removal]] = {}
        for removal in removals:
            by_area.setdefault(removal.area, []).append(removal)
        out.append("the next `kritinfo run` would remove:")
        for area, items in by_area.items():
            out.append(f"  {area}: {len(items)} ({human(sum(r.bytes for r in items))})")
            out += [f"    {r.what}" for r in items[:10]]
            if len(items) > 10:
                out.append(f"    … and {len(items) - 10} more")
    return "\n".join(out)
