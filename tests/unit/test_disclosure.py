"""Property-based test of disclosure control: an attacker tries to recover hidden cells and fails.

Hypothesis draws small tables shaped like the published marts, with many small counts:
counties within regions with regional and national totals (and coverage rates), new entries per
region and channel with the region's total repeated on each row and national figures per
channel and in all (and channel shares), and a two-way table of regions by dimension values
whose national rows and 'all' column are totals. They are written to a real warehouse.duckdb
and published by ``publish`` with the additive groups declared below in the format of the dbt
YAML. The attacker then reads only the published copy and the structure of the tables (which
figures add up to which, written here from how the tables were drawn, not from the YAML).

The attacker (here and in tests/disclosure_attack.py) reads counts off shown rates (persons =
coverage × population; entries = share × total), then uses the equations: exact linear algebra
and interval propagation, knowing every count is a whole number and a hidden cell at least 1
(the method never hides a zero). The protection criterion is in tests/disclosure_attack.py: a
hidden cell must keep an interval reaching above the threshold and wider than one value. The
attack must fail on every example, and must succeed with complementary suppression switched
off (no additive groups declared), so the attacker is shown to work.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.publish.disclosure import (
    DisclosureError,
    PublishedTable,
    Relation,
    _Suppression,
    linked_sets,
    read_cells,
    read_relations,
    suppress,
)
from pipelines.publish.serving import publish
from pipelines.publish.verify import disclosure_violations
from pipelines.settings import Paths
from tests.disclosure_attack import narrowed_cells, solved_by_linear_algebra

CHANNELS = ("api", "portal")

# The declarations, as they would stand in the dbt YAML (meta.publish of each model).
DECLARED = yaml.safe_load("""
county_t:
  suppress:
    counts: [persons]
    rates: [coverage_pct]
    additive_groups:
      - by: [period, region]
        total: {model: region_t}
region_t:
  suppress:
    counts: [persons]
    rates: [coverage_pct]
    additive_groups:
      - by: [period]
        total: {model: national_t}
national_t:
  suppress:
    counts: [persons]
    rates: [coverage_pct]
channel_t:
  suppress:
    counts: [entries, region_entries]
    rates: [share_pct]
    additive_groups:
      - by: [period, region]
        columns: [entries]
        total: {column: region_entries}
      - by: [period, region]
        where: "channel = 'portal'"
        columns: [region_entries]
        total: {where: "channel = 'api'"}
      - by: [period]
        where: "channel = 'api'"
        columns: [entries]
        total: {model: channel_national_t, column: api_entries}
      - by: [period]
        where: "channel = 'portal'"
        columns: [entries]
        total: {model: channel_national_t, column: portal_entries}
      - by: [period]
        where: "channel = 'api'"
        columns: [region_entries]
        total: {model: channel_national_t, column: entries}
channel_national_t:
  suppress:
    counts: [entries, api_entries, portal_entries]
    rates: [api_share_pct]
    additive_groups:
      - by: [period]
        sum_of_columns: [api_entries, portal_entries]
        total: {column: entries}
dimension_t:
  suppress:
    counts: [n]
    additive_groups:
      - by: [period, region]
        where: "dimension_value <> 'all'"
        total: {where: "dimension_value = 'all'"}
      - by: [period, dimension_value]
        where: "region is not null"
        total: {where: "region is null"}
""")


@dataclass
class Tables:
    """What was drawn: the true counts, and the structure the attacker is told."""

    threshold: int
    periods: list[date]
    regions: dict[str, list[str]]  # region -> its counties
    dimension_values: list[str]
    persons: dict[tuple, int] = field(default_factory=dict)  # (period, region, county) -> persons
    entries: dict[tuple, int] = field(default_factory=dict)  # (period, region, channel) -> new entries
    dimension: dict[tuple, int] = field(default_factory=dict)  # (period, region, value) -> n

    @staticmethod
    def population(place: str) -> int:
        return 1000 + 37 * sum(map(ord, place))


@st.composite
def drawn_tables(draw) -> Tables:
    threshold = draw(st.integers(2, 5))
    count = st.one_of(st.just(0), st.integers(1, threshold + 1), st.integers(0, 40))
    periods = [date(2025, 1, 31), date(2025, 2, 28)][: draw(st.integers(1, 2))]
    regions = {f"r{r}": [f"r{r}c{c}" for c in range(draw(st.integers(1, 4)))] for r in range(draw(st.integers(1, 4)))}
    values = [f"v{v}" for v in range(draw(st.integers(1, 4)))]
    tables = Tables(threshold, periods, regions, values)
    for period in periods:
        for region, counties in regions.items():
            for county in counties:
                tables.persons[(period, region, county)] = draw(count)
            for channel in CHANNELS:
                tables.entries[(period, region, channel)] = draw(count)
            for value in values:
                tables.dimension[(period, region, value)] = draw(count)
    return tables


# --- The publication: a real warehouse and manifest, published by the production code -------------------


def published(tables: Tables, declared: dict) -> dict[str, list[dict]]:
    """Publish the tables through ``publish``; every published table's rows as dicts."""
    with tempfile.TemporaryDirectory() as folder:
        home = Paths(Path(folder))
        _write_warehouse(home.warehouse, tables)
        manifest = _write_manifest(Path(folder), declared)
        previous = os.environ.get("KRITINFO_SUPPRESSION_THRESHOLD")
        os.environ["KRITINFO_SUPPRESSION_THRESHOLD"] = str(tables.threshold)
        try:
            publish(home, manifest)
        finally:
            if previous is None:
                del os.environ["KRITINFO_SUPPRESSION_THRESHOLD"]
            else:
                os.environ["KRITINFO_SUPPRESSION_THRESHOLD"] = previous
        with duckdb.connect(str(home.serving), read_only=True) as con:
            result = {}
            for name in declared:
                cursor = con.execute(f"select * from {name}")
                columns = [d[0] for d in cursor.description]
                result[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            return result


def _write_manifest(folder: Path, declared: dict) -> Path:
    """A dbt manifest holding only the published models and their meta.publish."""
    manifest = folder / "manifest.json"
    nodes = {
        f"model.test.{name}": {"resource_type": "model", "name": name, "config": {"meta": {"publish": meta}}}
        for name, meta in declared.items()
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    return manifest


COLUMNS = {
    "county_t": "period date, region varchar, county varchar, persons bigint, population bigint, coverage_pct double",
    "region_t": "period date, region varchar, persons bigint, population bigint, coverage_pct double",
    "national_t": "period date, persons bigint, population bigint, coverage_pct double",
    "channel_t": (
        "period date, region varchar, channel varchar, entries bigint, region_entries bigint, share_pct double"
    ),
    "channel_national_t": (
        "period date, entries bigint, api_entries bigint, portal_entries bigint, api_share_pct double"
    ),
    "dimension_t": "period date, region varchar, dimension_value varchar, n bigint",
}


def _write_warehouse(path: Path, t: Tables) -> None:
    rows = defaultdict(list)
    for period in t.periods:
        national_persons = national_population = 0
        for region, counties in t.regions.items():
            region_persons = region_population = 0
            for county in counties:
                persons, population = t.persons[(period, region, county)], t.population(county)
                rows["county_t"].append((period, region, county, persons, population, 100 * persons / population))
                region_persons, region_population = region_persons + persons, region_population + population
            rows["region_t"].append(
                (period, region, region_persons, region_population, 100 * region_persons / region_population)
            )
            national_persons, national_population = (
                national_persons + region_persons,
                national_population + region_population,
            )
        rows["national_t"].append(
            (period, national_persons, national_population, 100 * national_persons / national_population)
        )

        by_channel = defaultdict(int)
        for region in t.regions:
            region_entries = sum(t.entries[(period, region, channel)] for channel in CHANNELS)
            for channel in CHANNELS:
                entries = t.entries[(period, region, channel)]
                by_channel[channel] += entries
                rows["channel_t"].append(
                    (
                        period,
                        region,
                        channel,
                        entries,
                        region_entries,
                        100 * entries / region_entries if region_entries else None,
                    )
                )
        all_entries = sum(by_channel.values())
        rows["channel_national_t"].append(
            (
                period,
                all_entries,
                by_channel["api"],
                by_channel["portal"],
                100 * by_channel["api"] / all_entries if all_entries else None,
            )
        )

        for region in [*t.regions, None]:
            for value in [*t.dimension_values, "all"]:
                regions = [region] if region else list(t.regions)
                values = [value] if value != "all" else t.dimension_values
                rows["dimension_t"].append(
                    (period, region, value, sum(t.dimension[(period, r, v)] for r in regions for v in values))
                )
    with duckdb.connect(str(path)) as con:
        con.execute("create table stg_registration_events as select ?::date as occurred_on", [t.periods[-1]])
        for table, columns in COLUMNS.items():
            con.execute(f"create table {table} ({columns})")
            placeholders = ", ".join("?" * len(rows[table][0]))
            values = ", ".join(f"({placeholders})" for _ in rows[table])
            con.execute(f"insert into {table} values {values}", [v for row in rows[table] for v in row])


# --- The attacker: the published copy and the tables' structure only -------------------------------------


@dataclass
class Knowledge:
    cells: dict[tuple, int | None]  # every count by name; None where hidden
    equations: list[tuple[tuple, list[tuple]]]  # (total, parts): total = sum(parts)
    from_rates: dict[tuple, Fraction]  # count = shown rate * its public population
    products: list[tuple[tuple, Fraction, tuple]]  # (count, factor, other): count = factor * other count


def what_the_attacker_sees(tables: Tables, copy: dict[str, list[dict]]) -> Knowledge:
    cells: dict[tuple, int | None] = {}
    equations: list[tuple[tuple, list[tuple]]] = []
    from_rates: dict[tuple, Fraction] = {}
    products: list[tuple[tuple, Fraction, tuple]] = []
    # A shown rate gives its count: rate = 100 * count / denominator.
    for table, place in (("county_t", ("county", "county")), ("region_t", ("region", "region")), ("national_t", None)):
        for row in copy[table]:
            cell = (place[0], row["period"], row[place[1]]) if place else ("national", row["period"])
            cells[cell] = row["persons"]
            if row["coverage_pct"] is not None:
                from_rates[cell] = Fraction(round(row["coverage_pct"] * row["population"] / 100))
    for row in copy["channel_t"]:
        entries = ("entries", row["period"], row["region"], row["channel"])
        total = ("region_entries", row["period"], row["region"], row["channel"])
        cells[entries], cells[total] = row["entries"], row["region_entries"]
        if row["share_pct"] is not None:
            products.append((entries, Fraction(row["share_pct"]) / 100, total))
    for row in copy["channel_national_t"]:
        for column in ("entries", "api_entries", "portal_entries"):
            cells[("national_" + column, row["period"])] = row[column]
        if row["api_share_pct"] is not None:
            products.append(
                (
                    ("national_api_entries", row["period"]),
                    Fraction(row["api_share_pct"]) / 100,
                    ("national_entries", row["period"]),
                )
            )
    for row in copy["dimension_t"]:
        cells[("dimension", row["period"], row["region"], row["dimension_value"])] = row["n"]

    for period in tables.periods:
        for region, counties in tables.regions.items():
            equations.append((("region", period, region), [("county", period, c) for c in counties]))
            for copy_channel in CHANNELS:
                equations.append(
                    (
                        ("region_entries", period, region, copy_channel),
                        [("entries", period, region, channel) for channel in CHANNELS],
                    )
                )
        equations.append((("national", period), [("region", period, r) for r in tables.regions]))
        for channel in CHANNELS:
            equations.append(
                ((f"national_{channel}_entries", period), [("entries", period, r, channel) for r in tables.regions])
            )
            equations.append(
                (("national_entries", period), [("region_entries", period, r, channel) for r in tables.regions])
            )
        equations.append((("national_entries", period), [(f"national_{c}_entries", period) for c in CHANNELS]))
        for region in [*tables.regions, None]:
            equations.append(
                (
                    ("dimension", period, region, "all"),
                    [("dimension", period, region, v) for v in tables.dimension_values],
                )
            )
        for value in [*tables.dimension_values, "all"]:
            equations.append(
                (("dimension", period, None, value), [("dimension", period, r, value) for r in tables.regions])
            )
    return Knowledge(cells, equations, from_rates, products)


def attack(knowledge: Knowledge, threshold: int) -> dict[tuple, str]:
    """Every hidden cell the attacker recovers, with how: counts read off shown rates, then the
    equations (linear algebra and interval propagation, tests/disclosure_attack.py)."""
    known = {cell: Fraction(value) for cell, value in knowledge.cells.items() if value is not None}
    recovered: dict[tuple, str] = {}
    for cell, value in knowledge.from_rates.items():
        if cell not in known:
            known[cell], recovered[cell] = value, "rate"
    changed = True
    while changed:
        changed = False
        for count, factor, other in knowledge.products:
            if other in known and count not in known:
                known[count], recovered[count], changed = factor * known[other], "rate", True
            if count in known and other not in known and factor:
                known[other], recovered[other], changed = known[count] / factor, "rate", True
        for cell, value in solved_by_linear_algebra(knowledge.equations, known).items():
            known[cell], recovered[cell], changed = value, "linear algebra", True
    return {**recovered, **narrowed_cells(knowledge.equations, known, threshold)}


def true_cells(tables: Tables) -> dict[tuple, int]:
    """The true value of every count the attacker names, computed from the draw."""
    cells: dict[tuple, int] = {}
    for period in tables.periods:
        for region, counties in tables.regions.items():
            for county in counties:
                cells[("county", period, county)] = tables.persons[(period, region, county)]
            cells[("region", period, region)] = sum(tables.persons[(period, region, c)] for c in counties)
            for channel in CHANNELS:
                cells[("entries", period, region, channel)] = tables.entries[(period, region, channel)]
                cells[("region_entries", period, region, channel)] = sum(
                    tables.entries[(period, region, c)] for c in CHANNELS
                )
            for value in tables.dimension_values:
                cells[("dimension", period, region, value)] = tables.dimension[(period, region, value)]
            cells[("dimension", period, region, "all")] = sum(
                tables.dimension[(period, region, v)] for v in tables.dimension_values
            )
        cells[("national", period)] = sum(cells[("region", period, r)] for r in tables.regions)
        for channel in CHANNELS:
            cells[(f"national_{channel}_entries", period)] = sum(
                tables.entries[(period, r, channel)] for r in tables.regions
            )
        cells[("national_entries", period)] = sum(cells[(f"national_{c}_entries", period)] for c in CHANNELS)
        for value in [*tables.dimension_values, "all"]:
            cells[("dimension", period, None, value)] = sum(
                cells[("dimension", period, r, value)] for r in tables.regions
            )
    return cells


# --- The tests -------------------------------------------------------------------------------------------

# Each example writes and publishes a real warehouse (about half a second).
EXAMPLES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(drawn_tables())
def test_no_hidden_cell_can_be_recovered_from_what_is_published(tables: Tables):
    copy = published(tables, DECLARED)
    knowledge = what_the_attacker_sees(tables, copy)
    truth = true_cells(tables)
    assert knowledge.cells.keys() == truth.keys()
    for cell, shown in knowledge.cells.items():
        # What is shown is true, no small count is shown, and no zero is hidden (the attacker's
        # knowledge that hidden cells are at least 1 must hold).
        assert shown is None or shown == truth[cell], cell
        assert not 1 <= (shown or 0) <= tables.threshold, cell
        assert shown is not None or truth[cell] > 0, cell
    assert attack(knowledge, tables.threshold) == {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_tables())
def test_without_complementary_suppression_the_attacker_recovers_small_counts(tables: Tables):
    primary_only = {
        name: {"suppress": {key: value for key, value in meta["suppress"].items() if key != "additive_groups"}}
        for name, meta in DECLARED.items()
    }
    knowledge = what_the_attacker_sees(tables, published(tables, primary_only))
    truth = true_cells(tables)
    # A small count hidden alone in an equation whose other cells are all shown.
    exposed = {
        cell
        for total, parts in knowledge.equations
        for cell in [total, *parts]
        if knowledge.cells[cell] is None
        and 1 <= truth[cell] <= tables.threshold
        and all(knowledge.cells[other] is not None for other in [total, *parts] if other != cell)
    }
    assume(exposed)
    recovered = attack(knowledge, tables.threshold)
    assert exposed <= recovered.keys()


def test_the_attacker_recovers_a_lone_small_county_and_not_once_complements_are_hidden():
    tables = Tables(4, [date(2025, 1, 31)], {"r0": ["r0c0", "r0c1", "r0c2"], "r1": ["r1c0"]}, ["v0"])
    for county, persons in {"r0c0": 3, "r0c1": 50, "r0c2": 60, "r1c0": 70}.items():
        tables.persons[(tables.periods[0], county[:2], county)] = persons
    for region in tables.regions:
        tables.entries.update({(tables.periods[0], region, channel): 30 for channel in CHANNELS})
        tables.dimension[(tables.periods[0], region, "v0")] = 30
    lone = ("county", tables.periods[0], "r0c0")

    primary_only = {
        name: {"suppress": {k: v for k, v in meta["suppress"].items() if k != "additive_groups"}}
        for name, meta in DECLARED.items()
    }
    exposed = what_the_attacker_sees(tables, published(tables, primary_only))
    assert exposed.cells[lone] is None
    assert attack(exposed, 4) == {lone: "linear algebra"}

    protected = what_the_attacker_sees(tables, published(tables, DECLARED))
    # The smallest other county is hidden with it.
    assert {cell for cell, value in protected.cells.items() if value is None} == {
        lone,
        ("county", tables.periods[0], "r0c1"),
    }
    assert attack(protected, 4) == {}


@pytest.mark.parametrize("threshold", [2, 4])
def test_two_small_counties_that_add_up_to_a_small_sum_get_a_third_complement(threshold):
    tables = Tables(threshold, [date(2025, 1, 31)], {"r0": ["r0c0", "r0c1", "r0c2", "r0c3"]}, ["v0"])
    for county, persons in {"r0c0": 1, "r0c1": 1, "r0c2": 30, "r0c3": 40}.items():
        tables.persons[(tables.periods[0], "r0", county)] = persons
    tables.entries.update({(tables.periods[0], "r0", channel): 30 for channel in CHANNELS})
    tables.dimension[(tables.periods[0], "r0", "v0")] = 30

    protected = what_the_attacker_sees(tables, published(tables, DECLARED))

    hidden = sorted(cell[2] for cell, value in protected.cells.items() if value is None and cell[0] == "county")
    # 1 + 1 alone would show the two add up to 2: the smallest other county is hidden too.
    assert hidden == ["r0c0", "r0c1", "r0c2"]
    assert attack(protected, threshold) == {}


def small_tables() -> Tables:
    tables = Tables(4, [date(2025, 1, 31)], {"r0": ["r0c0", "r0c1"], "r1": ["r1c0"]}, ["v0", "v1"])
    for region, counties in tables.regions.items():
        for county in counties:
            tables.persons[(tables.periods[0], region, county)] = 3
        tables.entries.update({(tables.periods[0], region, channel): 20 for channel in CHANNELS})
        tables.dimension.update({(tables.periods[0], region, value): 2 for value in tables.dimension_values})
    return tables


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["county_t"]["suppress"].update(hide=["persons"]), "unknown keys in meta.publish.suppress"),
        (
            lambda d: d["county_t"]["suppress"]["additive_groups"][0].update(columns=["population"]),
            "population is not one of the model's counts",
        ),
        (
            lambda d: d["channel_national_t"]["suppress"]["additive_groups"][0].pop("total"),
            "a sum of columns needs a total",
        ),
        (lambda d: d.pop("national_t"), "the total's model national_t is not published"),
        (
            lambda d: d["region_t"]["suppress"]["additive_groups"][0]["total"].update(column="population"),
            "the total national_t.population is not one of that model's counts",
        ),
        (
            lambda d: d["dimension_t"]["suppress"]["additive_groups"][0].update(where="dimension_value = 'v0'"),
            "does not add up to its total dimension_t.n",
        ),
        (
            lambda d: d["channel_t"]["suppress"]["additive_groups"][1]["total"].pop("where"),
            "a cell of the group .* is its own total",
        ),
    ],
)
def test_a_declaration_that_is_wrong_stops_the_publication_with_a_clear_error(change, message):
    declared = json.loads(json.dumps(DECLARED, default=str))
    change(declared)
    with pytest.raises(ValueError, match=message):
        published(small_tables(), declared)


CHECKED = PublishedTable.from_meta(
    "county_t",
    {
        "suppress": {
            "counts": ["persons"],
            "rates": ["coverage_pct"],
            "additive_groups": [{"by": ["period"], "total": {"model": "national_t"}}],
        }
    },
)
NATIONAL = PublishedTable.from_meta("national_t", {"suppress": {"counts": ["persons"]}})


@pytest.mark.parametrize(
    "shown, violation",
    [
        # (persons, coverage_pct) shown per county; the warehouse holds 3, 50 and 60.
        ({"c0": (3, 0.3), "c1": (50, 5.0), "c2": (60, 6.0)}, "county_t.persons shows 1 counts from 1 to 4"),
        (
            {"c0": (None, None), "c1": (50, 5.0), "c2": (60, 6.0)},
            "county_t: 1 groups by ['period'] of ['persons'] have exactly one hidden cell",
        ),
        (
            {"c0": (None, 0.3), "c1": (None, None), "c2": (60, 6.0)},
            "county_t.coverage_pct is shown in 1 rows with a hidden count",
        ),
        (
            {"c0": (None, None), "c1": (None, None), "c2": (61, 6.0)},
            "county_t.persons shows 1 figures that are not the warehouse's",
        ),
        ({"c0": (None, None), "c1": (None, None), "c2": (60, 6.0)}, None),
    ],
)
def test_the_disclosure_check_finds_what_breaks_the_rules(tmp_path: Path, shown: dict, violation: str | None):
    """The check of pipelines/publish/verify.py on copies made by hand, so that each rule is broken once."""
    for database, persons in (("warehouse", {"c0": (3, 0.3), "c1": (50, 5.0), "c2": (60, 6.0)}), ("serving", shown)):
        with duckdb.connect(str(tmp_path / f"{database}.duckdb")) as con:
            con.execute("create table county_t (period date, county varchar, persons bigint, coverage_pct double)")
            con.execute("create table national_t (period date, persons bigint)")
            for county, (count, pct) in persons.items():
                con.execute("insert into county_t values ('2025-01-31', ?, ?, ?)", [county, count, pct])
            con.execute("insert into national_t values ('2025-01-31', 113)")
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'warehouse.duckdb'}' as warehouse (read_only)")
        con.execute(f"attach '{tmp_path / 'serving.duckdb'}' as serving (read_only)")
        violations = disclosure_violations(con, [CHECKED, NATIONAL], 4)
    assert violations == ([] if violation is None else [violation])


def test_the_metrics_groups_come_from_each_metrics_additivity_and_whole_counts():
    metrics = {
        "persons": {"additivity": ["counties_to_region", "regions_to_nation"]},
        "need": {"additivity": ["counties_to_region"], "whole_counts": ["numerator"], "numerator_repeats": "persons"},
        "senders": {"additivity": []},
    }
    union = PublishedTable.from_meta(
        "metrics", {"suppress": {"counts": ["numerator", "denominator"], "additive_groups_of_metrics": True}}, metrics
    )
    assert [(group.where, group.columns) for group in union.additive_groups] == [
        ("grain = 'county' and metric_id in ('need')", ("numerator",)),
        ("grain = 'county' and metric_id in ('persons')", ("numerator", "denominator")),
        ("grain = 'region' and metric_id in ('persons')", ("numerator", "denominator")),
    ]
    mart = PublishedTable.from_meta(
        "mart",
        {
            "suppress": {
                "counts": ["persons"],
                "additive_groups": [
                    {
                        "by": ["period"],
                        "total": {
                            "model": "metrics",
                            "column": "numerator",
                            "where": "grain = 'national'",
                            "metrics_repeating": "persons",
                        },
                    }
                ],
            }
        },
        metrics,
    )
    assert [group.total.where for group in mart.additive_groups] == ["metric_id = 'need' and (grain = 'national')"]
    with pytest.raises(ValueError, match="unknown additivity"):
        PublishedTable.from_meta(
            "metrics",
            {"suppress": {"counts": ["numerator"], "additive_groups_of_metrics": True}},
            {"odd": {"additivity": ["parts_to_whole"]}},
        )


# --- Linked sets decided alone, and earlier decisions taken -----------------------------------------------


def cells_and_relations(tables: Tables, folder: Path) -> tuple[list, list[Relation]]:
    """The counts and relations publishing reads from the drawn tables (the production readers)."""
    _write_warehouse(folder / "warehouse.duckdb", tables)
    declared = [PublishedTable.from_meta(name, meta) for name, meta in sorted(DECLARED.items())]
    with duckdb.connect() as con:
        con.execute(f"attach '{folder / 'warehouse.duckdb'}' as warehouse (read_only)")
        for table in declared:
            con.execute(f"create table {table.name} as select * from warehouse.main.{table.name} order by all")
        cells = read_cells(con, declared)
        return cells.values, read_relations(con, declared, cells)


def decided_in_one_pass(values: list, relations: list[Relation], threshold: int) -> list[bool] | str:
    try:
        return _Suppression(values, relations, threshold).run()
    except DisclosureError:
        return "a cell no other cell can protect"


def decided_by_linked_sets(values, relations, threshold, earlier=None) -> list[bool] | str:
    try:
        return suppress(values, relations, threshold, earlier).hidden
    except DisclosureError:
        return "a cell no other cell can protect"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_tables(), st.integers(0, 10**6))
def test_each_linked_set_is_decided_as_one_pass_over_all_cells_decides_it(tables: Tables, seed: int):
    with tempfile.TemporaryDirectory() as folder:
        values, relations = cells_and_relations(tables, Path(folder))
    threshold = tables.threshold
    one_pass = decided_in_one_pass(values, relations, threshold)
    assert decided_by_linked_sets(values, relations, threshold) == one_pass
    assume(one_pass != "a cell no other cell can protect")

    # A later publication, the last period's counts redrawn: its sets take the decisions kept from
    # the first where nothing changed, and end as one pass over the new cells decides them.
    kept = suppress(values, relations, threshold).decisions
    rng = random.Random(seed)
    for counts in (tables.persons, tables.entries, tables.dimension):
        for key in counts:
            if key[0] == tables.periods[-1]:
                counts[key] = rng.choice([0, 1, 2, threshold, threshold + 1, rng.randint(0, 40)])
    with tempfile.TemporaryDirectory() as folder:
        values, relations = cells_and_relations(tables, Path(folder))
    one_pass = decided_in_one_pass(values, relations, threshold)
    assert decided_by_linked_sets(values, relations, threshold, kept) == one_pass


def test_a_kept_decision_is_taken_for_a_set_with_the_same_values_and_relations():
    """Shown with a kept decision unlike what suppression finds: one that hides one cell more is
    taken as it is; one naming a position its set does not have is not (nor what is no list)."""
    with tempfile.TemporaryDirectory() as folder:
        values, relations = cells_and_relations(small_tables(), Path(folder))
    found = suppress(values, relations, 4)
    linked = next(linked for linked in linked_sets(values, relations, 4) if found.decisions[linked.digest])
    hidden = found.decisions[linked.digest]
    one_more = next(number for number, value in enumerate(linked.values) if value and number not in hidden)

    taken = suppress(values, relations, 4, {linked.digest: sorted([*hidden, one_more])})
    assert taken.hidden[linked.cells[one_more]] and not found.hidden[linked.cells[one_more]]
    assert taken.decisions[linked.digest] == sorted([*hidden, one_more])

    broken = suppress(values, relations, 4, {linked.digest: [len(linked.cells)], "other": "not a list"})
    assert broken == found


def test_publishing_keeps_its_decisions_and_a_broken_file_costs_only_time(tmp_path: Path):
    home = Paths(tmp_path / "home")
    home.home.mkdir()
    _write_warehouse(home.warehouse, small_tables())
    manifest = _write_manifest(tmp_path, DECLARED)

    def published_tables() -> dict:
        publish(home, manifest)
        with duckdb.connect(str(home.serving), read_only=True) as con:
            return {name: con.execute(f"select * from {name}").fetchall() for name in DECLARED}

    first = published_tables()
    kept = json.loads(home.suppression_decisions.read_text(encoding="utf-8"))
    assert kept and all(isinstance(positions, list) for positions in kept.values())
    assert published_tables() == first
    home.suppression_decisions.write_text("{not json", encoding="utf-8")
    assert published_tables() == first
    assert json.loads(home.suppression_decisions.read_text(encoding="utf-8")) == kept
