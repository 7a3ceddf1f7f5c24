"""The reporting calendar as data: ``reporting.yml`` at the repository root, validated on load.

Each follow-up meeting has a written report whose cut-off day (by default ``report_lead_days``
before the meeting) is the as-of day of its evaluation package. ``load_calendar`` reports every
problem of the file at once, one line each naming the file and the field, and raises
``CalendarError``.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from pipelines.config_file import read_yaml
from pipelines.settings import REPO_ROOT

CALENDAR_FILE = REPO_ROOT / "reporting.yml"
# The initiative runs 2024-2029 (mandate, section 2): its meetings and reports lie in it.
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2029, 12, 31)


class CalendarError(ValueError):
    """reporting.yml is not valid; the message lists every problem, one per line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meeting(_Strict):
    date: date
    cutoff: date | None = None  # None: report_lead_days before the meeting
    note: str | None = None


class Plan(_Strict):
    name: Annotated[str, StringConstraints(min_length=1)]
    due: str  # MM-DD, every year

    @field_validator("due")
    @classmethod
    def _month_day(cls, due: str) -> str:
        try:
            date.fromisoformat(f"2024-{due}")  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"{due!r} is not a day of the year written MM-DD, such as 09-15") from None
        return due


class Report(_Strict):
    """One written report: its cut-off (the package's as-of day) and the meeting it is for."""

    cutoff: date
    meeting: date


class ReportingCalendar(_Strict):
    version: int | str
    note: str
    report_lead_days: int = Field(default=14, ge=1, le=60)
    meetings: list[Meeting] = Field(min_length=1)
    plans: list[Plan] = []

    @model_validator(mode="after")
    def _dates_in_order(self) -> ReportingCalendar:
        problems = []
        for index, meeting in enumerate(self.meetings):
            if not FIRST_DAY <= meeting.date <= LAST_DAY:
                problems.append(
                    f"meetings[{index}].date: {meeting.date} is outside the initiative, {FIRST_DAY} to {LAST_DAY}"
                )
            if meeting.cutoff is not None and meeting.cutoff >= meeting.date:
                problems.append(f"meetings[{index}].cutoff: {meeting.cutoff} is not before its meeting {meeting.date}")
            if index and meeting.date <= self.meetings[index - 1].date:
                problems.append(f"meetings[{index}].date: {meeting.date} is not after the meeting before it")
        cutoffs = [report.cutoff for report in self.reports]
        for index in range(1, len(cutoffs)):
            if cutoffs[index] <= cutoffs[index - 1]:
                problems.append(
                    f"meetings[{index}]: its report's cut-off {cutoffs[index]} is not after the one "
                    f"before it ({cutoffs[index - 1]})"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def reports(self) -> list[Report]:
        lead = timedelta(days=self.report_lead_days)
        return [Report(cutoff=m.cutoff or m.date - lead, meeting=m.date) for m in self.meetings]

    def report_for(self, as_of: date) -> Report | None:
        """The report whose cut-off is this day, if any."""
        return next((report for report in self.reports if report.cutoff == as_of), None)

    def previous_cutoff(self, as_of: date) -> date | None:
        """The latest report cut-off before this day: the package a package for this day revises."""
        earlier = [report.cutoff for report in self.reports if report.cutoff < as_of]
        return earlier[-1] if earlier else None


def calendar_path() -> Path:
    """reporting.yml at the repository root, or the file named by KRITINFO_REPORTING_FILE."""
    return Path(os.environ.get("KRITINFO_REPORTING_FILE") or CALENDAR_FILE)


def load_calendar(path: Path | None = None) -> ReportingCalendar:
    path = path or calendar_path()
    document = read_yaml(path, CalendarError)
    try:
        return ReportingCalendar.model_validate(document)
    except ValidationError as error:
        raise CalendarError("\n".join(f"{path}: {line}" for line in _problems(error))) from None


def _problems(error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]).lstrip(".")
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "value_error" and not where:
            lines.extend(message.splitlines())  # the cross-field checks, already one per line
        else:
            lines.append(f"{where or 'the file'}: {message}")
    return lines
