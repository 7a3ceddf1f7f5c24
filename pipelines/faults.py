"""Faults an operator must fix, reported as one clear line instead of a traceback.

A ``RunFault``'s message names the problem and the file it concerns and never quotes file
content, so it may be stored in Dagster's event log and printed by ``kritinfo run``.
"""

from __future__ import annotations

import errno
import re
import traceback
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# What the operating system, DuckDB or SQLite says when a write finds no room, and what we say instead.
_NO_ROOM_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EFBIG: "file size limit reached",
    errno.EDQUOT: "disk quota exceeded",
}
_NO_ROOM_PHRASES = {
    "No space left on device": "no space left on device",
    "File too large": "file size limit reached",
    "Disk quota exceeded": "disk quota exceeded",
    "database or disk is full": "no space left on device",  # SQLite (Dagster's storage)
}


class RunFault(RuntimeError):
    """A fault with a message that is clear and safe to log (no file content)."""


class NoRoomToWrite(RunFault):
    """The disk (or a quota or file size limit) left no room to write."""


class UnreadableFile(RunFault):
    """A landing file cannot be read; the run stops rather than skip it silently."""


class DbtBuildFailed(RunFault):
    """dbt build failed: names each failed model and test, and where a test's rows can be seen."""


# dbt's statuses for a node that stops the build (a warning does not).
_DBT_FAILED_STATUSES = ("error", "fail", "runtime error")
_MESSAGE_CHARACTERS = 200
# A contract's rule that refused a row: DuckDB names the table and the rule, never the row's values
# (other errors may quote one, which may be personal data: of those only dbt's first line is shown).
_BROKEN_RULE = re.compile(r"Constraint Error: (CHECK|NOT NULL) constraint failed\b.*")


def dbt_build_failed(
    run_results: dict, failing_rows: Mapping[str, str], warehouse: str, dbt_log: str
) -> DbtBuildFailed:
    """A DbtBuildFailed naming the failed nodes of a dbt run_results.json, tests first, with the
    relation that keeps each failed test's rows (``failing_rows``, by unique id) where there is one."""
    failed = [result for result in run_results["results"] if result["status"] in _DBT_FAILED_STATUSES]
    failed.sort(key=lambda result: not result["unique_id"].startswith("test."))
    parts = []
    for result in failed:
        kind, _, name = result["unique_id"].split(".")[:3]
        if kind in ("test", "unit_test") and result["status"] == "fail":
            relation = failing_rows.get(result["unique_id"])
            where = f"; its rows: select * from {relation} in {warehouse}" if relation else ""
            parts.append(f"dbt {kind.replace('_', ' ')} {name} failed on {result['failures']} rows{where}")
        else:
            parts.append(f"dbt {kind} {name}: {_error_summary(result.get('message') or result['status'])}")
    if not parts:
        parts.append(f"dbt build failed before any model ran (see {dbt_log})")
    return DbtBuildFailed("; ".join(parts))


def _error_summary(message: str) -> str:
    """A model's or test's own error: the contract rule a row broke, else dbt's first line."""
    lines = [line.strip() for line in message.strip().splitlines()]
    broken_rule = next((line for line in lines if _BROKEN_RULE.fullmatch(line)), None)
    return broken_rule or lines[0][:_MESSAGE_CHARACTERS]


def error_location(error: BaseException) -> str:
    """The error's type and innermost frames (file, line, function), without message or source
    text: a message may quote the value it failed on, and values may be personal data."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return f"{type(error).__name__} at " + " < ".join(
        f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}" for frame in reversed(frames)
    )


def no_room_to_write(error: BaseException, what: str) -> NoRoomToWrite | None:
    """A NoRoomToWrite for `error` if it (or an error it was raised from) is a write without room."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in _NO_ROOM_ERRNOS:
            reason = _NO_ROOM_ERRNOS[error.errno]
        else:
            # DuckDB and SQLite report failed writes as their own exception types, with the text below.
            reason = next((said for phrase, said in _NO_ROOM_PHRASES.items() if phrase in str(error)), None)
        if reason:
            return NoRoomToWrite(
                f"cannot write {what}: {reason}; free space and run again (the last published copy is unchanged)"
            )
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def reported_as_no_room(what: str) -> Iterator[None]:
    """Re-raise an error that is a write without room as NoRoomToWrite; any other as it is."""
    try:
        yield
    except Exception as error:
        fault = no_room_to_write(error, what)
        if fault is None:
            raise
        raise fault from None


def step_failures(result) -> list[tuple[str, str]]:
    """(step, what failed) for each failed step of a Dagster run result: the failed blocking checks
    with their figures where checks stopped it, else the first line of the innermost error."""
    failed_checks = defaultdict(list)
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking:
                failed_checks[event.step_key].append(evaluation)
    failures = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        if error.cls_name == "DagsterAssetCheckFailedError" and failed_checks[event.step_key]:
            failures.append((event.step_key, "; ".join(_described(check) for check in failed_checks[event.step_key])))
            continue
        first_line = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
        # "package.module.SomeError: text" -> "text": the text is what the operator needs.
        prefix, _, text = first_line.partition(": ")
        failures.append((event.step_key, text if text and prefix.split(".")[-1] == error.cls_name else first_line))
    return failures


def _described(evaluation) -> str:
    """A failed check by name with its figures (counts and the keys of failing rows, never content)."""
    figures = ", ".join(f"{name} {entry.value}" for name, entry in evaluation.metadata.items())
    return f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed" + (
        f" ({figures})" if figures else ""
    )
