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


def has_complete_month(source: Source) -> bool:
    """Whether any month is published: none is until the data hold a complete month."""
    return not _query(source, "SELECT 1 FROM coverage_national_month LIMIT 1").empty


def national_persons(source: Source) -> pd.DataFrame:
    """Persons with critical information nationally in the reference month (the latest period_end,
    first row) and, when published, the same month a year earlier (second row)."""
    return _query(
        source,
        """
        WITH reference AS (SELECT max(period_end) AS period_end FROM coverage_national_month)
        SELECT c.period_end, c.persons_with_critical_info
        FROM coverage_national_month AS c
        CROSS JOIN reference
        WHERE c.period_end = reference.period_end
           OR c.period_end = last_day(reference.period_end - INTERVAL 12 MONTH)
        ORDER BY c.period_end DESC
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


def unusual_data(source: Source) -> pd.DataFrame:
    """Unusual but valid data: each finding with its label, unit, count and last month, most first."""
    return _query(
        source,
        """
        SELECT finding, label_nb, unit_nb, count, last_month
        FROM data_quality_unusual_data
        ORDER BY count DESC, label_nb
        """,
    )


def areas(source: Source) -> pd.DataFrame:
    """Every county with its health region and their names, regions in alphabetical order."""
    return _query(
        source,
        """
        SELECT DISTINCT health_region, health_region_name, county_code, county_name
        FROM coverage_by_county_month
        ORDER BY health_region_name, county_code
        """,
    )


def metric_definitions(source: Source) -> pd.DataFrame:
    """The metric registry: one row per metric, with its source model and freshness."""
    return _query(
        source,
        """
        SELECT metric_id, name_nb, definition, numerator, denominator, unit, grains, dimensions,
               mandate, source_model, overview_position, periods, latest_period_end
        FROM metric_definitions
        ORDER BY name_nb
        """,
    )


def metric_cells(source: Source, metric_id: str) -> pd.DataFrame:
    """Where and by what one metric is published: its areas (grain, region, county) and the
    breakdowns published for each area."""
    return _query(
        source,
        """
        SELECT DISTINCT grain, health_region, county_code, dimension_name
        FROM metrics
        WHERE metric_id = ?
        """,
        metric_id,
    )


def metric_series(
    source: Source,
    metric_id: str,
    grain: str,
    health_region: str | None,
    county_code: str | None,
    dimension_name: str,
) -> pd.DataFrame:
    """One metric in one area by one breakdown: every period and breakdown value, newest first."""
    return _query(
        source,
        """
        SELECT period_end, period, dimension_value, numerator, denominator, value
        FROM metrics
        WHERE metric_id = ? AND grain = ? AND health_region IS NOT DISTINCT FROM ?
          AND county_code IS NOT DISTINCT FROM ? AND dimension_name = ?
        ORDER BY period_end DESC, dimension_value
        """,
        metric_id,
        grain,
        health_region,
        county_code,
        dimension_name,
    )


def evaluation_tables(source: Source) -> frozenset[str]:
    """The tables of schema ``evaluation`` in the published copy (none before evaluation ran)."""
    names = _query(
        source,
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'evaluation'",
    )
    return frozenset(names["table_name"])


def goal_status(source: Source) -> pd.DataFrame:
    """Every goal with its latest value, forecast at the target date and status (and how many
    months ahead the forecast interval was checked against history), with its metric's name and
    unit; goals of one metric together, national first.

    A goal's latest value repeats a cell of ``metrics`` and is published NULL where that cell's
    value is; ``latest_denominator`` is that cell's denominator (0: nothing to compute from)."""
    return _query(
        source,
        """
        SELECT g.goal_id, g.metric_id, d.name_nb, d.unit, g.area,
               g.baseline_value, g.baseline_date, g.target_value, g.target_date,
               g.latest_value, g.latest_period_end, cell.denominator AS latest_denominator,
               g.forecast_at_target, g.lower_at_target, g.upper_at_target,
               g.status, g.backtested_months, g.method, g.illustrative, g.goals_version
        FROM evaluation.goal_status AS g
        LEFT JOIN metric_definitions AS d USING (metric_id)
        LEFT JOIN metrics AS cell
          ON cell.metric_id = g.metric_id AND cell.period_end = g.latest_period_end
         AND cell.period = 'month' AND cell.dimension_name = 'total'
         AND ((g.area = 'national' AND cell.grain = 'national')
              OR (cell.grain = 'region' AND cell.health_region = g.area))
        ORDER BY d.name_nb, g.metric_id, g.area <> 'national', g.area
        """,
    )


def goal_series(source: Source, metric_id: str) -> pd.DataFrame:
    """For each goal of one metric: its published monthly history (kind 'history': the total
    at the goal's area) and its forecast path with prediction interval (kind 'forecast')."""
    return _query(
        source,
        """
        SELECT g.goal_id, 'history' AS kind, m.period_end, m.value, NULL::double AS lower,
               NULL::double AS upper
        FROM evaluation.goal_status AS g
        JOIN metrics AS m
          ON m.metric_id = g.metric_id AND m.period = 'month' AND m.dimension_name = 'total'
         AND ((g.area = 'national' AND m.grain = 'national')
              OR (m.grain = 'region' AND m.health_region = g.area))
        WHERE g.metric_id = ?
        UNION ALL
        SELECT f.goal_id, 'forecast', f.period_end, f.forecast, f.lower, f.upper
        FROM evaluation.goal_forecasts AS f
        JOIN evaluation.goal_status AS g USING (goal_id)
        WHERE g.metric_id = ?
        ORDER BY goal_id, kind DESC, period_end
        """,
        metric_id,
        metric_id,
    )


def rollout_effect(source: Source) -> pd.DataFrame:
    """The rollout-effect estimates (relative changes) with confidence intervals and method."""
    return _query(
        source,
        """
        SELECT estimand, description, estimate, ci_low, ci_high, confidence_level, method,
               n_regions, n_months
        FROM evaluation.rollout_effect
        ORDER BY estimand
        """,
    )


def rollout_event_study(source: Source) -> pd.DataFrame:
    """The event study: the relative change per month from go-live, with confidence intervals."""
    return _query(
        source,
        """
        SELECT event_month, estimate, ci_low, ci_high, n_regions
        FROM evaluation.rollout_event_study
        ORDER BY event_month
        """,
    )


def api_go_lives(source: Source) -> pd.DataFrame:
    """Each health region's API go-live: the month-end of its first month with new entries
    through the API. A suppressed count (NULL) is from 1 up to the threshold, so some."""
    return _query(
        source,
        """
        SELECT health_region, health_region_name, last_day(min(period_month)) AS period_end
        FROM registrations_by_channel_month
        WHERE channel = 'api' AND coalesce(new_entries, 1) > 0
        GROUP BY health_region, health_region_name
        ORDER BY period_end, health_region_name
        """,
    )


def national_metric_values(source: Source, metric_ids: tuple[str, ...]) -> pd.DataFrame:
    """The national monthly totals of ``metric_ids``: metric_id, period_end, numerator,
    denominator and value, newest month first."""
    return _query(
        source,
        f"""
        SELECT metric_id, period_end, numerator, denominator, value
        FROM metrics
        WHERE grain = 'national' AND period = 'month' AND dimension_name = 'total'
          AND metric_id IN ({", ".join("?" for _ in metric_ids)})
        ORDER BY period_end DESC, metric_id
        """,
        *metric_ids,
    )


def region_metric_series(source: Source, metric_ids: tuple[str, ...]) -> pd.DataFrame:
    """The monthly totals of ``metric_ids`` per health region: metric_id, period_end,
    health_region, health_region_name and value."""
    return _query(
        source,
        f"""
        SELECT m.metric_id, m.period_end, m.health_region, p.health_region_name, m.value
        FROM metrics AS m
        JOIN (SELECT DISTINCT health_region, health_region_name FROM coverage_by_region_month) AS p
          USING (health_region)
        WHERE m.grain = 'region' AND m.period = 'month' AND m.dimension_name = 'total'
          AND m.metric_id IN ({", ".join("?" for _ in metric_ids)})
        ORDER BY m.period_end, p.health_region_name
        """,
        *metric_ids,
    )


def metric_rise_is_good(source: Source) -> dict[str, bool]:
    """metric_id -> whether a rise is an improvement, as each metric declares it (``up_is_good``)."""
    rows = _query(source, "SELECT metric_id, up_is_good FROM metric_definitions")
    return dict(zip(rows["metric_id"], rows["up_is_good"].astype(bool), strict=True))


# The columns of the coverage marts, in the order the registry declares the coverage metrics among
# Oversikt's key figures: coverage of the population, then of the estimated need.
COVERAGE_COLUMNS = ("coverage_pct_population", "coverage_pct_need")


def key_metrics(definitions: pd.DataFrame) -> list[str]:
    """The metrics the registry declares as Oversikt's key figures, in their declared order."""
    chosen = definitions[definitions["overview_position"].notna()].sort_values("overview_position")
    return list(chosen["metric_id"])


def coverage_metrics(definitions: pd.DataFrame) -> list[str]:
    """The key metrics published per county: the registration coverages."""
    by_id = definitions.set_index("metric_id")
    return [m for m in key_metrics(definitions) if "county" in by_id.loc[m, "grains"].split(",")]


def coverage_column_names(definitions: pd.DataFrame) -> dict[str, str]:
    """Each coverage column of the marts -> the registry's name of the metric computed from it."""
    names = dict(zip(definitions["metric_id"], definitions["name_nb"], strict=True))
    return {
        column: names[metric] for column, metric in zip(COVERAGE_COLUMNS, coverage_metrics(definitions), strict=True)
    }
