"""reporting.yml: the shipped calendar loads; each kind of mistake is reported naming the file and
field; the package schedule fires the night after each cut-off day and on no other."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import RunRequest, SkipReason, build_schedule_context

from pipelines.report.calendar import CALENDAR_FILE, CalendarError, load_calendar


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reporting.yml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(CalendarError) as raised:
        load_calendar(path)
    lines = str(raised.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    return [line.removeprefix(f"{path}: ") for line in lines]


def test_the_shipped_calendar_has_a_report_two_weeks_before_every_second_months_meeting():
    calendar = load_calendar(CALENDAR_FILE)
    reports = calendar.reports
    assert len(reports) == 6 * 6  # six meetings a year, 2024-2029 (mandate, section 6)
    assert all(report.meeting - report.cutoff == timedelta(days=14) for report in reports)
    assert {report.meeting.month for report in reports} == {2, 4, 6, 8, 10, 12}
    assert [(plan.due) for plan in calendar.plans] == ["02-01", "09-15"]
    assert calendar.previous_cutoff(date(2025, 4, 3)) == date(2025, 2, 6)
    assert calendar.previous_cutoff(reports[0].cutoff) is None
    assert calendar.report_for(date(2025, 4, 3)).meeting == date(2025, 4, 17)
    assert calendar.report_for(date(2025, 4, 4)) is None


def test_an_explicit_cutoff_overrides_the_lead_days(tmp_path):
    calendar = load_calendar(
        write(
            tmp_path,
            "version: 2\nnote: n\nreport_lead_days: 10\nmeetings:\n"
            "  - {date: 2025-03-20}\n  - {date: 2025-05-22, cutoff: 2025-05-02}\n",
        )
    )
    assert [r.cutoff for r in calendar.reports] == [date(2025, 3, 10), date(2025, 5, 2)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nnote: n\nmeetings: []\n", "meetings: List should have at least 1 item after validation, not 0"),
        (
            "version: 1\nnote: n\nmeetings:\n  - {date: 2031-01-01}\n",
            "meetings[0].date: 2031-01-01 is outside the initiative, 2024-01-01 to 2029-12-31",
        ),
        (
            "version: 1\nnote: n\nmeetings:\n  - {date: 2025-03-01, cutoff: 2025-03-05}\n",
            "meetings[0].cutoff: 2025-03-05 is not before its meeting 2025-03-01",
        ),
        (
            "version: 1\nnote: n\nmeetings:\n  - {date: 2025-05-01}\n  - {date: 2025-03-01}\n",
            "meetings[1].date: 2025-03-01 is not after the meeting before it",
        ),
        (
            "version: 1\nnote: n\nmeetings:\n  - {dato: 2025-05-01}\n",
            "meetings[0].dato: Extra inputs are not permitted",
        ),
        (
            "version: 1\nnote: n\nmeetings:\n  - {date: 2025-05-01}\nplans:\n  - {name: Plan, due: 02-30}\n",
            "plans[0].due: '02-30' is not a day of the year written MM-DD, such as 09-15",
        ),
        ("version: 1\nmeetings:\n  - {date: 2025-05-01}\n", "note: Field required"),
    ],
)
def test_each_mistake_is_named(tmp_path, text, expected):
    assert expected in problems(write(tmp_path, text))


def test_a_file_that_is_not_yaml_is_named(tmp_path):
    [line] = problems(write(tmp_path, "version: [1\n"))
    assert line.startswith("is not valid YAML")


def test_the_schedule_asks_for_a_package_the_night_after_each_cut_off_day_only():
    from pipelines.report.assets import evaluation_package_on_cutoff

    oslo = ZoneInfo("Europe/Oslo")
    after_cutoff = evaluation_package_on_cutoff(
        build_schedule_context(scheduled_execution_time=datetime(2025, 4, 4, 0, 30, tzinfo=oslo))
    )
    assert isinstance(after_cutoff, RunRequest) and after_cutoff.partition_key == "2025-04-03"
    other_night = evaluation_package_on_cutoff(
        build_schedule_context(scheduled_execution_time=datetime(2025, 4, 5, 0, 30, tzinfo=oslo))
    )
    assert isinstance(other_night, SkipReason)
