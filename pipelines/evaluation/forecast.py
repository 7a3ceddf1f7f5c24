"""Forecast each goal's metric to its target date, backtest the forecasts, and give each goal a status.

Method: linear trend with empirical error intervals
---------------------------------------------------
The series is the goal's metric per month (the ``metrics`` mart: ``period = 'month'``,
``dimension_name = 'total'``, grain ``national`` or the goal's region). The forecast is the
straight line fitted by least squares to the last ``WINDOW_MONTHS`` observed months, extended to
the target date. Twelve months hold one whole season, so the season does not tilt the line.

How wrong such a line has been is measured on the series' own history (the backtest): from every
month with a full window up to it (the origin), the line is fitted to the window ending there and
compared with what was observed 1, 2, ... months later. Origins whose window holds a single value
are left out: a metric that has not started to move (a share of API traffic before the API
existed) would otherwise claim that the line is exact. The absolute error at horizon ``h`` is
collected over all origins; the prediction interval at horizon ``h`` is the forecast plus and minus
its 80th percentile ("four in five past forecasts this far ahead came closer than this"), once at
least ``MIN_ERRORS`` errors exist at that horizon. Beyond the longest such horizon ``H`` the
half-width grows in proportion to the horizon (``w(h) = w(H) * h / H``): an error in the slope
grows linearly with the distance. The forecast is kept at or above 0 and, for a share of a whole,
at or below 100 (``goals.MetricKind.maximum``), and the band around it within the same bounds.

Percentiles of signed errors (which would also correct a past bias) and the last three years of
origins only were tried on a national simulation (2014-2026) and covered less often in the honest
check below (30-68 % for an 80 % interval) than the symmetric band over every origin (61-92 %).

The backtest table reports, per horizon: the number of forecasts, mean error (bias), mean absolute
error (MAE), mean absolute percentage error (MAPE, over observed values other than 0) and the
coverage of the interval, measured honestly: each backtest forecast gets the interval built only
from errors that were known at its origin (target month not after the origin), when there are at
least ``MIN_ERRORS`` of them. Well below 80 % means the band is too narrow for this series.

Status at the target date: ``on_track`` when even the interval's pessimistic end meets the target
(the lower end, or the upper end for metrics where lower is better), ``off_track`` when even the
optimistic end misses it, else ``at_risk``. A target date already in the data is ``met`` or
``missed`` by the value observed that month; a series too short for an interval is
``insufficient_data``.

Limits: a straight line cannot see a share level off. While adoption ramps up the line runs on
toward 100 %, and a target far ahead is judged by a band that was checked only as far as the history
reaches (``goal_status.backtested_months``). Errors of neighbouring origins are alike (their windows
overlap), so the band rests on fewer independent errors than it counts.
"""

from __future__ import annotations

import bisect
import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np

from pipelines.evaluation.goals import NATIONAL, Goal, Goals

WINDOW_MONTHS = 12
INTERVAL_LEVEL = 0.80
MIN_ERRORS = 6
# In bokmål: the dashboard and the published evaluation tables show it as it is.
METHOD = (
    f"Lineær trend (minste kvadraters metode) over de siste {WINDOW_MONTHS} månedene; "
    f"{INTERVAL_LEVEL * 100:.0f} % prediksjonsintervall: prognosen ± {INTERVAL_LEVEL * 100:.0f}-persentilen av de "
    "absolutte feilene i tilbaketesten (rullerende startpunkt) ved hver horisont, økende i takt med "
    "horisonten utover de tilbaketestede."
)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_end(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


@dataclass(frozen=True)
class Series:
    """A metric's monthly values; months as month_index, ascending, without gaps in the values."""

    months: np.ndarray
    values: np.ndarray


def load_series(con: duckdb.DuckDBPyConnection, metric_id: str, area: str) -> Series:
    """The goal's series from the metrics mart (months with a value only)."""
    grain_filter = "grain = 'national'" if area == NATIONAL else "grain = 'region' and health_region = ?"
    parameters = [metric_id] if area == NATIONAL else [metric_id, area]
    rows = con.execute(
        f"select period_end, value from metrics where metric_id = ? and {grain_filter} "
        "and period = 'month' and dimension_name = 'total' and value is not null order by period_end",
        parameters,
    ).fetchall()
    return Series(np.array([month_index(d) for d, _ in rows], dtype=int), np.array([v for _, v in rows], dtype=float))


def trend_forecast(months: np.ndarray, values: np.ndarray, at: np.ndarray, window: int = WINDOW_MONTHS) -> np.ndarray:
    """The least-squares line through the last `window` points, evaluated at the months `at`."""
    x, y = months[-window:].astype(float), values[-window:]
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return y.mean() + slope * (np.asarray(at, dtype=float) - x.mean())


@dataclass(frozen=True)
class BacktestError:
    origin: int  # month_index of the last month the line saw
    target: int  # month_index forecast
    forecast: float
    actual: float

    @property
    def horizon(self) -> int:
        return self.target - self.origin

    @property
    def error(self) -> float:
        return self.actual - self.forecast


def backtest(series: Series, window: int = WINDOW_MONTHS) -> list[BacktestError]:
    """Rolling origin: from every point with `window` points up to it that are not all equal,
    forecast every later point."""
    errors = []
    for end in range(window, len(series.months)):
        if np.ptp(series.values[end - window : end]) == 0:
            continue
        later_months = series.months[end:]
        forecasts = trend_forecast(series.months[:end], series.values[:end], later_months, window)
        origin = int(series.months[end - 1])
        errors += [
            BacktestError(origin, int(m), float(f), float(a))
            for m, f, a in zip(later_months, forecasts, series.values[end:], strict=True)
        ]
    return errors


def _errors_by_horizon(errors: Iterable[BacktestError]) -> dict[int, list[BacktestError]]:
    by_horizon: dict[int, list[BacktestError]] = {}
    for e in errors:
        by_horizon.setdefault(e.horizon, []).append(e)
    return dict(sorted(by_horizon.items()))


def half_width(errors: Iterable[BacktestError]) -> float:
    """The INTERVAL_LEVEL percentile of the absolute errors."""
    return _percentile_of_ordered(sorted(abs(e.error) for e in errors))


def _percentile_of_ordered(ordered: list[float]) -> float:
    """The INTERVAL_LEVEL percentile of values in ascending order: numpy's default (linear)
    quantile, in its order of float operations, so the same float; without an array per call,
    which the backtest's thousands of calls cannot afford."""
    position = (len(ordered) - 1) * INTERVAL_LEVEL
    below = math.floor(position)
    if below >= len(ordered) - 1:
        return ordered[-1]
    weight = position - below
    low, high = ordered[below], ordered[below + 1]
    difference = high - low
    return high - difference * (1 - weight) if weight >= 0.5 else low + difference * weight


@dataclass(frozen=True)
class ErrorBands:
    """Interval half-width per horizon, extended in proportion beyond the last one."""

    half_widths: dict[int, float] = field(default_factory=dict)

    @classmethod
    def from_errors(cls, errors: Iterable[BacktestError], min_errors: int = MIN_ERRORS) -> ErrorBands:
        return cls(
            {h: half_width(group) for h, group in _errors_by_horizon(errors).items() if len(group) >= min_errors}
        )

    def __bool__(self) -> bool:
        return bool(self.half_widths)

    @property
    def longest(self) -> int:
        return max(self.half_widths)

    def at(self, horizon: int) -> float:
        if horizon in self.half_widths:
            return self.half_widths[horizon]
        if horizon > self.longest:
            return self.half_widths[self.longest] * horizon / self.longest
        # A shorter horizon without enough errors of its own (only in a series with gaps).
        return self.half_widths[min(h for h in self.half_widths if h > horizon)]


@dataclass(frozen=True)
class HorizonSummary:
    horizon: int
    forecasts: int
    mean_error: float
    mae: float
    mape: float | None  # percent; None when every observed value was 0
    interval_checks: int
    interval_coverage: float | None


def summarise_backtest(errors: list[BacktestError], min_errors: int = MIN_ERRORS) -> list[HorizonSummary]:
    """Error and honest interval coverage per horizon (module docstring)."""
    by_horizon = _errors_by_horizon(errors)
    summaries = []
    for horizon, group in by_horizon.items():
        absolute = np.array([abs(e.error) for e in group])
        relative = [abs(e.error) / abs(e.actual) for e in group if e.actual != 0]
        # The errors known at an origin are those whose target month had passed: a prefix of the
        # group ordered by target. The half-width of every prefix, adding one error at a time.
        by_target = sorted(group, key=lambda e: e.target)
        targets = [e.target for e in by_target]
        ordered: list[float] = []
        half_width_of_first = [math.nan]  # by how many errors are known; none is never asked
        for e in by_target:
            bisect.insort(ordered, abs(e.error))
            half_width_of_first.append(_percentile_of_ordered(ordered))
        checks = covered = 0
        for e in group:
            known = bisect.bisect_right(targets, e.origin)
            if known < min_errors:
                continue
            checks += 1
            covered += abs(e.error) <= half_width_of_first[known]
        summaries.append(
            HorizonSummary(
                horizon,
                len(group),
                float(np.mean([e.error for e in group])),
                float(absolute.mean()),
                float(100 * np.mean(relative)) if relative else None,
                checks,
                covered / checks if checks else None,
            )
        )
    return summaries


@dataclass(frozen=True)
class GoalForecast:
    goal: Goal
    latest_month: int | None
    latest_value: float | None
    path: list[tuple[date, float, float, float]]  # period_end, forecast, lower, upper
    at_target: tuple[float, float, float] | None  # forecast, lower, upper at the target month
    status: str
    backtest: list[HorizonSummary]
    # The longest horizon with enough backtest errors for an interval of its own; a target further
    # ahead has an interval extended beyond what the history could check.
    backtested_months: int | None = None


def meets_target(goal: Goal, value: float) -> bool:
    return value >= goal.target_value if goal.kind.higher_is_better else value <= goal.target_value


def status_of(goal: Goal, lower: float, upper: float) -> str:
    """Where the interval at the target date lies against the target (module docstring)."""
    pessimistic, optimistic = (lower, upper) if goal.kind.higher_is_better else (upper, lower)
    if meets_target(goal, pessimistic):
        return "on_track"
    if not meets_target(goal, optimistic):
        return "off_track"
    return "at_risk"


def forecast_goal(goal: Goal, series: Series) -> GoalForecast:
    target = month_index(goal.target_date)
    errors = backtest(series) if len(series.months) > WINDOW_MONTHS else []
    summary = summarise_backtest(errors)
    if not len(series.months):
        return GoalForecast(goal, None, None, [], None, "insufficient_data", summary)
    latest_month, latest_value = int(series.months[-1]), float(series.values[-1])
    if target <= latest_month:
        observed = dict(zip(series.months.tolist(), series.values.tolist(), strict=True)).get(target)
        if observed is None:
            status = "insufficient_data"
        else:
            status = "met" if meets_target(goal, observed) else "missed"
        return GoalForecast(goal, latest_month, latest_value, [], None, status, summary)
    bands = ErrorBands.from_errors(errors)
    if not bands:
        return GoalForecast(goal, latest_month, latest_value, [], None, "insufficient_data", summary)

    months = np.arange(latest_month + 1, target + 1)
    forecasts = trend_forecast(series.months, series.values, months)
    ceiling = goal.kind.maximum if goal.kind.maximum is not None else np.inf
    path = []
    for month, value in zip(months.tolist(), forecasts.tolist(), strict=True):
        # The band lies around the bounded forecast: a line run past 100 % is a forecast of 100 %,
        # not a certainty of it.
        value = float(np.clip(value, 0.0, ceiling))
        width = bands.at(month - latest_month)
        path.append((month_end(month), value, max(0.0, value - width), min(ceiling, value + width)))
    _, *at_target = path[-1]
    _, lower, upper = at_target
    return GoalForecast(
        goal, latest_month, latest_value, path, tuple(at_target), status_of(goal, lower, upper), summary, bands.longest
    )


def goal_rows(goals: Goals, forecasts: list[GoalForecast]) -> dict[str, list[tuple]]:
    """Rows of evaluation.goal_status, goal_forecasts and forecast_backtest (tables.COLUMNS order)."""
    status, paths, backtests = [], [], []
    for f in forecasts:
        g = f.goal
        at_target = f.at_target or (None, None, None)
        status.append(
            (
                g.id,
                g.metric,
                g.area,
                g.baseline_value,
                g.baseline_date,
                g.target_value,
                g.target_date,
                f.latest_value,
                month_end(f.latest_month) if f.latest_month is not None else None,
                *at_target,
                f.status,
                f.backtested_months,
                METHOD,
                g.illustrative,
                goals.version,
            )
        )
        paths += [(g.id, *point) for point in f.path]
        backtests += [
            (
                g.id,
                g.metric,
                g.area,
                s.horizon,
                s.forecasts,
                s.mean_error,
                s.mae,
                s.mape,
                s.interval_checks,
                s.interval_coverage,
            )
            for s in f.backtest
        ]
    return {"goal_status": status, "goal_forecasts": paths, "forecast_backtest": backtests}


def goal_series(con: duckdb.DuckDBPyConnection, goals: Goals) -> list[Series]:
    """Each goal's series, in the goals' order."""
    return [load_series(con, goal.metric, goal.area) for goal in goals.goals]


def goal_inputs(goals: Goals, series: list[Series]) -> list[bytes]:
    """Everything the goal tables are computed from (for tables.inputs_digest)."""
    described = repr((goals.version, goals.goals, [goal.kind for goal in goals.goals])).encode()
    return [described, *(each.months.tobytes() + each.values.tobytes() for each in series)]


def forecast_goals(
    con: duckdb.DuckDBPyConnection, goals: Goals, series: list[Series] | None = None
) -> dict[str, list[tuple]]:
    """Every goal's forecast, status and backtest, as rows of the evaluation tables; ``series``:
    the goals' series when read already (goal_series)."""
    series = goal_series(con, goals) if series is None else series
    return goal_rows(goals, [forecast_goal(goal, each) for goal, each in zip(goals.goals, series, strict=True)])
