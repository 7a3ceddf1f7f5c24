"""The warehouse schema `evaluation`: the tables' columns, and replacing a table's rows.

Publishing copies every table of this schema into serving.duckdb, so the columns are typed
here once, whatever rows (possibly none) a run produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

SCHEMA = "evaluation"

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "goal_status": (
        ("goal_id", "varchar"),
        ("metric_id", "varchar"),
        ("area", "varchar"),
        ("baseline_value", "double"),
        ("baseline_date", "date"),
        ("target_value", "double"),
        ("target_date", "date"),
        ("latest_value", "double"),
        ("latest_period_end", "date"),
        ("forecast_at_target", "double"),
        ("lower_at_target", "double"),
        ("upper_at_target", "double"),
        ("status", "varchar"),
        ("backtested_months", "integer"),
        ("method", "varchar"),
        ("illustrative", "boolean"),
        ("goals_version", "varchar"),
    ),
    "goal_forecasts": (
        ("goal_id", "varchar"),
        ("period_end", "date"),
        ("forecast", "double"),
        ("lower", "double"),
        ("upper", "double"),
    ),
    "forecast_backtest": (
        ("goal_id", "varchar"),
        ("metric_id", "varchar"),
        ("area", "varchar"),
        ("horizon_months", "integer"),
        ("forecasts", "integer"),
        ("mean_error", "double"),
        ("mae", "double"),
        ("mape", "double"),
        ("interval_checks", "integer"),
        ("interval_coverage", "double"),
    ),
    "rollout_effect": (
        ("estimand", "varchar"),
        ("description", "varchar"),
        ("estimate", "double"),
        ("ci_low", "double"),
        ("ci_high", "double"),
        ("confidence_level", "double"),
        ("method", "varchar"),
        ("n_regions", "integer"),
        ("n_months", "integer"),
    ),
    "rollout_event_study": (
        ("event_month", "integer"),
        ("estimate", "double"),
        ("ci_low", "double"),
        ("ci_high", "double"),
        ("n_regions", "integer"),
    ),
}


def replace_tables(con: duckdb.DuckDBPyConnection, rows_by_table: dict[str, Iterable[Sequence]]) -> dict[str, int]:
    """Replace each `evaluation.<table>` with its rows (tuples in COLUMNS order), all in one
    transaction, so readers never see one table of a run beside another of the previous run."""
    written = {}
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for table, rows in rows_by_table.items():
            columns = COLUMNS[table]
            con.execute(
                f"create or replace table {SCHEMA}.{table} ("
                + ", ".join(f"{name} {kind}" for name, kind in columns)
                + ")"
            )
            rows = [tuple(row) for row in rows]
            if rows:
                # One statement: executemany runs the insert once per row (a goal's backtest has
                # hundreds; about 0.2 s of each run).
                row_placeholders = "(" + ", ".join("?" for _ in columns) + ")"
                con.execute(
                    f"insert into {SCHEMA}.{table} values " + ", ".join([row_placeholders] * len(rows)),
                    [value for row in rows for value in row],
                )
            written[table] = len(rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written
