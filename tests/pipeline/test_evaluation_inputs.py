"""The evaluation assets keep the tables in place while the inputs they were computed from are
unchanged, and compute them again when one input changes (pipelines/evaluation/tables.py).

Seen from outside: a mark written into a kept table survives the next materialization; after one
figure of the inputs changes, the mark is gone and the tables hold what the new figure gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetsDefinition, materialize

from pipelines.evaluation.assets import goal_evaluation, rollout_evaluation
from pipelines.evaluation.goals import NATIONAL, load_goals
from pipelines.settings import GOALS_FILE

MARK = "marked by the test"


@pytest.fixture
def home(published_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a real run's warehouse, its evaluation tables computed by that run; the assets
    materialized in the test find it through KRITINFO_HOME."""
    shutil.copy(published_home / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    return tmp_path


def materialized(asset: AssetsDefinition) -> None:
    assert materialize([asset]).success


def query(home: Path, sql: str, *parameters) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        return con.execute(sql, list(parameters)).fetchall()


def test_goal_tables_are_kept_while_the_series_are_unchanged_and_computed_again_after_a_change(home: Path):
    query(home, "update evaluation.goal_status set method = ?", MARK)
    materialized(goal_evaluation)
    assert query(home, "select distinct method from evaluation.goal_status") == [(MARK,)]

    goal = load_goals(GOALS_FILE).goals[0]
    area = "grain = 'national'" if goal.area == NATIONAL else f"grain = 'region' and health_region = '{goal.area}'"
    latest = f"""metric_id = ? and {area} and period = 'month' and dimension_name = 'total'
        and period_end = (select max(period_end) from metrics where metric_id = ? and {area}
                          and period = 'month' and dimension_name = 'total' and value is not null)"""
    [(value,)] = query(home, f"select value from metrics where {latest}", goal.metric, goal.metric)
    query(home, f"update metrics set value = value + 1 where {latest}", goal.metric, goal.metric)
    materialized(goal_evaluation)
    assert MARK not in {method for (method,) in query(home, "select method from evaluation.goal_status")}
    assert query(home, "select latest_value from evaluation.goal_status where goal_id = ?", goal.id) == [
        (pytest.approx(value + 1),)
    ]


def test_rollout_tables_are_kept_while_the_panel_is_unchanged_and_computed_again_after_a_change(home: Path):
    [(estimates,)] = query(home, "select count(*) from evaluation.rollout_effect")
    assert estimates > 0  # the run's simulation has a region live long enough to estimate
    query(home, "update evaluation.rollout_effect set method = ?", MARK)
    materialized(rollout_evaluation)
    assert query(home, "select distinct method from evaluation.rollout_effect") == [(MARK,)]

    query(
        home,
        "update new_persons_by_region_month set new_persons = new_persons + 1 "
        "where period_end = (select max(period_end) from new_persons_by_region_month) and health_region = 'helse-vest'",
    )
    materialized(rollout_evaluation)
    methods = {method for (method,) in query(home, "select method from evaluation.rollout_effect")}
    assert methods and MARK not in methods
