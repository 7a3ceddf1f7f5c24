"""The warehouse schema `evaluation`: the tables' columns, and replacing a table's rows.

Publishing copies every table of this schema into serving.duckdb, so the columns are typed
here once, whatever rows (possibly none) a run produces.

Each table's replacement records the digest of the inputs it was computed from (the series read
from the warehouse, goals.yml, and the evaluation's code), so that a run whose inputs are those of
the tables in place keeps them (`kept_tables`): a day's events in a month not yet complete leave
every monthly series as it was, and the forecasts and the bootstrap are not computed again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import numpy as np

SCHEMA = "evaluation"
# Beside the dbt models' ingestion marks (dbt_project/macros/touched_keys.sql); never published.
INPUTS_TABLE = "kritinfo_state.evaluation_inputs"

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


def inputs_digest(*inputs: bytes) -> str:
    """The digest of an evaluation's inputs, with the code that evaluates them (every module of
    this package, and numpy's version): new code computes the tables again."""
    digest = hashlib.sha256(_code_version().encode())
    for part in inputs:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@functools.cache
def _code_version() -> str:
    digest = hashlib.sha256(np.__version__.encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def kept_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str], digest: str) -> dict[str, int] | None:
    """The row counts of ``tables`` when each was last replaced from inputs of this ``digest``;
    None when one was not (or was replaced without a digest, or is missing)."""
    tables = list(tables)
    try:
        recorded = dict(
            con.execute(f"select table_name, digest from {INPUTS_TABLE} where table_name in ?", [tables]).fetchall()
        )
        if any(recorded.get(table) != digest for table in tables):
            return None
        return {table: con.execute(f"select count(*) from {SCHEMA}.{table}").fetchall()[0][0] for table in tables}
    except duckdb.CatalogException:
        return None


def replace_tables(
    con: duckdb.DuckDBPyConnection, rows_by_table: dict[str, Iterable[Sequence]], digest: str | None = None
) -> dict[str, int]:
    """Replace each `evaluation.<table>` with its rows (tuples in COLUMNS order), all in one
    transaction, so readers never see one table of a run beside another of the previous run;
    ``digest``: that of the inputs they were computed from (see `kept_tables`), recorded with them."""
    written = {}
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(f"create schema if not exists {INPUTS_TABLE.split('.')[0]}")
        con.execute(
            f"create table if not exists {INPUTS_TABLE} (table_name varchar primary key, digest varchar not null)"
        )
        con.execute(f"delete from {INPUTS_TABLE} where table_name in ?", [list(rows_by_table)])
        if digest is not None:
            con.execute(f"insert into {INPUTS_TABLE} select unnest(?), ?", [list(rows_by_table), digest])
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
