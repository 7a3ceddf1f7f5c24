"""Faults an operator must fix, reported as one clear line instead of a traceback.

A ``RunFault``'s message names the problem and the file it concerns and never quotes file
content, so it may be stored in Dagster's event log and printed by ``kritinfo run``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

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


def no_room_to_write(error: BaseException, what: str) -> NoRoomToWrite | None:
    """A NoRoomToWrite for `error` if it (or an error it was raised from) is a write without room."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in _NO_ROOM_ERRNOS:
            reason = _NO_ROOM_ERRNOS[error.errno]
        else:
            # DuckDB and SQLite report failed writes as their own exception types, with the text below.
            reason = next((said for phrase, said in _NO_ROOM_PHRASES.items() if phrase in str(error)), None)
        if reason:
            return NoRoomToWrite(f"cannot write {what}: {reason}; free space and run again "
                                 f"(the last published copy is unchanged)")
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
    """(step, first line of the innermost error) for each failed step of a Dagster run result."""
    failures = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        first_line = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
        # "package.module.SomeError: text" -> "text": the text is what the operator needs.
        prefix, _, text = first_line.partition(": ")
        failures.append((event.step_key, text if text and prefix.split(".")[-1] == error.cls_name else first_line))
    return failures
