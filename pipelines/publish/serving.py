"""Build serving.duckdb from the marts, verify it, and swap it in atomically.

What is published, and which columns hide small counts, is declared once in the dbt YAML
(``meta.publish``) and read here from the manifest; pipelines/publish/disclosure.py says how
cells are hidden. A hidden value is published as NULL (shown as ':' by Statistics Norway's
convention). The unsuppressed figures are worked on in an in-memory database, so no file but the
warehouse ever holds them. Every table of the warehouse schema ``evaluation`` is copied as it is
(see ``_copy_evaluation``). The new copy is written under a temporary name, checked
(pipelines/publish/verify.py), and renamed over the old one, so readers see either the old or
the new copy, never a half-built one, and a failed publish leaves the last good copy in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.evaluation.tables import SCHEMA as EVALUATION_SCHEMA
from pipelines.publish.disclosure import (
    HIDDEN_GOAL_CELL,
    DisclosureError,
    PublishedTable,
    primary_suppression,
    read_cells,
    read_relations,
    suppress,
)
from pipelines.publish.verify import disclosure_violations
from pipelines.settings import Paths
from pipelines.transform.manifest import read_manifest
from pipelines.transform.metric_registry import metric_registry

DEFAULT_SUPPRESSION_THRESHOLD = 4


@dataclass(frozen=True)
class PublishReport:
    path: Path
    rows: dict[str, int]
    # Per table: counts hidden because they are small, and complementary ones hidden besides.
    hidden_small: dict[str, int]
    hidden_complementary: dict[str, int]
    evaluation_tables: list[str]
    data_until: str


class PublishError(RuntimeError):
    """The new copy could not be built; the last published copy stays in place."""


class DisclosureCheckFailed(PublishError):
    """The new copy failed the disclosure check; the last published copy stays in place."""

    def __init__(self, violations: list[str]):
        super().__init__(f"{len(violations)} disclosure violations: " + "; ".join(violations[:5]))
        self.violations = violations


def suppression_threshold() -> int:
    """Counts from 1 up to this value are hidden (KRITINFO_SUPPRESSION_THRESHOLD, default 4)."""
    return int(os.environ.get("KRITINFO_SUPPRESSION_THRESHOLD", DEFAULT_SUPPRESSION_THRESHOLD))


def published_tables(manifest: Mapping) -> list[PublishedTable]:
    metrics = metric_registry(manifest)
    tables = []
    for node in manifest["nodes"].values():
        publish = node.get("config", {}).get("meta", {}).get("publish")
        if node["resource_type"] != "model" or publish is None:
            continue
        tables.append(PublishedTable.from_meta(node["name"], publish, metrics))
    return sorted(tables, key=lambda t: t.name)


def publish(paths: Paths, manifest_path: Path) -> PublishReport:
    tables = published_tables(read_manifest(manifest_path))
    if not tables:
        raise PublishError("no model is marked meta.publish in the dbt project")
    threshold = suppression_threshold()
    temporary = paths.serving.with_name(f".{paths.serving.name}.{os.getpid()}.tmp")
    _remove_temporary_copies(paths)
    try:
        # In memory: the unsuppressed working copy; attached: the warehouse (read only) and the new file.
        con = duckdb.connect()
        try:
            con.execute(f"attach '{paths.warehouse}' as warehouse (read_only)")
            con.execute(f"attach '{temporary}' as serving")
            rows, small, complementary, decisions = _write_suppressed(
                con, tables, threshold, _earlier_decisions(paths.suppression_decisions)
            )
            empty = [name for name, count in rows.items() if count == 0]
            # Before the first complete month (a history's first month) the month tables have
            # nothing to report and are published empty; after it, an empty table is a fault.
            if empty and con.execute("select count(*) from warehouse.main.int_month_ends").fetchone()[0]:
                raise PublishError(f"empty tables: {', '.join(empty)}")
            evaluation_tables = _copy_evaluation(con)
            violations = disclosure_violations(con, tables, threshold)
            if violations:
                raise DisclosureCheckFailed(violations)
            data_from, data_until, events = con.execute(
                "select min(occurred_on), max(occurred_on), count(*) from warehouse.main.stg_registration_events"
            ).fetchone()
            con.execute(
                "create table serving.main.publish_info as select ?::timestamptz as published_at, "
                "?::date as data_from, ?::date as data_until, ?::bigint as events_loaded, "
                "?::integer as suppression_threshold",
                [datetime.now(UTC), data_from, data_until, events, threshold],
            )
            con.execute("checkpoint serving")
            con.execute("detach serving")
        finally:
            con.close()
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, paths.serving)
    finally:
        _remove_temporary_copies(paths)
    _keep_decisions(paths.suppression_decisions, decisions)
    return PublishReport(paths.serving, rows, small, complementary, evaluation_tables, str(data_until))


def _write_suppressed(
    con: duckdb.DuckDBPyConnection, tables: list[PublishedTable], threshold: int, earlier: dict[str, list[int]]
):
    """Each table into the new copy with its hidden counts and rates NULL; rows in a fixed order
    (so the same warehouse always publishes the same cells)."""
    for table in tables:
        con.execute(f'create table "{table.name}" as select * from warehouse.main."{table.name}" order by all')
    cells = read_cells(con, tables)
    try:
        suppressed = suppress(cells.values, read_relations(con, tables, cells), threshold, earlier)
    except DisclosureError as error:
        model, column, row = cells.place(error.cell)
        table = next(table for table in tables if table.name == model)
        # The row's key only: its counts and rates are not for the log.
        figures = ", ".join(f'"{name}"' for name in table.counts + table.rates)
        key = con.execute(f'select * exclude ({figures}) from "{model}" where rowid = ?', [row]).fetchall()
        raise PublishError(
            f"{model}.{column} in the row {key} could be recomputed from what would be "
            "published, and no cell around it can be hidden"
        ) from error
    hidden = suppressed.hidden
    small = primary_suppression(cells.values, threshold)
    rows, small_counts, complementary_counts = {}, {}, {}
    for table in tables:
        # fetchall, not fetchone: an unfinished result would keep register() below from running.
        rows[table.name] = con.execute(f'select count(*) from "{table.name}"').fetchall()[0][0]
        spans = [cells.span(table.name, column) for column in table.counts]
        small_counts[table.name] = sum(sum(small[span]) for span in spans)
        complementary_counts[table.name] = sum(
            sum(h and not s for h, s in zip(hidden[span], small[span], strict=True)) for span in spans
        )
        hidden_rows = pa.table(
            {
                "row": pa.array(range(rows[table.name]), pa.int64()),
                **{f"hidden_{i}": hidden[span] for i, span in enumerate(spans)},
            }
        )
        con.register("hidden_rows", hidden_rows)
        flags = [f"hidden_rows.hidden_{i}" for i in range(len(table.counts))]
        any_hidden = " or ".join(flags) or "false"
        replaced = [
            f'case when {flag} then null else t."{column}" end as "{column}"'
            for flag, column in zip(flags, table.counts, strict=True)
        ]
        replaced += [f'case when {any_hidden} then null else t."{rate}" end as "{rate}"' for rate in table.rates]
        columns = f"t.* replace ({', '.join(replaced)})" if replaced else "t.*"
        con.execute(
            f'create table serving.main."{table.name}" as select {columns} from "{table.name}" as t '
            "join hidden_rows on hidden_rows.row = t.rowid order by t.rowid"
        )
        con.unregister("hidden_rows")
    return rows, small_counts, complementary_counts, suppressed.decisions


def _earlier_decisions(path: Path) -> dict[str, list[int]]:
    """The decisions kept by the last publication; none when it kept none or they cannot be read
    (suppression then decides every linked set of cells again: slower, never different)."""
    try:
        decisions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return decisions if isinstance(decisions, dict) else {}


def _keep_decisions(path: Path, decisions: dict[str, list[int]]) -> None:
    """This publication's decisions, for the next (only these: the file holds one publication's).
    Written after the new copy is in place. When it cannot be written (no room), the previous
    file stays: each decision is keyed by the values and relations it decided, so it stays right,
    and what it lacks costs the next publication time only."""
    unfinished = path.with_suffix(".tmp")
    try:
        unfinished.write_text(json.dumps(decisions), encoding="utf-8")
        unfinished.replace(path)
    except OSError:
        unfinished.unlink(missing_ok=True)


def _copy_evaluation(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Copy every table of the warehouse schema ``evaluation`` (none while it does not exist).

    They hold no cell of persons: goals (from goals.yml), forecasts with prediction intervals,
    backtest errors and rollout-effect estimates with confidence intervals, each computed from a
    whole series of national or regional figures. The one observed figure, a goal's latest
    value, is a cell of the metrics mart (its metric, national or its region, dimension total,
    at its latest period end): it is hidden where the published mart hides that cell.
    """
    names = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = ? order by 1",
            [EVALUATION_SCHEMA],
        ).fetchall()
    ]
    if names:
        con.execute(f"create schema serving.{EVALUATION_SCHEMA}")
    for name in names:
        con.execute(
            f'create table serving.{EVALUATION_SCHEMA}."{name}" as '
            f'select * from warehouse.{EVALUATION_SCHEMA}."{name}" order by all'
        )
    if "goal_status" in names:
        con.execute(
            f"update serving.{EVALUATION_SCHEMA}.goal_status as goal set latest_value = null "
            f"where exists ({HIDDEN_GOAL_CELL})"
        )
    return names


def _remove_temporary_copies(paths: Paths) -> None:
    """Remove half-written copies and their WAL files, this publish's or a killed one's.

    One process publishes at a time (it holds the warehouse lock), so none is in use.
    """
    for leftover in paths.serving.parent.glob(f".{paths.serving.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
