"""Forecasts, backtest and goal status: known trends, hand-computed backtests, a real DuckDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import numpy as np
import pytest

from pipelines.evaluation.forecast import (
    BacktestError,
    ErrorBands,
    Series,
    backtest,
    forecast_goal,
    forecast_goals,
    month_end,
    month_index,
    status_of,
    summarise_backtest,
    trend_forecast,
)
from pipelines.evaluation.goals import Goal, Goals
from pipelines.evaluation.tables import COLUMNS, replace_tables

START = month_index(date(2021, 1, 1))

COVERAGE_GOAL = Goal(
    id="coverage",
    metric="registration_coverage_need",
    area="national",
    baseline_value=40.0,
    baseline_date=date(2024, 1, 31),
    target_value=75.0,
    target_date=date(2026, 12, 31),
    illustrative=True,
)
DELAY_GOAL = replace(COVERAGE_GOAL, id="delay", metric="delay_median_hours", target_value=10.0)


def series(values, start=START) -> Series:
    return Series(np.arange(start, start + len(values)), np.array(values, dtype=float))


def test_trend_forecast_extends_the_least_squares_line_of_the_window():
    # Only the last three points count: the line through (2, 4), (3, 4), (4, 7).
    months, values = np.arange(5), np.array([100.0, -50.0, 4.0, 4.0, 7.0])
    slope = 1.5  # sum((x - 3)(y - 5)) / sum((x - 3)^2) = (1 + 0 + 2) / 2
    assert trend_forecast(months, values, np.array([5, 10]), window=3) == pytest.approx([5 + 2 * slope, 5 + 7 * slope])


def test_backtest_by_hand():
    # Window 3 over 1, 2, 4, 4, 7:
    #   origin month 2 (fit 1, 2, 4: slope 1.5, mean 7/3 at month 1)
    #     -> month 3: 7/3 + 3 = 16/3, month 4: 7/3 + 4.5 = 41/6
    #   origin month 3 (fit 2, 4, 4: slope 1, mean 10/3 at month 2) -> month 4: 10/3 + 2 = 16/3
    errors = backtest(series([1, 2, 4, 4, 7], start=0), window=3)
    assert [(e.origin, e.target, e.horizon) for e in errors] == [(2, 3, 1), (2, 4, 2), (3, 4, 1)]
    assert [e.forecast for e in errors] == pytest.approx([16 / 3, 41 / 6, 16 / 3])
    assert [e.error for e in errors] == pytest.approx([4 - 16 / 3, 7 - 41 / 6, 7 - 16 / 3])

    one, two = summarise_backtest(errors, min_errors=1)
    # Horizon 1: errors -4/3 and 5/3.
    assert (one.horizon, one.forecasts) == (1, 2)
    assert one.mean_error == pytest.approx((-4 / 3 + 5 / 3) / 2)
    assert one.mae == pytest.approx((4 / 3 + 5 / 3) / 2)
    assert one.mape == pytest.approx(100 * ((4 / 3) / 4 + (5 / 3) / 7) / 2)
    # Only the forecast from origin 3 has an earlier error at horizon 1 (target 3 <= origin 3): its
    # interval is 16/3 +/- 4/3, and 7 lies outside.
    assert (one.interval_checks, one.interval_coverage) == (1, 0.0)
    # Horizon 2: one error of 1/6; no earlier error to build an interval from.
    assert (two.horizon, two.forecasts) == (2, 1)
    assert (two.mean_error, two.mae) == pytest.approx((1 / 6, 1 / 6))
    assert two.mape == pytest.approx(100 * (1 / 6) / 7)
    assert (two.interval_checks, two.interval_coverage) == (0, None)


def test_mape_leaves_out_observed_zeros():
    errors = [BacktestError(0, 1, 1.0, 0.0), BacktestError(1, 2, 1.0, 2.0)]
    (summary,) = summarise_backtest(errors, min_errors=1)
    assert summary.mae == 1.0 and summary.mape == pytest.approx(50.0)
    (only_zeros,) = summarise_backtest(errors[:1], min_errors=1)
    assert only_zeros.mape is None


def test_error_bands_use_the_80th_percentile_of_absolute_errors_and_grow_in_proportion_beyond():
    # Horizon 1: errors 0..10, the 80th percentile of their sizes is 8. Horizon 2: errors -10..10 in
    # steps of 2, sizes 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10: also 8. Horizon 3 has too few errors.
    errors = [BacktestError(o, o + 1, 0.0, float(o)) for o in range(11)]
    errors += [BacktestError(o, o + 2, 0.0, 2.0 * o - 10) for o in range(11)]
    errors += [BacktestError(0, 3, 0.0, 1.0)]
    bands = ErrorBands.from_errors(errors, min_errors=6)
    assert (bands.at(1), bands.at(2), bands.longest) == pytest.approx((8.0, 8.0, 2))
    assert bands.at(3) == pytest.approx(12.0)
    assert bands.at(6) == pytest.approx(24.0)


def test_backtest_leaves_out_origins_whose_window_is_flat():
    # A share at 0 until the API exists, then rising: only windows holding a rise are origins.
    values = [0.0] * 15 + [1.0, 3.0, 6.0]
    errors = backtest(series(values, start=0), window=3)
    assert sorted({e.origin for e in errors}) == [15, 16]


def test_the_interval_covers_a_known_linear_trend():
    rng = np.random.default_rng(7)

    def trend(months):
        return 20.0 + 0.5 * (months - START)

    history = np.arange(START, START + 48)
    observed = Series(history, trend(history) + rng.normal(0, 1.0, len(history)))
    forecast = forecast_goal(COVERAGE_GOAL, observed)
    months = np.array([month_index(d) for d, *_ in forecast.path])
    assert months.tolist() == list(range(START + 48, month_index(COVERAGE_GOAL.target_date) + 1))
    lower = np.array([low for _, _, low, _ in forecast.path])
    upper = np.array([high for _, _, _, high in forecast.path])
    assert np.all(lower <= trend(months)) and np.all(trend(months) <= upper)
    assert forecast.at_target == forecast.path[-1][1:]
    # The line is close to the truth, and the band widens with the horizon.
    assert forecast.path[0][1] == pytest.approx(trend(months[0]), abs=1.0)
    assert upper[-1] - lower[-1] > upper[0] - lower[0]


def test_intervals_cover_new_observations_about_as_often_as_they_claim():
    # 200 series with the same trend and noise: the 80 % interval 6 months ahead holds the value
    # then observed in roughly 80 % of them.
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(200):
        values = 5.0 + 0.3 * np.arange(66) + rng.normal(0, 2.0, 66)
        history = series(values[:60])
        errors = backtest(history)
        width = ErrorBands.from_errors(errors).at(6)
        forecast = trend_forecast(history.months, history.values, np.array([START + 65]))[0]
        covered += abs(values[65] - forecast) <= width
    assert 0.70 <= covered / 200 <= 0.90


def test_status_from_where_the_interval_lies():
    assert status_of(COVERAGE_GOAL, 76, 84) == "on_track"
    assert status_of(COVERAGE_GOAL, 70, 78) == "at_risk"
    assert status_of(COVERAGE_GOAL, 66, 74) == "off_track"
    # Lower is better for delays: the upper end must meet the target to be on track.
    assert status_of(DELAY_GOAL, 6, 9.5) == "on_track"
    assert status_of(DELAY_GOAL, 7, 12) == "at_risk"
    assert status_of(DELAY_GOAL, 11, 16) == "off_track"


def test_forecast_of_a_share_stays_within_100():
    goal = replace(COVERAGE_GOAL, metric="automatic_share", target_value=90.0)
    rising = series(np.linspace(10, 95, 40) + np.tile([0.5, -0.5], 20))
    forecast = forecast_goal(goal, rising)
    assert max(high for *_, high in forecast.path) == 100.0
    assert forecast.at_target[0] == 100.0


def test_a_target_date_inside_the_data_is_met_or_missed():
    values = series(np.arange(60, dtype=float))  # reaches 59 in December 2025
    goal = replace(COVERAGE_GOAL, target_date=date(2024, 12, 31))  # observed 47 that month
    assert forecast_goal(replace(goal, target_value=47.0), values).status == "met"
    assert forecast_goal(replace(goal, target_value=48.0), values).status == "missed"
    assert forecast_goal(replace(goal, target_value=48.0), values).path == []


def test_too_short_a_series_has_insufficient_data():
    assert forecast_goal(COVERAGE_GOAL, series([1.0, 2.0, 3.0])).status == "insufficient_data"
    assert forecast_goal(COVERAGE_GOAL, series([])).status == "insufficient_data"


def test_goal_tables_from_a_metrics_mart_in_duckdb(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("""
        create table metrics (
            metric_id varchar, period_end date, period varchar, grain varchar, health_region varchar,
            county_code varchar, dimension_name varchar, dimension_value varchar,
            numerator double, denominator double, value double)
    """)
    months = range(START, START + 36)
    rows = []
    for i, m in enumerate(months):
        end = month_end(m)
        rows += [
            (
                "registration_coverage_need",
                end,
                "month",
                "national",
                None,
                None,
                "total",
                "all",
                None,
                None,
                30 + 0.5 * i,
            ),
            (
                "registration_coverage_need",
                end,
                "month",
                "region",
                "helse-vest",
                None,
                "total",
                "all",
                None,
                None,
                20 + 0.2 * i,
            ),
            # Other grains, dimensions and periods must not leak into the series.
            (
                "registration_coverage_need",
                end,
                "month",
                "county",
                "helse-vest",
                "46",
                "total",
                "all",
                None,
                None,
                99.0,
            ),
            (
                "registration_coverage_need",
                end,
                "month",
                "region",
                "helse-vest",
                None,
                "channel",
                "api",
                None,
                None,
                99.0,
            ),
        ]
    rows.append(
        (
            "registration_coverage_need",
            month_end(START + 36),
            "month",
            "national",
            None,
            None,
            "total",
            "all",
            None,
            None,
            None,
        )
    )
    rows.append(
        (
            "registration_coverage_need",
            date(2023, 12, 31),
            "year",
            "national",
            None,
            None,
            "total",
            "all",
            None,
            None,
            99.0,
        )
    )
    con.executemany("insert into metrics values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    vest = replace(COVERAGE_GOAL, id="vest", area="helse-vest", target_value=30.0)
    goals = Goals("7", "test", (COVERAGE_GOAL, vest), tmp_path / "goals.yml")
    tables = forecast_goals(con, goals)
    replace_tables(con, tables)

    status = {
        row[0]: dict(zip([c for c, _ in COLUMNS["goal_status"]], row, strict=True))
        for row in con.execute("select * from evaluation.goal_status").fetchall()
    }
    assert status["coverage"]["latest_value"] == pytest.approx(30 + 0.5 * 35)
    assert status["coverage"]["latest_period_end"] == month_end(START + 35)
    assert status["vest"]["latest_value"] == pytest.approx(20 + 0.2 * 35)
    # Exact lines: the forecast at the target is the line itself, with a zero-width interval.
    horizon_months = month_index(date(2026, 12, 31)) - START
    assert status["coverage"]["forecast_at_target"] == pytest.approx(30 + 0.5 * horizon_months)
    assert status["vest"]["forecast_at_target"] == pytest.approx(20 + 0.2 * horizon_months)
    assert status["vest"]["lower_at_target"] == pytest.approx(status["vest"]["upper_at_target"])
    # 30 + 0.5 * 71 = 65.5 misses 75; 20 + 0.2 * 71 = 34.2 meets 30.
    assert (status["coverage"]["status"], status["vest"]["status"]) == ("off_track", "on_track")
    assert status["vest"]["goals_version"] == "7" and status["vest"]["illustrative"] is True
    # Horizon h has 25 - h backtest errors: at least 6 up to 19 months ahead.
    assert status["vest"]["backtested_months"] == 19

    forecasts = con.execute(
        "select min(period_end), max(period_end), count(*) from evaluation.goal_forecasts where goal_id = 'vest'"
    ).fetchone()
    assert forecasts == (month_end(START + 36), date(2026, 12, 31), month_index(date(2026, 12, 31)) - START - 35)
    backtest_rows = con.execute(
        "select horizon_months, forecasts, mae from evaluation.forecast_backtest where goal_id = 'coverage' order by 1"
    ).fetchall()
    # 36 months, window 12: origins 12..35 months in, so horizon h has 24 - h + 1 forecasts, all exact.
    assert [(h, n) for h, n, _ in backtest_rows] == [(h, 25 - h) for h in range(1, 25)]
    assert all(mae == pytest.approx(0.0, abs=1e-9) for *_, mae in backtest_rows)
