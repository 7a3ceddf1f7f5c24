"""goals.yml: the shipped file loads; each kind of mistake is reported naming the file, goal and field."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipelines.contract.vocabulary import HEALTH_REGIONS
from pipelines.evaluation.goals import GoalsError, MetricKind, known_metrics, load_goals
from pipelines.settings import DBT_PROJECT_DIR, GOALS_FILE

GOOD_GOAL = {
    "id": "coverage-vest",
    "metric": "registration_coverage_need",
    "area": "helse-vest",
    "baseline_value": 40,
    "baseline_date": "2024-01-31",
    "target_value": 75,
    "target_date": "2029-12-31",
    "illustrative": True,
}


def write(tmp_path: Path, document) -> Path:
    path = tmp_path / "goals.yml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document), encoding="utf-8")
    return path


def goals_file(tmp_path: Path, *goals: dict, version=3) -> Path:
    return write(tmp_path, {"version": version, "note": "test goals", "goals": list(goals)})


def error_lines(path: Path) -> list[str]:
    with pytest.raises(GoalsError) as raised:
        load_goals(path)
    lines = str(raised.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    return [line.removeprefix(f"{path}: ") for line in lines]


def test_the_shipped_goals_load_and_are_labelled_illustrative():
    goals = load_goals(GOALS_FILE)
    assert goals.version == "1"
    assert "not yet published" in goals.note
    assert all(g.illustrative for g in goals.goals)
    by_id = {g.id: g for g in goals.goals}
    coverage_areas = {g.area for g in goals.goals if g.metric == "registration_coverage_need"}
    assert coverage_areas == {"national", *HEALTH_REGIONS}
    assert by_id["automatic-share-national"].area == "national"
    assert by_id["api-organisation-share-national"].metric == "api_organisation_share"


def test_a_valid_goal_is_read_with_its_types(tmp_path):
    goals = load_goals(goals_file(tmp_path, {**GOOD_GOAL, "note": "why"}))
    (goal,) = goals.goals
    assert goals.version == "3"
    assert (goal.id, goal.metric, goal.area, goal.note) == (
        "coverage-vest",
        "registration_coverage_need",
        "helse-vest",
        "why",
    )
    assert (goal.baseline_value, goal.baseline_date) == (40.0, date(2024, 1, 31))
    assert (goal.target_value, goal.target_date, goal.illustrative) == (75.0, date(2029, 12, 31), True)


def test_unknown_metric(tmp_path):
    assert error_lines(goals_file(tmp_path, {**GOOD_GOAL, "metric": "happiness"})) == [
        "goal 'coverage-vest' (#1): field 'metric': unknown metric 'happiness' "
        f"(known: {', '.join(sorted(known_metrics()))})"
    ]


def test_unknown_region(tmp_path):
    (line,) = error_lines(goals_file(tmp_path, {**GOOD_GOAL, "area": "helse-ost"}))
    assert line.startswith("goal 'coverage-vest' (#1): field 'area': unknown region 'helse-ost'")
    assert "national" in line and "helse-midt-norge" in line


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [("target_date", "2030-01-31", "2030-01-31"), ("baseline_date", "2023-12-31", "2023-12-31")],
)
def test_date_outside_the_initiative(tmp_path, field, value, shown):
    assert error_lines(goals_file(tmp_path, {**GOOD_GOAL, field: value})) == [
        f"goal 'coverage-vest' (#1): field '{field}': {shown} is outside the initiative's period 2024-2029"
    ]


def test_target_date_must_follow_the_baseline(tmp_path):
    lines = error_lines(goals_file(tmp_path, {**GOOD_GOAL, "baseline_date": "2027-06-30", "target_date": "2026-12-31"}))
    assert lines == ["goal 'coverage-vest' (#1): field 'target_date': 2026-12-31 is not after baseline_date 2027-06-30"]


def test_percent_out_of_range(tmp_path):
    assert error_lines(goals_file(tmp_path, {**GOOD_GOAL, "target_value": 120})) == [
        "goal 'coverage-vest' (#1): field 'target_value': "
        "120 is out of range for registration_coverage_need (prosent: 0-100)"
    ]


def test_count_must_not_be_negative(tmp_path):
    goal = {**GOOD_GOAL, "metric": "api_organisations", "baseline_value": -1, "target_value": 500}
    assert error_lines(goals_file(tmp_path, goal)) == [
        "goal 'coverage-vest' (#1): field 'baseline_value': "
        "-1 is out of range for api_organisations (virksomheter: >= 0)"
    ]


def test_a_count_may_exceed_100(tmp_path):
    goal = {**GOOD_GOAL, "metric": "api_organisations", "baseline_value": 0, "target_value": 500}
    assert load_goals(goals_file(tmp_path, goal)).goals[0].target_value == 500


def test_duplicate_ids(tmp_path):
    lines = error_lines(goals_file(tmp_path, GOOD_GOAL, {**GOOD_GOAL, "area": "national"}))
    assert lines == ["goal 'coverage-vest' (#2): field 'id': duplicate of goal #1"]


def test_missing_fields_are_each_named(tmp_path):
    goal = {k: v for k, v in GOOD_GOAL.items() if k not in ("target_value", "illustrative")}
    assert error_lines(goals_file(tmp_path, goal)) == [
        "goal 'coverage-vest' (#1): field 'target_value': missing",
        "goal 'coverage-vest' (#1): field 'illustrative': missing",
    ]


def test_a_goal_without_id_is_named_by_its_position(tmp_path):
    goal = {k: v for k, v in GOOD_GOAL.items() if k != "id"}
    assert error_lines(goals_file(tmp_path, GOOD_GOAL | {"id": "first"}, goal)) == ["goal #2: field 'id': missing"]


def test_wrong_types(tmp_path):
    goal = {**GOOD_GOAL, "target_value": "75 %", "target_date": "end of 2029", "illustrative": "yes", "area": 7}
    assert error_lines(goals_file(tmp_path, goal)) == [  # in the order of the fields
        "goal 'coverage-vest' (#1): field 'area': must be text, got 7",
        "goal 'coverage-vest' (#1): field 'target_value': must be a number, got '75 %'",
        "goal 'coverage-vest' (#1): field 'target_date': must be a date (YYYY-MM-DD), got 'end of 2029'",
        "goal 'coverage-vest' (#1): field 'illustrative': must be true or false, got 'yes'",
    ]


def test_a_boolean_is_not_a_number(tmp_path):
    assert error_lines(goals_file(tmp_path, {**GOOD_GOAL, "baseline_value": True})) == [
        "goal 'coverage-vest' (#1): field 'baseline_value': must be a number, got True"
    ]


def test_unknown_goal_field_is_a_typo(tmp_path):
    (line,) = error_lines(goals_file(tmp_path, {**GOOD_GOAL, "target_valeu": 3}))
    assert line.startswith("goal 'coverage-vest' (#1): field 'target_valeu': unknown field (allowed: id, metric,")


def test_every_problem_of_every_goal_is_reported_at_once(tmp_path):
    lines = error_lines(
        goals_file(
            tmp_path,
            {**GOOD_GOAL, "metric": "nope"},
            {**GOOD_GOAL, "id": "b", "target_date": "2031-01-01"},
        )
    )
    assert [line.split(":")[0] for line in lines] == ["goal 'coverage-vest' (#1)", "goal 'b' (#2)"]


def test_file_level_mistakes(tmp_path):
    assert error_lines(write(tmp_path, {"note": "x", "goals": []})) == [
        "field 'version': missing",
        "field 'goals': must be a non-empty list of goals",
    ]
    assert error_lines(write(tmp_path, ["not", "a", "mapping"])) == [
        "must be a mapping with the fields version, note and goals"
    ]
    assert error_lines(write(tmp_path, {"version": 1, "goals": ["text"], "owner": "me"})) == [
        "unknown field 'owner' (allowed: version, note, goals)",
        "goal #1: must be a mapping of fields (id, metric, area, baseline_value, baseline_date, "
        "target_value, target_date, illustrative, note)",
    ]


def test_broken_yaml_and_missing_file_name_the_file(tmp_path):
    broken = write(
        tmp_path,
        textwrap.dedent("""\
        version: 1
        goals:
          - id: a
            metric: [unclosed
        """),
    )
    [line] = error_lines(broken)
    assert line.startswith("is not valid YAML at line 5")
    missing = tmp_path / "nowhere.yml"
    with pytest.raises(GoalsError, match=f"^{missing}: cannot be read"):
        load_goals(missing)


def test_known_metrics_are_the_metric_models():
    metrics_dir = DBT_PROJECT_DIR / "models" / "metrics"
    models = {
        path.stem.removeprefix("metric_")
        for path in metrics_dir.glob("metric_*.sql")
        if "declare_metric(" in path.read_text(encoding="utf-8")
    }
    assert set(known_metrics()) == models


def test_known_metrics_carry_their_declared_direction_and_bound():
    kinds = known_metrics()
    # A share of a whole stops at 100; coverage of the estimated need is a percentage that need not.
    assert kinds["registration_coverage_population"] == MetricKind("prosent", True, 100.0)
    assert kinds["registration_coverage_need"] == MetricKind("prosent", True, None)
    assert kinds["corrections_share"] == MetricKind("prosent", False, 100.0)
    assert kinds["delay_median_hours"] == MetricKind("timer", False, None)
