"""The disclosure check of a new serving copy, before it is swapped in.

Written apart from the suppression itself (pipelines/publish/disclosure.py), in SQL on what the
new copy holds against the warehouse, it proves for every published model:

- no count holds a value from 1 up to the threshold, and every figure shown is the warehouse's;
- no rate is shown in a row where a count is hidden, nor a goal's latest value
  (evaluation.goal_status) where the metrics cell it repeats is hidden;
- no additive group has exactly one hidden cell: counting its declared total with it; without a
  declared total, unless every other cell of the group is zero (the total is then that cell).

A cell is hidden when the copy holds NULL where the warehouse holds a value. Rows are matched
on every column published unchanged (neither a count nor a rate); each must match exactly one.
Groups with a NULL count in the warehouse are left out, as the suppression leaves them out.
"""

from __future__ import annotations

import duckdb

from pipelines.publish.disclosure import HIDDEN_GOAL_CELL, AdditiveGroup, PublishedTable


def disclosure_violations(con: duckdb.DuckDBPyConnection, tables: list[PublishedTable], threshold: int) -> list[str]:
    """What breaks the rules in the copy attached as ``serving``, against ``warehouse``; [] when none."""
    violations: list[str] = []
    checked = [table for table in tables if table.counts]
    for table in checked:
        violations += _align(con, table)
    if violations:
        return violations
    by_name = {table.name: table for table in checked}
    for table in checked:
        for column in table.counts:
            small = con.execute(
                f'select count(*) from serving.main."{table.name}" where "{column}" between 1 and {threshold}'
            ).fetchone()[0]
            if small:
                violations.append(f"{table.name}.{column} shows {small} counts from 1 to {threshold}")
        for column in table.counts + table.rates:
            altered = con.execute(
                f'select count(*) from "{_aligned(table.name)}" where "published__{column}" is not null '
                f'and "published__{column}" is distinct from "{column}"'
            ).fetchall()[0][0]
            if altered:
                violations.append(f"{table.name}.{column} shows {altered} figures that are not the warehouse's")
        any_hidden = " or ".join(_hidden(column) for column in table.counts)
        for rate in table.rates:
            shown = con.execute(
                f'select count(*) from "{_aligned(table.name)}" '
                f'where "published__{rate}" is not null and ({any_hidden})'
            ).fetchone()[0]
            if shown:
                violations.append(f"{table.name}.{rate} is shown in {shown} rows with a hidden count")
        for group in table.additive_groups:
            for columns in table.group_columns(group):
                total = by_name[group.total.model or table.name] if group.total else None
                total_column = (group.total.column or columns[0]) if group.total else None
                lone = _groups_with_one_hidden_cell(con, table, group, columns, total, total_column)
                if lone:
                    violations.append(
                        f"{table.name}: {lone} groups by {list(group.by)} of {list(columns)} "
                        "have exactly one hidden cell"
                    )
    if con.execute(
        "select count(*) from duckdb_tables() where database_name = 'serving' "
        "and schema_name = 'evaluation' and table_name = 'goal_status'"
    ).fetchall()[0][0]:
        shown = con.execute(
            "select count(*) from serving.evaluation.goal_status as goal "
            f"where latest_value is not null and exists ({HIDDEN_GOAL_CELL})"
        ).fetchall()[0][0]
        if shown:
            violations.append(f"evaluation.goal_status shows {shown} latest values hidden in metrics")
    return violations


def _aligned(model: str) -> str:
    return f"disclosure_check__{model}"


def _hidden(column: str) -> str:
    return f'("published__{column}" is null and "{column}" is not null)'


def _align(con: duckdb.DuckDBPyConnection, table: PublishedTable) -> list[str]:
    """A temporary table of the warehouse's rows, each with its published counts and rates beside."""
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'warehouse' and schema_name = 'main' "
            "and table_name = ? order by column_index",
            [table.name],
        ).fetchall()
    ]
    unchanged = [column for column in columns if column not in table.counts + table.rates]
    if not unchanged:
        return [f"{table.name}: no column is published unchanged, so its rows cannot be matched"]
    published = ", ".join(f'p."{column}" as "published__{column}"' for column in table.counts + table.rates)
    matched = " and ".join(f'w."{column}" is not distinct from p."{column}"' for column in unchanged)
    con.execute(
        f'create or replace temp table "{_aligned(table.name)}" as select w.*, {published} '
        f'from warehouse.main."{table.name}" as w join serving.main."{table.name}" as p on {matched}'
    )
    aligned, in_warehouse, in_copy = con.execute(
        f'select (select count(*) from "{_aligned(table.name)}"), '
        f'(select count(*) from warehouse.main."{table.name}"), (select count(*) from serving.main."{table.name}")'
    ).fetchone()
    if not aligned == in_warehouse == in_copy:
        return [f"{table.name}: {in_copy} rows published for {in_warehouse} in the warehouse ({aligned} matched)"]
    return []


def _cells(model: str, keys: dict[str, str], columns: tuple[str, ...], where: str | None) -> str:
    """One row per cell: the group key (columns as aliases), whether the cell is hidden, and its
    value in the warehouse."""
    keys = "".join(f'"{column}" as {alias}, ' for alias, column in keys.items())
    return " union all ".join(
        f'select {keys}{_hidden(column)} as hidden, "{column}" as value '
        f'from "{_aligned(model)}" where {where or "true"}'
        for column in columns
    )


def _groups_with_one_hidden_cell(
    con,
    table: PublishedTable,
    group: AdditiveGroup,
    columns: tuple[str, ...],
    total: PublishedTable | None,
    total_column: str | None,
) -> int:
    aliases = {f"key_{i}": column for i, column in enumerate(group.by)}
    keys = list(aliases)
    key_list = ", ".join(keys)
    grouped = f"group by {key_list}" if keys else ""
    parts = (
        f"select {key_list + ', ' if keys else ''}count(*) filter (where hidden) as hidden_parts, "
        "coalesce(sum(value) filter (where not hidden), 0) as shown_sum, "
        f"count(*) filter (where value is null) as missing from ({_cells(table.name, aliases, columns, group.where)}) "
        f"{grouped}"
    )
    if total is None:
        totals = "select null::boolean as hidden, null as value where false"
        joined = "false"
    else:
        matched = {alias: column for alias, column in aliases.items() if column in group.total.matched_on(group)}
        totals = _cells(total.name, matched, (total_column,), group.total.where)
        joined = " and ".join(f"parts.{key} is not distinct from totals.{key}" for key in matched) or "true"
    return con.execute(
        f"with parts as ({parts}), totals as ({totals}) "
        "select count(*) from parts left join totals on " + joined + " "
        "where parts.missing = 0 and totals.value is not null and parts.hidden_parts + totals.hidden::int = 1 "
        "or parts.missing = 0 and totals.hidden is null and parts.hidden_parts = 1 and parts.shown_sum <> 0"
    ).fetchone()[0]
