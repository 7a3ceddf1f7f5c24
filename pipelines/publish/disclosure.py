"""Disclosure control: which published cells are hidden, so that no small count can be worked out.

What each published model hides is declared once, in its dbt YAML::

    meta:
      publish:
        suppress:
          counts: [numerator, denominator]    # whole-number counts: 1 up to the threshold is hidden
          rates: [value]                      # hidden in every row where one of its counts is hidden
          additive_groups:                    # cells that add up to a total (complementary suppression)
            - [period_end, health_region]     # short form of {by: [period_end, health_region]}
            - by: [period_end, health_region] # rows with equal values in these columns form a group
              where: "grain = 'county'"       # optional: only rows where this SQL condition holds
              columns: [numerator]            # optional: one group per column (default: every count)
              sum_of_columns: [a, b]          # instead of columns: the cells of a and b add up together
              total:                          # optional: where the group's sum is published
                model: coverage_by_region_month   # default: the same model
                column: persons                   # default: the group's column (needed with sum_of_columns)
                where: "grain = 'region'"         # optional: which rows of that model hold totals
                match: [period_end, health_region]  # optional: some of the by columns (default: all)
                metrics_repeating: persons        # total in `metrics`: one group per metric declaring
                                                  # numerator_repeats: persons (its rows, below)
          additive_groups_of_metrics: true    # the groups each metric's additivity declares (below)

The total of a group is every row of the total's model (where ``total.where`` holds) with the
same values in the ``match`` columns (by default all the ``by`` columns), so the model must have
those columns too; ``match`` leaves out a column the total's row differs in (such as
dimension_name 'total' against the breakdown's name). A total repeated in several rows is one
relation per row. An equality (the same figure published twice, in two rows or two models) is a
group of one cell with a total. A total must be a count of a published model. Declare every
relation that holds in the data, and only those: the audit below reasons with them.

Primary suppression hides every count from 1 up to the threshold. Complementary suppression then
hides more cells until every relation *total = sum of parts* passes these rules:

- a hidden total has at least one hidden part (else it is the sum of the published parts);
- with the total shown, the parts hidden are none, or at least two whose values, each less one,
  add up to at least the threshold (so that, as every hidden cell is at least 1, each of them
  could be above the threshold);
- when a relation breaks a rule, its smallest non-zero published part is hidden; when it has
  none, its total; relations overlap (counties within a region, regions within the country,
  dimension values within a total), so this repeats until no relation breaks a rule.

The union of the metric registry, ``metrics``, takes its groups from the metrics: each relation
a metric declares in ``meta.metric.additivity`` (``METRIC_RELATIONS``) is a group over its rows,
of its whole counts (``meta.metric.whole_counts``, by default numerator and denominator). A
metric whose numerator repeats a figure of another published model says so in
``meta.metric.numerator_repeats``; that model's group with ``total.metrics_repeating`` naming the
figure has its total in each such metric's rows of ``metrics``.

A group without a declared total is taken as one whose total is shown; when none of its other
cells can be hidden (all zero or hidden), it is left as it is: its sum is then the hidden cells'
own, small or hidden wherever it is published.

Last, an audit plays the attacker on the relations with a declared total, knowing what is
published and that a hidden cell is at least 1 (zero is never hidden). A hidden cell is
*recovered* when the relations determine it (its unit vector lies in their row space, the
published cells being constants), or when interval propagation (a total lies between the sums of
its parts' bounds, a part between the total's bounds less the other parts' bounds, to a fixed
point) leaves it a single value or an interval within 1..threshold (showing the count is small).
For each recovered cell, the smallest published non-zero cell that protects it is hidden (tried
from the cell's own relations first, then from those around the hidden cells linked to it), the
rules are applied again, and the audit repeats. A cell that cannot be protected stops the
publication (``DisclosureError``).

Counts must be whole numbers. A relation with a NULL count among its cells (a figure that does
not exist, such as the numerator of a median) is left out; rates are checked row by row only.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Interval propagation on cyclic relations can creep towards its fixed point one unit at a time;
# after this many relation updates per relation it stops, with bounds that are still sound.
MAX_PROPAGATION_ROUNDS = 200
# Candidates tried, one by one, for the complement that protects a recovered cell.
MAX_COMPLEMENTS_TRIED = 20
# Relations have coefficients 1 and -1: their non-zero singular values are far above this, and a
# determined cell's squared norm in the row space is 1 to within it.
SINGULAR_TOLERANCE = 1e-9


# A goal's latest value (evaluation.goal_status) repeats a cell of the metrics mart: its metric,
# nationally or in its region, dimension total, at its latest period end. This selects that cell
# in the new copy when it is hidden there, for the goal aliased ``goal``.
HIDDEN_GOAL_CELL = (
    "select 1 from serving.main.metrics as cell where cell.metric_id = goal.metric_id "
    "and cell.period_end = goal.latest_period_end and cell.dimension_name = 'total' "
    "and (goal.area = 'national' and cell.grain = 'national' "
    "or cell.grain = 'region' and cell.health_region = goal.area) and cell.value is null"
)


class DisclosureConfigError(ValueError):
    """A model's meta.publish.suppress block is malformed or names what does not exist."""


class DisclosureError(RuntimeError):
    """A hidden cell could not be protected: publishing it would let it be recomputed."""

    def __init__(self, cell: int):
        super().__init__(f"cell {cell} can be recomputed and no cell around it can be hidden")
        self.cell = cell


# The relations total = sum of parts a metric may declare (as the dbt macro metric_relations),
# as additive groups of the rows of `metrics`.
METRIC_RELATIONS: Mapping[str, Mapping] = {
    # The values of a breakdown add up to the total of their place.
    "breakdowns_to_total": {
        "by": ["metric_id", "period_end", "period", "grain", "health_region", "county_code", "dimension_name"],
        "where": "dimension_name <> 'total'",
        "total": {
            "where": "dimension_name = 'total'",
            "match": ["metric_id", "period_end", "period", "grain", "health_region", "county_code"],
        },
    },
    # The counties of a region add up to the region.
    "counties_to_region": {
        "by": ["metric_id", "period_end", "period", "health_region", "dimension_name", "dimension_value"],
        "where": "grain = 'county'",
        "total": {"where": "grain = 'region'"},
    },
    # The regions add up to the nation.
    "regions_to_nation": {
        "by": ["metric_id", "period_end", "period", "dimension_name", "dimension_value"],
        "where": "grain = 'region'",
        "total": {"where": "grain = 'national'"},
    },
}
METRIC_COUNTS = ("numerator", "denominator")


def metric_additive_groups(metrics: Mapping[str, Mapping]) -> list[dict]:
    """The additive groups of `metrics` that its metrics (id -> meta.metric) declare: for each
    relation, one group over the metrics declaring it with the same whole counts."""
    for metric_id, metric in metrics.items():
        unknown = set(metric.get("additivity") or ()) - set(METRIC_RELATIONS)
        if unknown:
            raise DisclosureConfigError(f"metric {metric_id}: unknown additivity {sorted(unknown)}")
    groups = []
    for relation, group in METRIC_RELATIONS.items():
        declaring: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for metric_id, metric in sorted(metrics.items()):
            if relation in (metric.get("additivity") or ()):
                declaring[tuple(metric.get("whole_counts") or METRIC_COUNTS)].append(metric_id)
        for columns, metric_ids in declaring.items():
            listed = ", ".join(f"'{metric_id}'" for metric_id in metric_ids)
            groups.append({**group, "where": f"{group['where']} and metric_id in ({listed})", "columns": list(columns)})
    return groups


@dataclass(frozen=True)
class Total:
    """Where the sum of a group's cells is published: a model (None: the group's own), a count
    column (None: the group's column), which of its rows hold totals (None: all) and the columns
    a total's row matches the group on (None: all of the group's by columns)."""

    model: str | None = None
    column: str | None = None
    where: str | None = None
    match: tuple[str, ...] | None = None

    def matched_on(self, group: AdditiveGroup) -> tuple[str, ...]:
        """The group's by columns a total's row must equal, in the group's order."""
        return tuple(column for column in group.by if self.match is None or column in self.match)


@dataclass(frozen=True)
class AdditiveGroup:
    by: tuple[str, ...]
    where: str | None = None
    columns: tuple[str, ...] | None = None
    sum_of_columns: tuple[str, ...] | None = None
    total: Total | None = None


@dataclass(frozen=True)
class PublishedTable:
    name: str
    counts: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()
    additive_groups: tuple[AdditiveGroup, ...] = ()

    @classmethod
    def from_meta(
        cls, name: str, publish: Mapping | None, metrics: Mapping[str, Mapping] | None = None
    ) -> PublishedTable:
        """The model ``name`` as its ``meta.publish`` block declares it (an empty block: no counts);
        ``metrics``: the metric registry (id -> meta.metric), for additive_groups_of_metrics."""
        suppress = dict((publish or {}).get("suppress") or {})
        unknown = set(suppress) - {"counts", "rates", "additive_groups", "additive_groups_of_metrics"}
        if unknown:
            raise DisclosureConfigError(f"{name}: unknown keys in meta.publish.suppress: {sorted(unknown)}")
        counts = _names(name, "counts", suppress.get("counts", ()))
        rates = _names(name, "rates", suppress.get("rates", ()))
        entries = [
            expanded
            for entry in suppress.get("additive_groups") or ()
            for expanded in _groups_of_repeating_metrics(entry, metrics or {})
        ]
        if suppress.get("additive_groups_of_metrics"):
            entries += metric_additive_groups(metrics or {})
        groups = tuple(_additive_group(name, counts, entry) for entry in entries)
        return cls(name, counts, rates, groups)

    def group_columns(self, group: AdditiveGroup) -> list[tuple[str, ...]]:
        """The count columns of each group the entry makes: one per column, or one for them all."""
        if group.sum_of_columns:
            return [group.sum_of_columns]
        return [(column,) for column in (group.columns or self.counts)]


def _groups_of_repeating_metrics(entry, metrics: Mapping[str, Mapping]) -> list:
    """The entry, or, when its total names ``metrics_repeating``, one entry per metric whose
    numerator repeats that figure, its total restricted to the metric's rows."""
    total = entry.get("total") if isinstance(entry, Mapping) else None
    if not isinstance(total, Mapping) or "metrics_repeating" not in total:
        return [entry]
    figure = total["metrics_repeating"]
    total = {key: value for key, value in total.items() if key != "metrics_repeating"}
    where = total.get("where") or "true"
    return [
        {**entry, "total": {**total, "where": f"metric_id = '{metric_id}' and ({where})"}}
        for metric_id, metric in sorted(metrics.items())
        if metric.get("numerator_repeats") == figure
    ]


def _names(model: str, key: str, value) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise DisclosureConfigError(f"{model}: meta.publish.suppress.{key} must be a list of column names")
    return tuple(value)


def _additive_group(model: str, counts: tuple[str, ...], entry) -> AdditiveGroup:
    where = f"{model}: additive group {entry!r}"
    if isinstance(entry, (list, tuple)):
        entry = {"by": entry}
    if not isinstance(entry, Mapping):
        raise DisclosureConfigError(f"{where}: must be a list of columns or a mapping")
    unknown = set(entry) - {"by", "where", "columns", "sum_of_columns", "total"}
    if unknown:
        raise DisclosureConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if not counts:
        raise DisclosureConfigError(f"{where}: the model declares no counts")
    by = _names(model, "additive_groups.by", entry.get("by") or ())
    columns = _names(model, "additive_groups.columns", entry["columns"]) if "columns" in entry else None
    summed = (
        _names(model, "additive_groups.sum_of_columns", entry["sum_of_columns"]) if "sum_of_columns" in entry else None
    )
    if columns is not None and summed is not None:
        raise DisclosureConfigError(f"{where}: give columns or sum_of_columns, not both")
    for column in (columns or ()) + (summed or ()):
        if column not in counts:
            raise DisclosureConfigError(f"{where}: {column} is not one of the model's counts {list(counts)}")
    total = None
    if "total" in entry:
        spec = entry["total"] or {}
        if not isinstance(spec, Mapping) or set(spec) - {"model", "column", "where", "match"}:
            raise DisclosureConfigError(f"{where}: total takes model, column, where and match")
        match = _names(model, "additive_groups.total.match", spec["match"]) if "match" in spec else None
        if match is not None and not set(match) <= set(by):
            raise DisclosureConfigError(f"{where}: total.match must be some of the by columns")
        total = Total(spec.get("model"), spec.get("column"), spec.get("where"), match)
        if summed and total.column is None:
            raise DisclosureConfigError(f"{where}: a sum of columns needs total.column")
    elif summed:
        raise DisclosureConfigError(f"{where}: a sum of columns needs a total")
    return AdditiveGroup(by, entry.get("where"), columns, summed, total)


class Relation(NamedTuple):
    """total = sum(parts), as cell numbers; total None: the sum is published somewhere undeclared.
    (A named tuple: some 100,000 are made per publication at national scale, and a frozen
    dataclass takes nearly twice as long to make.)"""

    total: int | None
    parts: tuple[int, ...]


class Cells:
    """Every count of every published model, numbered, with its value (None for NULL)."""

    def __init__(self) -> None:
        self.values: list[float | None] = []
        self._spans: dict[tuple[str, str], slice] = {}

    def add_column(self, model: str, column: str, values: Sequence[float | None]) -> None:
        self._spans[(model, column)] = slice(len(self.values), len(self.values) + len(values))
        self.values.extend(values)

    def span(self, model: str, column: str) -> slice:
        """The numbers of a column's cells, row by row, as a slice of ``values``."""
        return self._spans[(model, column)]

    def numbers(self, model: str, columns: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """The cells of ``columns`` in ``rows`` (rowids), row by row."""
        firsts = np.array([self._spans[(model, column)].start for column in columns], dtype=np.int64)
        return (rows[:, np.newaxis] + firsts).ravel()

    def has(self, model: str, column: str) -> bool:
        return (model, column) in self._spans

    def place(self, number: int) -> tuple[str, str, int]:
        """The model, column and row (rowid) of a cell."""
        for (model, column), span in self._spans.items():
            if span.start <= number < span.stop:
                return model, column, number - span.start
        raise IndexError(f"no cell {number}")


def read_cells(con: duckdb.DuckDBPyConnection, tables: Sequence[PublishedTable]) -> Cells:
    """The counts of each table ``con`` holds under the model's name, by rowid."""
    cells = Cells()
    for table in tables:
        for column in table.counts:
            values = [
                value for (value,) in con.execute(f'select "{column}" from "{table.name}" order by rowid').fetchall()
            ]
            cells.add_column(table.name, column, values)
    return cells


def read_relations(con: duckdb.DuckDBPyConnection, tables: Sequence[PublishedTable], cells: Cells) -> list[Relation]:
    """The relations every additive group declares, between cells of the tables ``con`` holds."""
    by_name = {table.name: table for table in tables}
    numbers = _as_numbers(cells.values)
    relations: list[Relation] = []
    for table in tables:
        for group in table.additive_groups:
            total_model = by_name.get(group.total.model or table.name) if group.total else None
            if group.total and total_model is None:
                raise DisclosureConfigError(f"{table.name}: the total's model {group.total.model} is not published")
            groups = _group_rows(con, table.name, group, total_model.name if total_model else None)
            for columns in table.group_columns(group):
                total_column = (group.total.column or columns[0]) if group.total else None
                if total_model and not cells.has(total_model.name, total_column):
                    raise DisclosureConfigError(
                        f"{table.name}: the total {total_model.name}.{total_column} is not one of that model's counts"
                    )
                if len(groups.part_offsets) > 1:
                    relations += _group_relations(
                        con, table, group, columns, groups, cells, numbers, (total_model, total_column)
                    )
    return relations


def _group_relations(
    con: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    group: AdditiveGroup,
    columns: tuple[str, ...],
    groups: _GroupRows,
    cells: Cells,
    numbers: np.ndarray,
    total: tuple[PublishedTable | None, str | None],
) -> list[Relation]:
    """A relation per group and row of its total (without one: a relation without total), in
    that order; none for a group with a NULL count among its cells, nor for a NULL total. The
    groups are checked all at once (one by one in Python, half a second at national scale)."""
    total_model, total_column = total
    width = len(columns)
    members = cells.numbers(table.name, columns, groups.parts)
    starts = np.asarray(groups.part_offsets[:-1], dtype=np.int64) * width
    ends = np.asarray(groups.part_offsets[1:], dtype=np.int64) * width
    member_values = numbers[members]
    unknown = np.logical_or.reduceat(np.isnan(member_values), starts)
    sums = np.add.reduceat(np.nan_to_num(member_values), starts)
    # An entry per group and row of its total; per group without one, an entry with total -1.
    group_numbers = np.arange(len(starts))
    total_counts = np.diff(np.asarray(groups.total_offsets, dtype=np.int64))
    per_group = np.maximum(total_counts, 1)
    entry_group = np.repeat(group_numbers, per_group)
    entry_total = np.full(len(entry_group), -1, dtype=np.int64)
    if total_model is not None:
        entry_total[np.repeat(total_counts > 0, per_group)] = cells.numbers(
            total_model.name, [total_column], groups.totals
        )
    has_total = entry_total >= 0
    total_values = np.where(has_total, numbers[np.maximum(entry_total, 0)], 0.0)
    own_total = np.zeros(len(entry_group), dtype=bool)
    if total_model is table and total_column in columns:  # else a total is never one of the group's cells
        # A group's cell and its total's, each as one number: group * cells + cell.
        member_keys = np.repeat(group_numbers, ends - starts) * len(numbers) + members
        own_total = has_total & np.isin(entry_group * len(numbers) + entry_total, member_keys)
    kept = ~unknown[entry_group] & ~(has_total & np.isnan(total_values))
    expected = sums[entry_group]
    # math.isclose(total, sum, rel_tol=1e-9, abs_tol=1e-9)
    tolerance = np.maximum(1e-9 * np.maximum(np.abs(total_values), np.abs(expected)), 1e-9)
    broken = np.flatnonzero(own_total | (kept & has_total & (np.abs(total_values - expected) > tolerance)))
    if len(broken):
        entry = int(broken[0])  # the first in the groups' order
        if own_total[entry]:
            raise DisclosureConfigError(f"{table.name}: a cell of the group {group} is its own total")
        model, column, row = cells.place(int(entry_total[entry]))
        key = _key_of(con, table.name, group.by, groups.first_row(int(entry_group[entry])))
        raise DisclosureConfigError(
            f"{table.name}: the group {key} of {list(columns)} does not add up to its total "
            f"{model}.{column} (row {row}): the declared relation does not hold"
        )
    flat = members.tolist()
    bounds = list(zip(starts.tolist(), ends.tolist(), strict=True))
    return [
        Relation(None if total < 0 else total, tuple(flat[bounds[number][0] : bounds[number][1]]))
        for number, total in zip(entry_group[kept].tolist(), entry_total[kept].tolist(), strict=True)
    ]


def _as_numbers(values: Sequence[float | None]) -> np.ndarray:
    """The values as floats, NULL as NaN."""
    return pa.array(values, pa.float64()).to_numpy(zero_copy_only=False)


def _key_of(con: duckdb.DuckDBPyConnection, model: str, by: Sequence[str], row: int) -> tuple:
    """The values of the ``by`` columns in a row of the model."""
    columns = ", ".join(_quoted(by)) or "null"
    return con.execute(f'select {columns} from "{model}" where rowid = ?', [row]).fetchall()[0]


def _quoted(columns: Sequence[str]) -> list[str]:
    return [f'"{column}"' for column in columns]


def _leading(columns: Sequence[str]) -> str:
    """The (quoted) columns, each followed by a comma: the start of a select list, empty for none."""
    return "".join(f"{column}, " for column in columns)


@dataclass(frozen=True)
class _GroupRows:
    """The rowids of each group of a model, ascending, and of its total's rows in the total's
    model, flat: group i's rows are parts[part_offsets[i]:part_offsets[i + 1]], its totals'
    totals[total_offsets[i]:total_offsets[i + 1]] (none: no total's row)."""

    parts: np.ndarray
    part_offsets: list[int]
    totals: np.ndarray
    total_offsets: list[int]

    def first_row(self, number: int) -> int:
        return int(self.parts[self.part_offsets[number]])


def _group_rows(
    con: duckdb.DuckDBPyConnection, model: str, group: AdditiveGroup, total_model: str | None
) -> _GroupRows:
    """Each group's rows and its total's rows in ``total_model``, groups in the order of their
    first row. The keys stay in DuckDB: the matching is a join there (read into Python, the keys
    of the metrics' 90,000 rows took half a second), and the rowid lists come back as Arrow
    arrays (as Python lists, a third of a second at national scale)."""
    by = _quoted(group.by)
    parts = (
        f"select {_leading(by)}list_sort(list(rowid)) as part_rows, "
        f'min(rowid) as first_row from "{model}" where {group.where or "true"} group by all having count(*) > 0'
    )
    if total_model is None:
        select = f"select part_rows, null::bigint[] as total_rows from ({parts}) order by first_row"
    else:
        matched = _quoted(group.total.matched_on(group))
        totals = (
            f"select {_leading(matched)}list_sort(list(rowid)) as total_rows "
            f'from "{total_model}" where {group.total.where or "true"} group by all having count(*) > 0'
        )
        on = " and ".join(f"parts.{column} is not distinct from totals.{column}" for column in matched) or "true"
        select = (
            f"select parts.part_rows, totals.total_rows from ({parts}) as parts "
            f"left join ({totals}) as totals on {on} order by parts.first_row"
        )
    try:
        rows = con.sql(select).to_arrow_table()
    except duckdb.Error as error:
        raise DisclosureConfigError(f"{model}: cannot select the group's rows ({select}): {error}") from error
    parts_flat, part_offsets = _flat(rows.column("part_rows"))
    totals_flat, total_offsets = _flat(rows.column("total_rows"))
    return _GroupRows(parts_flat, part_offsets, totals_flat, total_offsets)


def _flat(lists: pa.ChunkedArray) -> tuple[np.ndarray, list[int]]:
    """A column of lists of rowids (a null list: none) as one array and each list's offsets in it."""
    lists = lists.combine_chunks()
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return pc.list_flatten(lists).to_numpy().astype(np.int64), offsets


def _cells_of(relation: Relation) -> tuple[int, ...]:
    return relation.parts if relation.total is None else (relation.total, *relation.parts)


def primary_suppression(values: Sequence[float | None], threshold: int) -> list[bool]:
    return [value is not None and 1 <= value <= threshold for value in values]


@dataclass(frozen=True)
class Suppressed:
    """The cells to hide, and the decision for each linked set of cells: the positions hidden in
    it (in its cells' order), by the set's digest (its values, relations and threshold)."""

    hidden: list[bool]
    decisions: dict[str, list[int]]


def suppress(
    values: Sequence[float | None],
    relations: Sequence[Relation],
    threshold: int,
    earlier: Mapping[str, list[int]] | None = None,
) -> Suppressed:
    """Which cells to hide: primary, then complementary suppression until the audit recovers nothing.

    Cells that no chain of relations links are independent: every step of the suppression reads
    and hides cells of one linked set only, in the same order whatever the other sets hold, so
    each set is decided alone, as a pass over all cells would decide it
    (tests/unit/test_disclosure.py compares the two). A set whose values and relations are those of
    an earlier decision (``earlier``, by digest: the last publication's) takes that decision: a
    day's new events change a few dozen of some 2,500 sets at national scale.
    """
    hidden = primary_suppression(values, threshold)
    decisions: dict[str, list[int]] = {}
    for linked in linked_sets(values, relations, threshold):
        if linked.digest not in decisions:
            decision = (earlier or {}).get(linked.digest)
            if not _is_decision(decision, len(linked.cells)):
                try:
                    flags = _Suppression(linked.values, linked.relations, threshold).run()
                except DisclosureError as error:
                    raise DisclosureError(linked.cells[error.cell]) from None
                decision = [number for number, flag in enumerate(flags) if flag]
            decisions[linked.digest] = list(decision)
        for number in decisions[linked.digest]:
            hidden[linked.cells[number]] = True
    return Suppressed(hidden, decisions)


class LinkedSet:
    """Cells linked by relations, ascending, and the digest of their values and relations (and
    the threshold). Its values, and its relations (in their order, naming each cell by its
    position in ``cells``), are made when first read: a set decided before is not read."""

    def __init__(self, cells: list[int], digest: str, values: Sequence[float | None], relations: _RelationArrays):
        self.cells, self.digest = cells, digest
        self._all_values, self._relations = values, relations

    @functools.cached_property
    def values(self) -> list[float | None]:
        return [self._all_values[cell] for cell in self.cells]

    @functools.cached_property
    def relations(self) -> list[Relation]:
        totals, ends, parts = (array.tolist() for array in self._relations)
        return [
            Relation(None if total < 0 else total, tuple(parts[start:end]))
            for total, start, end in zip(totals, [0, *ends[:-1]], ends, strict=True)
        ]


class _RelationArrays(NamedTuple):
    """Relations as arrays: each one's total (-1: none), the end of its parts in ``parts``."""

    totals: np.ndarray
    ends: np.ndarray
    parts: np.ndarray

    @classmethod
    def of(cls, relations: Sequence[Relation]) -> _RelationArrays:
        count = len(relations)
        totals = np.fromiter(
            (-1 if relation.total is None else relation.total for relation in relations), np.int64, count
        )
        lengths = np.fromiter((len(relation.parts) for relation in relations), np.int64, count)
        parts = np.fromiter(itertools.chain.from_iterable(relation.parts for relation in relations), np.int64)
        return cls(totals, np.cumsum(lengths), parts)


def linked_sets(values: Sequence[float | None], relations: Sequence[Relation], threshold: int) -> list[LinkedSet]:
    """Every set of cells linked by relations (cells in no relation belong to none), in the order
    of their first relation. Found with arrays: as Python objects, a third of a second of every
    publication at national scale."""
    if not relations:
        return []
    every = _RelationArrays.of(relations)
    starts = every.ends - np.diff(every.ends, prepend=0)
    firsts = every.parts[starts]
    with_total = every.totals >= 0
    component = _components(
        len(values),
        np.concatenate([np.repeat(firsts, every.ends - starts), firsts[with_total]]),
        np.concatenate([every.parts, every.totals[with_total]]),
    )
    # Sets numbered in the order of their first relation.
    roots, first_relation, relation_root = np.unique(component[firsts], return_index=True, return_inverse=True)
    number_of_root = np.empty(len(roots), dtype=np.int64)
    number_of_root[np.argsort(first_relation, kind="stable")] = np.arange(len(roots))
    relation_set = number_of_root[relation_root]
    # Each set's cells ascending, and each cell's position among them.
    cells = np.unique(np.concatenate([every.parts, every.totals[with_total]]))
    set_of_root = np.full(len(values), -1, dtype=np.int64)
    set_of_root[roots] = number_of_root
    cell_set = set_of_root[component[cells]]
    order = np.lexsort((cells, cell_set))
    cells, cell_set = cells[order], cell_set[order]
    cell_bounds = np.searchsorted(cell_set, np.arange(len(roots) + 1))
    position = np.full(len(values), -1, dtype=np.int64)
    position[cells] = np.arange(len(cells)) - cell_bounds[cell_set]
    # Each set's relations in their order, their cells as positions.
    by_set = np.argsort(relation_set, kind="stable")
    lengths = (every.ends - starts)[by_set]
    ends = np.cumsum(lengths)
    parts = position[every.parts[np.repeat(starts[by_set] - (ends - lengths), lengths) + np.arange(int(ends[-1]))]]
    totals = np.where(with_total, position[np.maximum(every.totals, 0)], -1)[by_set]
    relation_bounds = np.searchsorted(relation_set[by_set], np.arange(len(roots) + 1))
    numbers = _as_numbers(values)
    prefix = hashlib.sha256(f"{_algorithm()}{threshold}".encode())
    found = []
    for number in range(len(roots)):
        cell_slice = slice(cell_bounds[number], cell_bounds[number + 1])
        first, last = relation_bounds[number], relation_bounds[number + 1]
        part_slice = slice(ends[first - 1] if first else 0, ends[last - 1])
        arrays = _RelationArrays(totals[first:last], ends[first:last] - part_slice.start, parts[part_slice])
        digest = prefix.copy()
        digest.update(np.array([cell_slice.stop - cell_slice.start, last - first], dtype=np.int64).tobytes())
        for block in (numbers[cells[cell_slice]], *arrays):
            digest.update(block.tobytes())
        found.append(LinkedSet(cells[cell_slice].tolist(), digest.hexdigest(), values, arrays))
    return found


def _components(size: int, ends_a: np.ndarray, ends_b: np.ndarray) -> np.ndarray:
    """For each of ``size`` cells, the smallest cell of its connected component, the edges
    joining ends_a[i] and ends_b[i]: labels lowered along the edges, and shortcut, until every
    edge joins equal labels."""
    label = np.arange(size)
    while True:
        lower = np.minimum(label[ends_a], label[ends_b])
        np.minimum.at(label, ends_a, lower)
        np.minimum.at(label, ends_b, lower)
        while not np.array_equal(shortcut := label[label], label):
            label = shortcut
        if np.array_equal(label[ends_a], label[ends_b]):
            return label


def _is_decision(decision: object, cells: int) -> bool:
    """A list of distinct positions of a set of ``cells`` cells (what a kept file may hold otherwise is ignored)."""
    return (
        isinstance(decision, list)
        and all(type(number) is int and 0 <= number < cells for number in decision)
        and len(set(decision)) == len(decision)
    )


@functools.cache
def _algorithm() -> str:
    """Part of every digest: a decision stands only for the code that made it (read when first
    needed, not on import: the definitions of every run import this module)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


class _Suppression:
    def __init__(self, values: Sequence[float | None], relations: Sequence[Relation], threshold: int) -> None:
        self.values, self.relations, self.threshold = values, relations, threshold
        self.hidden = primary_suppression(values, threshold)
        # What the attacker recovers in a component, by its hidden cells: hiding a cell of one of
        # its relations would add that cell to it, so the same cells mean the same relations.
        self.audited: dict[frozenset[int], set[int]] = {}
        self.relations_of: dict[int, list[int]] = defaultdict(list)
        for number, relation in enumerate(relations):
            for cell in _cells_of(relation):
                self.relations_of[cell].append(number)

    def run(self) -> list[bool]:
        self.apply_rules(range(len(self.relations)))
        while recovered := self.recovered([cell for cell, hidden in enumerate(self.hidden) if hidden]):
            complements, protected = [], set()
            for cell in recovered:
                component, relations = self.component([cell])
                if protected & component:
                    continue  # a complement for its component is chosen already; audit again first
                protected |= component
                complements.append(self.complement_for(cell, relations))
            for complement in complements:
                self.hidden[complement] = True
            self.apply_rules(sorted({r for complement in complements for r in self.relations_of[complement]}))
        return self.hidden

    def can_hide(self, cell: int) -> bool:
        return not self.hidden[cell] and bool(self.values[cell])

    def apply_rules(self, start: Iterable[int]) -> None:
        """Hide complements until no relation breaks a rule, revisiting the relations a new one is in."""
        queue = deque(start)
        queued = set(queue)
        while queue:
            number = queue.popleft()
            queued.discard(number)
            complement = self.complement_needed(self.relations[number])
            if complement is None:
                continue
            self.hidden[complement] = True
            for other in self.relations_of[complement]:
                if other not in queued:
                    queue.append(other)
                    queued.add(other)

    def complement_needed(self, relation: Relation) -> int | None:
        """The cell to hide for the relation to pass the rules, or None when it passes (or cannot)."""
        total, hidden, values = relation.total, self.hidden, self.values
        hidden_parts = [cell for cell in relation.parts if hidden[cell]]
        if total is not None and hidden[total]:
            broken = not hidden_parts
        elif not hidden_parts:
            return None
        else:
            broken = len(hidden_parts) == 1 or sum(values[cell] - 1 for cell in hidden_parts) < self.threshold
        if not broken:
            return None
        candidates = [cell for cell in relation.parts if self.can_hide(cell)]
        if candidates:
            return min(candidates, key=self.order)
        if total is not None and self.can_hide(total):
            return total
        return None

    def complement_for(self, cell: int, component_relations: list[int]) -> int:
        """The published cell to hide so that ``cell`` is no longer recovered: the smallest that
        does it, from the cell's own relations first, then from those around its component;
        failing that (none of the first few does it alone), the smallest of them."""
        near = {c for r in self.relations_of[cell] for c in _cells_of(self.relations[r]) if self.can_hide(c)}
        around = {c for r in component_relations for c in _cells_of(self.relations[r]) if self.can_hide(c)} - near
        candidates = sorted(near, key=self.order) + sorted(around, key=self.order)
        if not candidates:
            raise DisclosureError(cell)
        for candidate in candidates[:MAX_COMPLEMENTS_TRIED]:
            self.hidden[candidate] = True
            cells, relations = self.component([cell, candidate])
            # Propagation first: it is the cheaper of the two, and rules most candidates out.
            fixed = cell not in self.narrowed(cells, relations) and cell not in self.determined(cells, relations)
            self.hidden[candidate] = False
            if fixed:
                return candidate
        return candidates[0]

    def order(self, cell: int) -> tuple:
        return (self.values[cell], cell)

    def component(self, seeds: Iterable[int]) -> tuple[set[int], list[int]]:
        """The hidden cells linked to the seeds through relations with a declared total, and those relations."""
        cells, relations = set(seeds), set()
        queue = deque(cells)
        while queue:
            for number in self.relations_of[queue.popleft()]:
                relation = self.relations[number]
                if relation.total is None or number in relations:
                    continue
                relations.add(number)
                for other in _cells_of(relation):
                    if self.hidden[other] and other not in cells:
                        cells.add(other)
                        queue.append(other)
        return cells, sorted(relations)

    def recovered(self, seeds: Iterable[int]) -> list[int]:
        """Hidden cells, among those linked to the seeds, that the attacker can recover."""
        found, seen = set(), set()
        for seed in seeds:
            if seed in seen or not self.hidden[seed]:
                continue
            cells, relations = self.component([seed])
            seen |= cells
            key = frozenset(cells)
            if key not in self.audited:
                self.audited[key] = self.narrowed(cells, relations) | self.determined(cells, relations)
            found |= self.audited[key]
        return sorted(found)

    def narrowed(self, cells: set[int], relations: list[int]) -> set[int]:
        """Cells whose interval, by propagation over the relations, is one value or within 1..threshold."""
        hidden, values, inf = self.hidden, self.values, math.inf
        lower = dict.fromkeys(cells, 1)  # zero is never hidden
        upper = dict.fromkeys(cells, inf)
        # Each relation as its hidden total (None when shown), the total's value, its hidden parts
        # and the sum of its shown parts: the published cells are constants.
        prepared = []
        relations_of: dict[int, list[int]] = defaultdict(list)
        for number in relations:
            relation = self.relations[number]
            parts = [cell for cell in relation.parts if hidden[cell]]
            shown = sum(values[cell] for cell in relation.parts if not hidden[cell])
            total = relation.total if hidden[relation.total] else None
            for cell in parts + ([total] if total is not None else []):
                relations_of[cell].append(len(prepared))
            prepared.append((total, values[relation.total], parts, shown))

        def narrow(cell: int, low: float, high: float) -> bool:
            """Counts are whole numbers: bounds round inwards."""
            low = lower[cell] if low == -inf else max(lower[cell], math.ceil(low))
            high = upper[cell] if high == inf else min(upper[cell], math.floor(high))
            if (low, high) == (lower[cell], upper[cell]):
                return False
            lower[cell], upper[cell] = low, high
            return True

        queue = deque(range(len(prepared)))
        queued = set(queue)
        budget = MAX_PROPAGATION_ROUNDS * max(len(prepared), 1)
        while queue and budget:
            budget -= 1
            number = queue.popleft()
            queued.discard(number)
            total, total_value, parts, shown = prepared[number]
            highs = [upper[cell] for cell in parts]
            low_sum = shown + sum(lower[cell] for cell in parts)
            unbounded = highs.count(inf)
            finite_high = shown + sum(high for high in highs if high != inf)
            changed = []
            if total is None:
                total_low = total_high = total_value
            else:
                if narrow(total, low_sum, inf if unbounded else finite_high):
                    changed.append(total)
                total_low, total_high = lower[total], upper[total]
            for cell, high in zip(parts, highs, strict=True):
                others_high = inf if unbounded - (high == inf) else finite_high - (0 if high == inf else high)
                if narrow(cell, total_low - others_high, total_high - (low_sum - lower[cell])):
                    changed.append(cell)
            for cell in changed:
                for other in relations_of[cell]:
                    if other not in queued:
                        queue.append(other)
                        queued.add(other)
        return {cell for cell in cells if lower[cell] == upper[cell] or upper[cell] <= self.threshold}

    def determined(self, cells: set[int], relations: list[int]) -> set[int]:
        """Cells the relations determine alone: a cell is determined when its unit vector lies in
        the row space of the relations restricted to the hidden cells (published cells are
        constants), that is when the row space's orthonormal basis has norm 1 in its column."""
        if not relations:
            return set()
        column = {cell: i for i, cell in enumerate(sorted(cells))}
        matrix = np.zeros((len(relations), len(column)))
        for row, number in enumerate(relations):
            relation = self.relations[number]
            for cell, sign in ((relation.total, 1.0), *((part, -1.0) for part in relation.parts)):
                if cell in column:
                    matrix[row, column[cell]] += sign
        _, singular, basis = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > SINGULAR_TOLERANCE).sum())
        in_row_space = (basis[:rank] ** 2).sum(axis=0)
        return {cell for cell, i in column.items() if in_row_space[i] >= 1 - SINGULAR_TOLERANCE}
