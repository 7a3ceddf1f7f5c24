"""Every SQL the dashboard runs, against the published serving.duckdb only.

Each read opens ``paths().serving`` read-only and closes it at once. The pipeline publishes
by writing a new file and ``os.replace``-ing it over the old one, so a read never meets a
writer's lock; it sees either the old or the new copy. Results are cached with
``st.cache_data`` keyed on the file's path and modification time (ns), so a newly
published copy is read on the next rerun without any explicit invalidation.

The dashboard never computes metrics: these queries only select published rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import streamlit as st

from pipelines.settings import paths


@dataclass(frozen=True)
class Source:
    """One published copy of serving.duckdb: its path and modification time."""

    path: str
    mtime_ns: int


def current_source() -> Source | None:
    """The serving database as it is now, or None if nothing has been published yet."""
    path = paths().serving
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return Source(str(path), stat.st_mtime_ns)


@st.cache_data(show_spinner=False, max_entries=256)
def _read(path: str, mtime_ns: int, sql: str, params: tuple = ()) -> pd.DataFrame:
    del mtime_ns  # only part of the cache key: a new copy means a new key
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def _query(source: Source, sql: str, *params: object) -> pd.DataFrame:
    return _read(source.path, source.mtime_ns, sql, params)


def publish_info(source: Source) -> pd.DataFrame:
    """The single row describing the publication: time, data period and the suppression
    threshold (counts from 1 up to it are published as NULL)."""
    return _query(
        source,
        """
        SELECT published_at, data_from, data_until, events_loaded, suppression_threshold
        FROM publish_info
        LIMIT 1
        """,
    )


def national_key_figures(source: Source) -> pd.DataFrame:
    """National coverage and API share for the reference month (the latest period_end,
    first row) and, when published, the same month a year earlier (second row)."""
    return _query(
        source,
        """
        WITH reference AS (SELECT max(period_end) AS period_end FROM coverage_national_month)
        SELECT
            c.period_end,
            c.persons_with_critical_info,
            c.population,
            c.coverage_pct_population,
            c.coverage_pct_need,
            r.period_month IS NOT NULL AS has_registrations,
            r.api_share_pct
        FROM coverage_national_month AS c
        CROSS JOIN reference
        LEFT JOIN registrations_national_month AS r
            ON r.period_month = date_trunc('month', c.period_end)
        WHERE c.period_end = reference.period_end
           OR c.period_end = last_day(reference.period_end - INTERVAL 12 MONTH)
        ORDER BY c.period_end DESC
        """,
    )


def region_coverage_series(source: Source) -> pd.DataFrame:
    """Coverage per health region for every published month."""
    return _query(
        source,
        """
        SELECT period_end, health_region, health_region_name,
               coverage_pct_population, coverage_pct_need
        FROM coverage_by_region_month
        ORDER BY period_end, health_region_name
        """,
    )


def county_coverage(source: Source, period_end: date) -> pd.DataFrame:
    """Coverage per county for one month, in county-code order."""
    return _query(
        source,
        """
        SELECT county_code, county_name, health_region, health_region_name,
               persons_with_critical_info, population,
               coverage_pct_population, coverage_pct_need
        FROM coverage_by_county_month
        WHERE period_end = ?
        ORDER BY county_code
        """,
        period_end,
    )


def data_quality_totals(source: Source) -> pd.DataFrame:
    """One row: files, lines read, loaded, duplicates and quarantined over all arrival days,
    the share quarantined, and the first and last arrival day (sums of published rows)."""
    return _query(
        source,
        """
        SELECT
            min(arrived_on) AS first_day,
            max(arrived_on) AS last_day,
            sum(files) AS files,
            sum(lines_read) AS lines_read,
            sum(loaded) AS loaded,
            sum(duplicates) AS duplicates,
            sum(quarantined) AS quarantined,
            100.0 * sum(quarantined) / nullif(sum(lines_read), 0) AS quarantined_pct
        FROM data_quality_daily
        HAVING count(*) > 0
        """,
    )


def data_quality_daily(source: Source) -> pd.DataFrame:
    """Lines read, loaded, duplicates and quarantined per arrival day."""
    return _query(
        source,
        """
        SELECT arrived_on, files, lines_read, loaded, duplicates, quarantined, quarantined_pct
        FROM data_quality_daily
        ORDER BY arrived_on
        """,
    )


def quarantine_by_reason(source: Source) -> pd.DataFrame:
    """Lines in quarantine per reason over all arrival days, most lines first, with each
    reason's share of the quarantine (0 when it is empty)."""
    return _query(
        source,
        """
        SELECT reason_code, reason_label, sum(lines) AS lines,
               coalesce(100.0 * sum(lines) / nullif(sum(sum(lines)) OVER (), 0), 0) AS share_pct
        FROM data_quality_by_reason_daily
        GROUP BY reason_code, reason_label
        ORDER BY lines DESC, reason_label
        """,
    )
