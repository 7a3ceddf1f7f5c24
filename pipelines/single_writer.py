"""One process writes the warehouse at a time.

Two guards, for the two ways runs start:
- every step that writes or reads the warehouse runs in the Dagster concurrency pool
  ``warehouse`` (limit 1, set in the instance's dagster.yaml by ``kritinfo run``), so Dagster
  queues such steps of concurrent runs;
- the same steps hold an exclusive advisory lock (``flock``) on ``KRITINFO_HOME/warehouse.lock``,
  which also covers processes with another Dagster instance, and is released by the kernel
  when its holder dies, even by ``kill -9``. ``kritinfo run`` holds it for its whole run; the
  lock belongs to the process (re-entrant), so its steps, in whatever thread, take it again.

A Dagster pool slot is not freed when its run is killed, so a later run would wait for it
forever. ``release_abandoned_runs`` frees them: it runs while holding the lock, so every
other run started by ``kritinfo run`` that is still marked as running is dead.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.faults import RunFault
from pipelines.settings import Paths

POOL = "warehouse"
# Marks runs started by `kritinfo run`, which hold the lock for as long as they live.
CLI_RUN_TAG = "kritinfo/started_by"
CLI_RUN_TAG_VALUE = "kritinfo-run"

DEFAULT_LOCK_TIMEOUT_SECONDS = 3600
_POLL_SECONDS = 0.2

# This process's hold on the lock: its descriptor and how many `warehouse_lock` blocks share it.
_held_fd: int | None = None
_depth = 0
_depth_guard = threading.Lock()


class WarehouseBusy(RunFault):
    """Another process held the warehouse lock for longer than the timeout."""


def lock_timeout_seconds() -> float:
    """How long to wait for another run to finish (KRITINFO_WAREHOUSE_LOCK_TIMEOUT, seconds)."""
    return float(os.environ.get("KRITINFO_WAREHOUSE_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS))


@contextmanager
def warehouse_lock(paths: Paths, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive warehouse lock (re-entrant within a process); WarehouseBusy after the
    timeout (seconds; default lock_timeout_seconds(), 0 to fail at once)."""
    global _held_fd, _depth
    with _depth_guard:
        if not _depth:
            paths.lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _acquire(fd, lock_timeout_seconds() if timeout is None else timeout)
            except BaseException:
                os.close(fd)
                raise
            _held_fd = fd
        _depth += 1
    try:
        yield
    finally:
        with _depth_guard:
            _depth -= 1
            if not _depth:
                os.close(_held_fd)  # closing the descriptor releases the lock
                _held_fd = None


def _acquire(fd: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"another kritinfo run is writing the warehouse (waited {timeout:.0f} s for "
                    f"its lock); run again when it has finished"
                ) from None
            time.sleep(_POLL_SECONDS)


def release_abandoned_runs(instance) -> list[str]:
    """Mark runs of `kritinfo run` that died (e.g. by kill -9) failed and free their pool slots.

    Call only while holding ``warehouse_lock``: then no other `kritinfo run` is alive.
    """
    from dagster import DagsterRunStatus, RunsFilter

    running = instance.get_runs(
        RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED],
            tags={CLI_RUN_TAG: CLI_RUN_TAG_VALUE},
        )
    )
    for run in running:
        instance.report_run_failed(run, "the kritinfo run process died before the run ended")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in running]
