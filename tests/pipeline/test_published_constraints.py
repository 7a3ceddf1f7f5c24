"""The row rules and keys of the published marts, and the row rules of the staging model of
events, are constraints of their tables (their dbt contracts): a row that breaks one is refused as
it is written, so a build that makes one fails before anything is published. Each rule is broken
here once, on a copy of a real run's warehouse."""

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
    "stg_registration_events": [
        "null as event_id",
        "'deleted' as event_type",
        "null as event_type",
        "null as occurred_at",
        "null as occurred_on",
        "'fax' as channel",
        "null as channel",
        "'pharmacy' as organisation_type",
        "'helse-øst' as organisation_health_region",
        "null as epj_product",
        "null as patient_pseudonym",
        "'other' as patient_sex",
        "null as patient_county_code",
        "null as entry_id",
        "null as critical_information_type",
    ],
}

# Per table with a key: a row repeating the key of an existing row (the row itself, or with its
# other columns changed) is refused.
REPEATED_KEYS = {
    "coverage_by_county_month": [""],
    "coverage_by_region_month": [""],
    "coverage_national_month": [""],
    "registrations_by_channel_month": [""],
    "registrations_national_month": [""],
    "data_quality_daily": [""],
    "data_quality_by_reason_daily": [""],
    "data_quality_unusual_data": [""],
    "metric_definitions": [
        "",
        "'another_metric' as metric_id, 'metric_another_metric' as source_model",
        "'another_metric' as metric_id, 'Et annet navn' as name_nb",
    ],
}


@pytest.fixture(scope="module")
def warehouse_copy(published_home: Path, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("constraints") / "warehouse.duckdb"
    shutil.copyfile(published_home / "warehouse.duckdb", copy)
    return copy


@pytest.mark.parametrize(
    "table, replaced", [(table, replaced) for table, rows in BROKEN_ROWS.items() for replaced in rows]
)
def test_a_row_that_breaks_a_rule_is_refused(warehouse_copy: Path, table: str, replaced: str):
    with duckdb.connect(str(warehouse_copy)) as con:
        # One row taken out, so that putting it back (or a variant) repeats no key.
        con.execute(f"create temp table taken as select rowid as taken_from, * from {table} limit 1")
        assert con.execute("select count(*) from taken").fetchall()[0][0] == 1
        con.execute(f"delete from {table} where rowid = (select taken_from from taken)")
        with pytest.raises(duckdb.ConstraintException):
            con.execute(f"insert into {table} select * exclude (taken_from) replace ({replaced}) from taken")
        con.execute(f"insert into {table} select * exclude (taken_from) from taken")  # the row as it was: accepted


@pytest.mark.parametrize(
    "table, replaced", [(table, replaced) for table, rows in REPEATED_KEYS.items() for replaced in rows]
)
def test_a_row_that_repeats_a_key_is_refused(warehouse_copy: Path, table: str, replaced: str):
    with duckdb.connect(str(warehouse_copy)) as con:
        assert con.execute(f"select count(*) from {table}").fetchall()[0][0] > 0
        changed = f" replace ({replaced})" if replaced else ""
        with pytest.raises(duckdb.ConstraintException):
            con.execute(f"insert into {table} select *{changed} from {table} limit 1")
