"""The published marts' row rules are constraints of their tables (their dbt contracts): a row
that breaks one is refused as it is written, so a build that makes one fails before anything is
published. Each rule is broken here once, on a copy of a real run's warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

# Per table: a row of it with one value changed so that it breaks one rule.
BROKEN_ROWS = {
    "metrics": [
        "'nowhere' as grain",
        "'month' as period, 'county' as grain, 'helse-vest' as health_region, null as county_code",
        "'region' as grain, null as health_region",
        "'helse-øst' as health_region",
        "'week' as period",
        "'age' as dimension_name",
        "null as dimension_value",
        "null as metric_id",
    ],
    "metric_definitions": ["null as mandate", "'quarter' as periods"],
    "coverage_by_county_month": ["101.0 as coverage_pct_population", "null as persons_with_critical_info"],
    "coverage_by_region_month": ["'helse-øst' as health_region", "-1.0 as coverage_pct_need"],
    "coverage_national_month": ["null as period_end"],
    "registrations_by_channel_month": ["'fax' as channel", "100.5 as channel_share_pct"],
    "registrations_national_month": ["null as period_month", "-0.1 as api_share_pct"],
    "data_quality_daily": ["0::bigint as files", "null as loaded", "120.0 as quarantined_pct"],
    "data_quality_by_reason_daily": ["-1::bigint as lines", "null as reason_label"],
    "data_quality_unusual_data": ["'other_finding' as finding", "2::bigint as count, null as last_month"],
}


@pytest.fixture(scope="module")
def warehouse_copy(published_home: Path, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("constraints") / "warehouse.duckdb"
    shutil.copyfile(published_home / "warehouse.duckdb", copy)
    return copy


@pytest.mark.parametrize(
    "table, replaced", [(table, replaced) for table, rows in BROKEN_ROWS.items() for replaced in rows]
)
def test_a_row_that_breaks_a_published_marts_rule_is_refused(warehouse_copy: Path, table: str, replaced: str):
    with duckdb.connect(str(warehouse_copy)) as con:
        assert con.execute(f"select count(*) from {table}").fetchall()[0][0] > 0
        con.execute(f"insert into {table} select * from {table} limit 1")  # the row as it is: accepted
        with pytest.raises(duckdb.ConstraintException):
            con.execute(f"insert into {table} select * replace ({replaced}) from {table} limit 1")
