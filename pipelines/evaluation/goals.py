"""Goals as data: ``goals.yml`` at the repository root, validated on load.

A goal says which metric (an id of the metric registry, dbt_project/models/metrics/) should reach
which value by which date, nationally or in one regional health authority, from which baseline.
The official effect and result goals are not yet published (the mandate, section 3, leaves them
to the initiative's steering document), so the shipped goals are illustrative and say so.

``load_goals`` reports every problem of the file at once, each naming the file, the goal and the
field, and raises ``GoalsError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from pipelines.contract.vocabulary import HEALTH_REGIONS
from pipelines.settings import REPO_ROOT
from pipelines.transform.metric_registry import read_metric_registry

GOALS_FILE = REPO_ROOT / "goals.yml"
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
    # Imported here: importing the project parses it when its manifest is stale, which only
    # loading goals needs.
    from pipelines.transform.project import dbt_project

    manifest = dbt_project.manifest_path
    return _metric_kinds(manifest, manifest.stat().st_mtime_ns)


@cache
def _metric_kinds(manifest: Path, modified_ns: int) -> Mapping[str, MetricKind]:
    return {metric_id: metric_kind(metric) for metric_id, metric in read_metric_registry(manifest).items()}

SCOPES = (NATIONAL, *HEALTH_REGIONS)
TOP_LEVEL_FIELDS = {"version": "a number or text", "note": "text", "goals": "a list of goals"}
GOAL_FIELDS = (
    "id", "metric", "scope", "baseline_value", "baseline_date", "target_value", "target_date",
    "illustrative", "note",
)
OPTIONAL_GOAL_FIELDS = {"note"}


class GoalsError(ValueError):
    """goals.yml is not valid; the message lists every problem, one per line."""


@dataclass(frozen=True)
class Goal:
    id: str
    metric: str
    scope: str  # "national" or a health region code
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


def goals_path() -> Path:
    """goals.yml at the repository root, or the file named by KRITINFO_GOALS_FILE."""
    return Path(os.environ.get("KRITINFO_GOALS_FILE") or GOALS_FILE)


def load_goals(path: Path | None = None) -> Goals:
    path = Path(path or goals_path())
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GoalsError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise GoalsError(f"{path}: not valid YAML{line}") from None
    problems: list[str] = []
    goals = _validate(document, problems)
    if problems:
        raise GoalsError("\n".join(f"{path}: {problem}" for problem in problems))
    return Goals(str(document["version"]), document.get("note") or "", tuple(goals), path)


def _validate(document: object, problems: list[str]) -> list[Goal]:
    if not isinstance(document, dict):
        problems.append("must be a mapping with the fields version, note and goals")
        return []
    for name in sorted(set(document) - set(TOP_LEVEL_FIELDS)):
        problems.append(f"unknown field '{name}' (allowed: {', '.join(TOP_LEVEL_FIELDS)})")
    version = document.get("version")
    if version is None:
        problems.append("field 'version': missing")
    elif isinstance(version, bool) or not isinstance(version, (int, float, str)) or str(version).strip() == "":
        problems.append(f"field 'version': must be {TOP_LEVEL_FIELDS['version']}, got {version!r}")
    if "note" in document and not isinstance(document["note"], str):
        problems.append("field 'note': must be text")
    entries = document.get("goals")
    if not isinstance(entries, list) or not entries:
        problems.append("field 'goals': must be a non-empty list of goals")
        return []

    goals = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        goal = _validate_goal(number, entry, problems)
        if goal is None:
            continue
        if goal.id in seen:
            problems.append(f"goal '{goal.id}' (#{number}): field 'id': duplicate of goal #{seen[goal.id]}")
            continue
        seen[goal.id] = number
        goals.append(goal)
    return goals


def _validate_goal(number: int, entry: object, problems: list[str]) -> Goal | None:
    if not isinstance(entry, dict):
        problems.append(f"goal #{number}: must be a mapping of fields ({', '.join(GOAL_FIELDS)})")
        return None
    goal_id = entry.get("id")
    label = f"goal '{goal_id}' (#{number})" if isinstance(goal_id, str) and goal_id else f"goal #{number}"
    before = len(problems)

    def problem(field: str, text: str) -> None:
        problems.append(f"{label}: field '{field}': {text}")

    for name in sorted(set(entry) - set(GOAL_FIELDS)):
        problem(name, f"unknown field (allowed: {', '.join(GOAL_FIELDS)})")
    for name in GOAL_FIELDS:
        if name not in entry and name not in OPTIONAL_GOAL_FIELDS:
            problem(name, "missing")

    for name in ("id", "metric", "scope"):
        if name in entry and (not isinstance(entry[name], str) or not entry[name].strip()):
            problem(name, f"must be text, got {entry[name]!r}")
    if "note" in entry and not isinstance(entry["note"], str):
        problem("note", f"must be text, got {entry['note']!r}")
    if "illustrative" in entry and not isinstance(entry["illustrative"], bool):
        problem("illustrative", f"must be true or false, got {entry['illustrative']!r}")

    metrics = known_metrics()
    metric = entry.get("metric")
    if isinstance(metric, str) and metric.strip() and metric not in metrics:
        problem("metric", f"unknown metric '{metric}' (known: {', '.join(sorted(metrics))})")
    scope = entry.get("scope")
    if isinstance(scope, str) and scope.strip() and scope not in SCOPES:
        problem("scope", f"unknown region '{scope}' (use {NATIONAL} or one of {', '.join(HEALTH_REGIONS)})")

    dates = {name: _date(entry[name], name, problem) for name in ("baseline_date", "target_date") if name in entry}
    values = {name: _number(entry[name], name, problem) for name in ("baseline_value", "target_value") if name in entry}
    kind = metrics.get(metric) if isinstance(metric, str) else None
    if kind is not None:
        # A goal is a share of a whole even for coverage of need, which could exceed 100.
        low, high = (0.0, 100.0) if kind.unit == PERCENT else (0.0, None)
        for name, value in values.items():
            if value is not None and (value < low or (high is not None and value > high)):
                allowed = f"{low:g}-{high:g}" if high is not None else f">= {low:g}"
                problem(name, f"{value:g} is out of range for {metric} ({kind.unit}: {allowed})")
    baseline_date, target_date = dates.get("baseline_date"), dates.get("target_date")
    if baseline_date and target_date and not baseline_date < target_date:
        problem("target_date", f"{target_date} is not after baseline_date {baseline_date}")

    if len(problems) > before:
        return None
    return Goal(
        id=goal_id, metric=metric, scope=scope,
        baseline_value=values["baseline_value"], baseline_date=baseline_date,
        target_value=values["target_value"], target_date=target_date,
        illustrative=entry["illustrative"], note=entry.get("note") or "",
    )


def _date(value: object, name: str, problem) -> date | None:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            problem(name, f"must be a date (YYYY-MM-DD), got {value!r}")
            return None
    # A datetime is a date too; a goal's date has no time of day.
    if not isinstance(value, date) or hasattr(value, "hour"):
        problem(name, f"must be a date (YYYY-MM-DD), got {value!r}")
        return None
    if not FIRST_DAY <= value <= LAST_DAY:
        problem(name, f"{value} is outside the initiative's period {FIRST_DAY.year}-{LAST_DAY.year}")
        return None
    return value


def _number(value: object, name: str, problem) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problem(name, f"must be a number, got {value!r}")
        return None
    return float(value)
