"""The goal evaluation asset on the metrics of a real pipeline run, checked by an independent fit."""

from __future__ import annotations

import os
import shutil
from datetime import date

import duckdb
import numpy as np
import pytest
from dagster import materialize

from pipelines.evaluation.assets import goal_evaluation
from pipelines.evaluation.goals import load_goals
from pipelines.settings import GOALS_FILE


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@pytest.fixture(scope="module")
def evaluated_home(published_home, tmp_path_factory):
    """A copy of the published run's warehouse with the goal evaluation materialised by Dagster."""
    home = tmp_path_factory.mktemp("goal-evaluation")
    shutil.copy(published_home / "warehouse.duckdb", home / "warehouse.duckdb")
    previous = os.environ.get("KRITINFO_HOME")
    os.environ["KRITINFO_HOME"] = str(home)
    try:
        assert materialize([goal_evaluation]).success
    finally:
        if previous is None:
            del os.environ["KRITINFO_HOME"]
        else:
            os.environ["KRITINFO_HOME"] = previous
    return home


def read(home, sql, *parameters):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, list(parameters)).fetchall()


def series(home, metric, area):
    grain = "grain = 'national'" if area == "national" else f"grain = 'region' and health_region = '{area}'"
    return read(
        home,
        f"""
        select period_end, value from metrics
        where metric_id = ? and {grain} and period = 'month' and dimension_name = 'total' and value is not null
        order by period_end""",
        metric,
    )


def test_every_goal_has_a_status_and_a_forecast_to_its_target(evaluated_home):
    goals = load_goals(GOALS_FILE)
    status = {
        row[0]: row
        for row in read(
            evaluated_home,
            """
        select goal_id, latest_value, latest_period_end, forecast_at_target, lower_at_target, upper_at_target,
               status, illustrative, goals_version
        from evaluation.goal_status""",
        )
    }
    assert set(status) == {g.id for g in goals.goals}
    for goal in goals.goals:
        history = series(evaluated_home, goal.metric, goal.area)
        assert len(history) > 12, goal.id
        _, latest_value, latest_end, forecast, lower, upper, state, illustrative, version = status[goal.id]
        assert (latest_end, latest_value) == pytest.approx(history[-1]), goal.id
        assert (illustrative, version) == (True, goals.version)

        # The least-squares line through the last 12 months, computed here with numpy.
        months = np.array([months_between(history[0][0], d) for d, _ in history], dtype=float)
        values = np.array([v for _, v in history])
        slope, intercept = np.polyfit(months[-12:], values[-12:], 1)
        at_target = intercept + slope * months_between(history[0][0], goal.target_date)
        ceiling = 100.0 if goal.metric != "registration_coverage_need" else np.inf
        assert forecast == pytest.approx(min(max(at_target, 0.0), ceiling)), goal.id
        assert lower <= upper, goal.id

        expected = "on_track" if lower >= goal.target_value else "off_track" if upper < goal.target_value else "at_risk"
        assert state == expected, goal.id

        path = read(
            evaluated_home, "select period_end from evaluation.goal_forecasts where goal_id = ? order by 1", goal.id
        )
        assert len(path) == months_between(latest_end, goal.target_date), goal.id
        assert path[-1][0] == goal.target_date


def test_backtest_counts_every_rolling_origin(evaluated_home):
    goal = load_goals(GOALS_FILE).goals[0]
    n = len(series(evaluated_home, goal.metric, goal.area))
    rows = read(
        evaluated_home,
        """
        select horizon_months, forecasts, mae, interval_checks, interval_coverage
        from evaluation.forecast_backtest where goal_id = ? order by 1""",
        goal.id,
    )
    # Window 12: origins at the 12th .. (n-1)th month (coverage rises every month, no flat window);
    # horizon h is reached from n - 12 - h + 1 of them.
    assert [(h, k) for h, k, *_ in rows] == [(h, n - 12 - h + 1) for h in range(1, n - 12 + 1)]
    assert all(mae >= 0 for _, _, mae, _, _ in rows)
    assert all(coverage is None or 0 <= coverage <= 1 for *_, coverage in rows)
    assert any(checks > 0 for _, _, _, checks, _ in rows)
