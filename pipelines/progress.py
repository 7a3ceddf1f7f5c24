"""The console of `kritinfo run`: one line per stage with its counts, rate and time, a live line
on a terminal, and everything else (Dagster's debug log, dbt's output) in the run's log file.

The counts come from the run's own events as Dagster logs them: a Dagster logger (``logger_def``)
sees every event of the run, so a stage's line is printed as soon as its last step has ended.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dagster import LoggerDefinition

STAGES = ("ingest", "dbt", "evaluation", "publish")
_STAGE_OF_STEP = {
    "raw_tables": "ingest",
    "goal_evaluation": "evaluation",
    "rollout_evaluation": "evaluation",
    "serving_copy": "publish",
}
# Stage names are padded to this width, so that the counts line up.
_WIDTH = max(len(stage) for stage in STAGES) + 2
_PASSING_TEST_STATUSES = ("pass", "warn")  # dbt's statuses of a test that did not stop the build
_REFRESH_SECONDS = 0.5


def stage_of(step_key: str) -> str:
    # Every other step builds dbt models or checks them (the checks on staged events run between
    # the two dbt steps).
    return _STAGE_OF_STEP.get(step_key, "dbt")


def count(n: float) -> str:
    """19887 -> '19 887': digits grouped by spaces, as in Norwegian."""
    return f"{n:,.0f}".replace(",", " ")


def counted(n: float, noun: str) -> str:
    """3, 'file' -> '3 files'; 1, 'file' -> '1 file'."""
    return f"{count(n)} {noun}{'' if n == 1 else 's'}"


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


@dataclass
class Stage:
    name: str
    started: float
    ended: float | None = None
    failed: bool = False
    printed: bool = False
    # Metadata of each materialized asset (its last materialization: one per partition otherwise).
    materialized: dict[str, dict] = field(default_factory=dict)
    tests_passed: set = field(default_factory=set)
    tests_failed: set = field(default_factory=set)

    def seconds(self, now: float) -> float:
        return (self.ended or now) - self.started

    def counts(self) -> str:
        """What the stage did, from the metadata its assets were materialized with."""
        if self.name == "ingest":
            events = self.materialized.get("raw/events")
            if events is None:
                return ""
            return (
                f"{counted(events['files'], 'file')}, {counted(events['lines_read'], 'line')} "
                f"({count(events['loaded'])} loaded, {count(events['duplicates'])} duplicates, "
                f"{count(events['quarantined'])} quarantined)  {count(events['lines_per_second'])} lines/s"
            )
        if self.name == "evaluation":
            goals = self.materialized.get("evaluation/goal_status", {}).get("rows", 0)
            effect = self.materialized.get("evaluation/rollout_effect")
            if effect is None:
                return counted(goals, "goal")
            estimated = "rollout effect not estimated" if "not_estimated" in effect else "rollout effect"
            return f"{counted(goals, 'goal')}, {estimated}"
        if self.name == "publish":
            published = self.materialized.get("serving_copy")
            if published is None:
                return ""
            tables = sum(1 for name in published if name.startswith("rows/"))
            hidden = sum(value for name, value in published.items() if name.startswith("hidden_"))
            return f"{counted(tables, 'table')}, {counted(hidden, 'cell')} hidden"
        failed = f", {count(len(self.tests_failed))} failed" if self.tests_failed else ""
        return f"{counted(len(self.materialized), 'model')}, {counted(len(self.tests_passed), 'test')} passed{failed}"

    def line(self, now: float) -> str:
        outcome = "stopped after " if self.failed else ""
        counts = self.counts()
        return f"{self.name:<{_WIDTH}}{counts + '  ' if counts else ''}{outcome}{duration(self.seconds(now))}"


class RunConsole(logging.Handler):
    """Receives the run's Dagster log records; prints a line when a stage ends and, on a terminal,
    keeps one line showing the stage under way."""

    def __init__(self, out: TextIO, live: bool):
        super().__init__(level=logging.DEBUG)
        self.out = out
        self.live = live
        self.stages: list[Stage] = []
        self._guard = threading.Lock()  # the refresher thread and Dagster's thread both write
        self._stopped = threading.Event()
        self._refresher = threading.Thread(target=self._refresh, daemon=True) if live else None

    def logger_def(self) -> LoggerDefinition:
        logger = logging.getLogger(f"kritinfo.run_console.{id(self)}")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)
        return LoggerDefinition(lambda _init_context: logger, description="kritinfo's console of the run")

    def __enter__(self) -> RunConsole:
        if self._refresher:
            self._refresher.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stopped.set()
        if self._refresher:
            self._refresher.join()
        with self._guard:
            self._finish_stage()

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None or event.step_key is None:
            return
        try:
            with self._guard:
                self._record(event, time.monotonic())
                self._draw_live()
        except Exception:  # noqa: BLE001 (the console must never stop the run; logging reports it)
            self.handleError(record)

    def _record(self, event, now: float) -> None:
        stage_name = stage_of(event.step_key)
        if not self.stages or self.stages[-1].name != stage_name:
            if not event.is_step_start:  # e.g. the steps skipped after a failure: no stage of their own
                return
            self._finish_stage()
            self.stages.append(Stage(stage_name, now))
        stage = self.stages[-1]
        kind = event.event_type_value
        if event.is_step_success or event.is_step_failure:
            stage.ended = now
            stage.failed = stage.failed or event.is_step_failure
        elif event.is_step_start:
            stage.ended = None
        elif kind == "ASSET_MATERIALIZATION":
            metadata = event.step_materialization_data.materialization.metadata
            stage.materialized[event.asset_key.to_user_string()] = {k: v.value for k, v in metadata.items()}
        elif kind == "ASSET_CHECK_EVALUATION":
            check = event.asset_check_evaluation_data
            (stage.tests_passed if check.passed else stage.tests_failed).add((check.asset_key, check.check_name))
        elif kind == "ASSET_OBSERVATION":
            # dagster-dbt reports a test it cannot attach to one asset as an observation of each
            # asset the test reads: one test, counted once by its dbt id.
            metadata = event.asset_observation_data.asset_observation.metadata
            test_id, status = metadata.get("unique_id"), metadata.get("status")
            if test_id is not None and status is not None and str(test_id.value).startswith("test."):
                passed = status.value in _PASSING_TEST_STATUSES
                (stage.tests_passed if passed else stage.tests_failed).add(test_id.value)

    def _finish_stage(self) -> None:
        if self.stages and not self.stages[-1].printed:
            self.stages[-1].printed = True
            self._print(self.stages[-1].line(time.monotonic()))

    def _print(self, text: str) -> None:
        self.out.write(("\r\x1b[K" if self.live else "") + text + "\n")
        self.out.flush()

    def _draw_live(self) -> None:
        if not self.live or not self.stages:
            return
        stage = self.stages[-1]
        seconds = stage.seconds(time.monotonic())
        # Only dbt's counts grow while its step runs; the other stages count when they end.
        counts = stage.counts() + "  " if stage.name == "dbt" else ""
        text = f"{stage.name:<{_WIDTH}}{spinner(seconds)} {counts}{duration(seconds)}"
        self.out.write("\r\x1b[K" + text[: shutil.get_terminal_size().columns - 1])
        self.out.flush()

    def _refresh(self) -> None:
        while not self._stopped.wait(_REFRESH_SECONDS):
            with self._guard:
                self._draw_live()


def spinner(seconds: float) -> str:
    return "|/-\\"[int(seconds / _REFRESH_SECONDS) % 4]


@contextmanager
def output_to(log_file: Path) -> Iterator[TextIO]:
    """Points standard output and error at the log file for the block, at the level of file
    descriptors: dbt's process, the `tail` Dagster tees captured output with, and Dagster's console
    logger all write there. Yields a stream to the console as it was."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    console = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="replace")
    saved_stderr = os.dup(2)
    try:
        with open(log_file, "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield console
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                console.flush()
                os.dup2(console.fileno(), 1)
                os.dup2(saved_stderr, 2)
    finally:
        os.close(saved_stderr)
        console.close()
