"""Goals as data: ``goals.yml`` at the repository root, validated on load.

A goal says which metric (an id of the metric registry, dbt_project/models/metrics/) should reach
which value by which date, nationally or in one regional health authority, from which baseline.
The official effect and result goals are not yet published (the mandate, section 3, leaves them
to the initiative's steering document), so the shipped goals are illustrative and say so.

``load_goals`` reports every problem of the file at once, each naming the file, the goal and the
field, and raises ``GoalsError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from pipelines.config_file import read_yaml
from pipelines.contract.vocabulary import HEALTH_REGIONS
from pipelines.settings import goals_path
from pipelines.transform.manifest import read_manifest
from pipelines.transform.metric_registry import metric_registry
from pipelines.transform.project import dbt_project

NATIONAL = "national"
# The initiative runs 2024-2029 (mandate, section 2): baselines and targets lie in it.
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2029, 12, 31)


PERCENT = "prosent"


@dataclass(frozen=True)
class MetricKind:
    unit: str  # the metric's unit in bokmål (meta.metric.unit): prosent, timer, personer, ...
    higher_is_better: bool
    # The most the metric can be (100 for a share of a whole); None when unbounded, as coverage of
    # the estimated need, which is a percentage that can exceed 100.
    maximum: float | None = None


def metric_kind(metric: Mapping) -> MetricKind:
    """What goal validation and status need to know of a metric, from its declaration (meta.metric)."""
    return MetricKind(metric["unit"], metric["up_is_good"], 100.0 if metric["kind"] == "share" else None)


def known_metrics() -> Mapping[str, MetricKind]:
    """The metrics a goal may name: the metric registry, read from the dbt manifest."""
    manifest = dbt_project.manifest_path
    return _metric_kinds(manifest, manifest.stat().st_mtime_ns)


@cache
def _metric_kinds(manifest: Path, modified_ns: int) -> Mapping[str, MetricKind]:
    return {metric_id: metric_kind(metric) for metric_id, metric in metric_registry(read_manifest(manifest)).items()}


AREAS = (NATIONAL, *HEALTH_REGIONS)
TOP_LEVEL_FIELDS = ("version", "note", "goals")
GOAL_FIELDS = (
    "id",
    "metric",
    "area",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
    "illustrative",
    "note",
)


class GoalsError(ValueError):
    """goals.yml is not valid; the message lists every problem, one per line."""


@dataclass(frozen=True)
class Goal:
    id: str
    metric: str
    area: str  # "national" or a health region code
    baseline_value: float
    baseline_date: date
    target_value: float
    target_date: date
    illustrative: bool
    note: str = ""

    @property
    def kind(self) -> MetricKind:
        return known_metrics()[self.metric]


@dataclass(frozen=True)
class Goals:
    version: str
    note: str
    goals: tuple[Goal, ...]
    path: Path


def load_goals(path: Path | None = None) -> Goals:
    path = Path(path or goals_path())
    document = read_yaml(path, GoalsError)
    problems: list[str] = []
    goals_file = _validated(_GoalsFile, document, problems, "")
    # The goals are checked even when the file around them is not: every problem at once.
    entries = document.get("goals") if isinstance(document, dict) else None
    goals = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries if isinstance(entries, list) else (), start=1):
        goal_id = entry.get("id") if isinstance(entry, dict) else None
        label = f"goal '{goal_id}' (#{number})" if isinstance(goal_id, str) and goal_id else f"goal #{number}"
        if not isinstance(entry, dict):
            problems.append(f"{label}: must be a mapping of fields ({', '.join(GOAL_FIELDS)})")
            continue
        goal = _validated(_GoalEntry, entry, problems, f"{label}: ")
        if goal is None:
            continue
        if goal.id in seen:
            problems.append(f"{label}: field 'id': duplicate of goal #{seen[goal.id]}")
            continue
        seen[goal.id] = number
        goals.append(Goal(**goal.model_dump()))
    if problems:
        raise GoalsError("\n".join(f"{path}: {problem}" for problem in problems))
    return Goals(goals_file.version, goals_file.note, tuple(goals), path)


# Validation with pydantic: each field's type says what it accepts and how a mistake is worded,
# the models add what spans fields. Every problem of every goal is reported at once.


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be text, got {value!r}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {value!r}")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _day(value: object) -> date:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    # A datetime is a date too; a goal's date has no time of day.
    if not isinstance(parsed, date) or isinstance(parsed, datetime):
        raise ValueError(f"must be a date (YYYY-MM-DD), got {value!r}")
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValueError(f"{parsed} is outside the initiative's period {FIRST_DAY.year}-{LAST_DAY.year}")
    return parsed


def _known_metric(metric: str) -> str:
    metrics = known_metrics()
    if metric not in metrics:
        raise ValueError(f"unknown metric '{metric}' (known: {', '.join(sorted(metrics))})")
    return metric


def _known_area(area: str) -> str:
    if area not in AREAS:
        raise ValueError(f"unknown region '{area}' (use {NATIONAL} or one of {', '.join(HEALTH_REGIONS)})")
    return area


def _version(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or str(value).strip() == "":
        raise ValueError(f"must be a number or text, got {value!r}")
    return str(value)


def _goal_list(value: object) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of goals")
    return value


Text = Annotated[str, BeforeValidator(_text)]
Number = Annotated[float, BeforeValidator(_number)]
Day = Annotated[date, BeforeValidator(_day)]


class _GoalEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text
    metric: Annotated[str, BeforeValidator(_text), AfterValidator(_known_metric)]
    area: Annotated[str, BeforeValidator(_text), AfterValidator(_known_area)]
    baseline_value: Number
    baseline_date: Day
    target_value: Number
    target_date: Day
    illustrative: Annotated[bool, BeforeValidator(_flag)]
    note: Annotated[str, BeforeValidator(_text)] = ""

    @model_validator(mode="after")
    def _in_range_and_order(self) -> _GoalEntry:
        problems = []
        kind = known_metrics()[self.metric]
        # A goal is a share of a whole even for coverage of need, which could exceed 100.
        high = 100.0 if kind.unit == PERCENT else None
        for name in ("baseline_value", "target_value"):
            value = getattr(self, name)
            if value < 0 or (high is not None and value > high):
                allowed = f"0-{high:g}" if high is not None else ">= 0"
                problems.append(f"field '{name}': {value:g} is out of range for {self.metric} ({kind.unit}: {allowed})")
        if not self.baseline_date < self.target_date:
            problems.append(f"field 'target_date': {self.target_date} is not after baseline_date {self.baseline_date}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


class _GoalsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[str, BeforeValidator(_version)]
    note: Annotated[str, BeforeValidator(_text)] = ""
    goals: Annotated[list, BeforeValidator(_goal_list)]


def _validated(model: type[BaseModel], document: object, problems: list[str], label: str):
    """The document as ``model``, or None with each of its problems added, worded for a person."""
    if model is _GoalsFile and not isinstance(document, dict):
        problems.append("must be a mapping with the fields version, note and goals")
        return None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        allowed = ", ".join(GOAL_FIELDS if model is _GoalEntry else TOP_LEVEL_FIELDS)
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            text = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                problems.append(f"{label}field '{field}': missing")
            elif item["type"] == "extra_forbidden":
                problems.append(
                    f"{label}field '{field}': unknown field (allowed: {allowed})"
                    if label
                    else f"unknown field '{field}' (allowed: {allowed})"
                )
            elif field:
                problems.append(f"{label}field '{field}': {text}")
            else:
                problems.extend(f"{label}{line}" for line in text.splitlines())  # the checks across fields
        return None
