"""Build serving.duckdb from the marts, verify it, and swap it in atomically.

What is published, and which columns hide small counts, is declared once in the dbt YAML
(``meta.publish``) and read here from the manifest. A count from 1 up to the threshold is
published as NULL (shown as ':' by Statistics Norway's convention), and so is every rate in
a row with a hidden count. The new copy is written under a temporary name, checked, and
renamed over the old one, so readers see either the old or the new copy, never a half-built
one, and a failed publish leaves the last good copy in place.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from pipelines.settings import Paths

DEFAULT_SUPPRESSION_THRESHOLD = 4


@dataclass(frozen=True)
class PublishedTable:
    name: str
    counts: tuple[str, ...]
    rates: tuple[str, ...]


@dataclass(frozen=True)
class PublishReport:
    path: Path
    rows: dict[str, int]
    suppressed_cells: dict[str, int]
    data_until: str


class PublishError(RuntimeError):
    """The new copy failed a check; the last published copy stays in place."""


def suppression_threshold() -> int:
    """Counts from 1 up to this value are hidden (KRITINFO_SUPPRESSION_THRESHOLD, default 4)."""
    return int(os.environ.get("KRITINFO_SUPPRESSION_THRESHOLD", DEFAULT_SUPPRESSION_THRESHOLD))


def published_tables(manifest_path: Path) -> list[PublishedTable]:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tables = []
    for node in manifest["nodes"].values():
        publish = node.get("config", {}).get("meta", {}).get("publish")
        if node["resource_type"] != "model" or publish is None:
            continue
        suppress = publish.get("suppress", {})
        tables.append(PublishedTable(node["name"], tuple(suppress.get("counts", ())), tuple(suppress.get("rates", ()))))
    return sorted(tables, key=lambda t: t.name)


def _select_suppressed(table: PublishedTable, threshold: int) -> str:
    hidden = [f"({c} between 1 and {threshold})" for c in table.counts]
    any_hidden = " or ".join(hidden) or "false"
    replaced = {c: f"case when {c} between 1 and {threshold} then null else {c} end as {c}" for c in table.counts}
    replaced.update({r: f"case when {any_hidden} then null else {r} end as {r}" for r in table.rates})
    return f"select * replace ({', '.join(replaced.values())}) from warehouse.main.{table.name}" if replaced else (
        f"select * from warehouse.main.{table.name}"
    )


def publish(paths: Paths, manifest_path: Path) -> PublishReport:
    tables = published_tables(manifest_path)
    if not tables:
        raise PublishError("no model is marked meta.publish in the dbt project")
    threshold = suppression_threshold()
    temporary = paths.serving.with_name(f".{paths.serving.name}.{os.getpid()}.tmp")
    _remove_temporary_copies(paths)
    try:
        con = duckdb.connect(str(temporary))
        try:
            con.execute(f"attach '{paths.warehouse}' as warehouse (read_only)")
            rows, suppressed = {}, {}
            for table in tables:
                con.execute(f"create table {table.name} as {_select_suppressed(table, threshold)}")
                rows[table.name] = con.execute(f"select count(*) from {table.name}").fetchone()[0]
                suppressed[table.name] = _check_table(con, table, threshold, rows[table.name])
            data_from, data_until, events = con.execute(
                "select min(occurred_on), max(occurred_on), count(*) from warehouse.main.stg_registration_events"
            ).fetchone()
            con.execute(
                "create table publish_info as select ?::timestamptz as published_at, ?::date as data_from, "
                "?::date as data_until, ?::bigint as events_loaded, ?::integer as suppression_threshold",
                [datetime.now(timezone.utc), data_from, data_until, events, threshold],
            )
            con.execute("detach warehouse")
            con.execute("checkpoint")
        finally:
            con.close()
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, paths.serving)
    finally:
        _remove_temporary_copies(paths)
    return PublishReport(paths.serving, rows, suppressed, str(data_until))


def _remove_temporary_copies(paths: Paths) -> None:
    """Remove half-written copies and their WAL files, this publish's or a killed one's.

    One process publishes at a time (it holds the warehouse lock), so none is in use.
    """
    for leftover in paths.serving.parent.glob(f".{paths.serving.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)


def _check_table(con: duckdb.DuckDBPyConnection, table: PublishedTable, threshold: int, row_count: int) -> int:
    if row_count == 0:
        raise PublishError(f"{table.name} is empty")
    for column in table.counts:
        small = con.execute(f"select count(*) from {table.name} where {column} between 1 and {threshold}").fetchone()[0]
        if small:
            raise PublishError(f"{table.name}.{column} would publish {small} counts from 1 to {threshold}")
    if not table.counts:
        return 0
    return con.execute(
        f"select count(*) from {table.name} where " + " or ".join(f"{c} is null" for c in table.counts)
    ).fetchone()[0]
