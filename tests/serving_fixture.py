"""A small, hand-made serving.duckdb for dashboard tests.

The numbers are chosen by hand so tests can state the exact figures the dashboard must
show. The tables follow the serving schema the pipeline publishes; rates are derived from
the counts the way the pipeline defines them (percent of population, percent of an
estimated need of 5 % of the population), and a count from 1 up to
``SUPPRESSION_THRESHOLD`` is published as NULL together with every rate in its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

SUPPRESSION_THRESHOLD = 4
NEED_SHARE = 0.05

REFERENCE = date(2026, 10, 31)
YEAR_BEFORE = date(2025, 10, 31)
PUBLISHED_AT = datetime(2026, 11, 3, 13, 5, tzinfo=timezone.utc)  # 14.05 in Oslo
DATA_FROM = date(2024, 1, 1)

REGIONS = {
    "helse-sor-ost": "Helse Sør-Øst RHF",
    "helse-vest": "Helse Vest RHF",
    "helse-midt-norge": "Helse Midt-Norge RHF",
    "helse-nord": "Helse Nord RHF",
}


@dataclass(frozen=True)
class County:
    code: str
    name: str
    region: str
    population: int
    persons_year_before: int  # at YEAR_BEFORE
    persons_reference: int  # at REFERENCE


# Troms is deliberately tiny in persons so its counts are suppressed (shown as ":").
COUNTIES = (
    County("03", "Oslo", "helse-sor-ost", 700_000, 17_500, 24_500),
    County("42", "Agder", "helse-sor-ost", 310_000, 6_200, 9_300),
    County("46", "Vestland", "helse-vest", 640_000, 14_080, 21_120),
    County("50", "Trøndelag", "helse-midt-norge", 475_000, 9_500, 13_300),
    County("55", "Troms", "helse-nord", 168_000, 3, 4),
    County("56", "Finnmark", "helse-nord", 74_000, 1_110, 1_850),
)

# registrations_national_month: period_month -> (api_entries, portal_entries)
REGISTRATIONS_REFERENCE = (1_300, 700)  # 65,0 % API
REGISTRATIONS_YEAR_BEFORE = (600, 900)  # 40,0 % API


# Data quality per arrival day: (day, files, loaded, duplicates, quarantined lines per reason).
DATA_QUALITY_DAYS = (
    (date(2026, 10, 29), 1, 1_180, 12, {"json_syntax": 5, "invalid_value": 3}),
    (date(2026, 10, 30), 2, 1_240, 20, {"fhir_invalid": 2, "identifier": 1}),
    (date(2026, 10, 31), 1, 1_305, 9, {}),
)
# The reason codes and their bokmål labels as the pipeline publishes them (seed quarantine_reasons).
QUARANTINE_REASONS = {
    "json_syntax": "Ugyldig JSON",
    "missing_field": "Manglende felt",
    "invalid_value": "Ugyldig verdi",
    "fhir_invalid": "Ugyldig FHIR-ressurs",
    "patient_reference_mismatch": "Pasientreferansen stemmer ikke",
    "unrecognised_type": "Ukjent type kritisk informasjon",
    "identifier": "Direkte identifikator",
}


def month_ends() -> list[date]:
    """The 13 published month ends, YEAR_BEFORE .. REFERENCE."""
    ends = []
    for i in range(13):
        year, month0 = divmod(YEAR_BEFORE.month - 1 + i + 1, 12)
        first_of_next = date(YEAR_BEFORE.year + year, month0 + 1, 1)
        ends.append(date.fromordinal(first_of_next.toordinal() - 1))
    return ends


def persons(county: County, index: int) -> int:
    """Persons with critical information at month end number ``index`` (0 = YEAR_BEFORE)."""
    step = county.persons_reference - county.persons_year_before
    return county.persons_year_before + step * index // 12


def _coverage(persons_: int, population: int) -> tuple:
    need = population * NEED_SHARE
    if is_suppressed(persons_):
        return None, population, need, None, None
    return persons_, population, need, 100.0 * persons_ / population, 100.0 * persons_ / need


def is_suppressed(count: int) -> bool:
    return 1 <= count <= SUPPRESSION_THRESHOLD


def build_serving_db(path: Path) -> Path:
    """Write the hand-made serving database to ``path`` (replacing any file there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        _create_tables(con)
        _fill(con)
        _fill_data_quality(con)
    finally:
        con.close()
    return path


def write_home(home: Path) -> Path:
    """A KRITINFO_HOME holding only the hand-made serving.duckdb; returns ``home``."""
    build_serving_db(home / "serving.duckdb")
    return home


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    coverage = (
        "persons_with_critical_info BIGINT, population BIGINT, estimated_need DOUBLE, "
        "coverage_pct_population DOUBLE, coverage_pct_need DOUBLE"
    )
    con.execute(f"CREATE TABLE coverage_national_month (period_end DATE, {coverage})")
    con.execute(
        "CREATE TABLE coverage_by_region_month (period_end DATE, health_region VARCHAR, "
        f"health_region_name VARCHAR, {coverage})"
    )
    con.execute(
        "CREATE TABLE coverage_by_county_month (period_end DATE, county_code VARCHAR, "
        "county_name VARCHAR, health_region VARCHAR, health_region_name VARCHAR, "
        f"{coverage})"
    )
    con.execute(
        "CREATE TABLE registrations_by_channel_month (period_month DATE, "
        "health_region VARCHAR, health_region_name VARCHAR, channel VARCHAR, "
        "new_entries BIGINT, region_new_entries BIGINT, channel_share_pct DOUBLE)"
    )
    con.execute(
        "CREATE TABLE registrations_national_month (period_month DATE, new_entries BIGINT, "
        "api_entries BIGINT, portal_entries BIGINT, api_share_pct DOUBLE)"
    )
    con.execute(
        "CREATE TABLE publish_info (published_at TIMESTAMPTZ, data_from DATE, "
        "data_until DATE, events_loaded BIGINT, suppression_threshold INTEGER)"
    )


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    ends = month_ends()
    for index, end in enumerate(ends):
        by_region: dict[str, list[int]] = {region: [0, 0] for region in REGIONS}
        for county in COUNTIES:
            count = persons(county, index)
            by_region[county.region][0] += count
            by_region[county.region][1] += county.population
            con.execute(
                "INSERT INTO coverage_by_county_month VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [end, county.code, county.name, county.region, REGIONS[county.region],
                 *_coverage(count, county.population)],
            )  # fmt: skip
        for region, (count, population) in by_region.items():
            con.execute(
                "INSERT INTO coverage_by_region_month VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [end, region, REGIONS[region], *_coverage(count, population)],
            )
        total = sum(count for count, _ in by_region.values())
        population = sum(pop for _, pop in by_region.values())
        con.execute(
            "INSERT INTO coverage_national_month VALUES (?, ?, ?, ?, ?, ?)",
            [end, *_coverage(total, population)],
        )

        api, portal = _registrations(index)
        month = end.replace(day=1)
        con.execute(
            "INSERT INTO registrations_national_month VALUES (?, ?, ?, ?, ?)",
            [month, api + portal, api, portal, 100.0 * api / (api + portal)],
        )
        # Channel rows for one region only: enough for the schema, unused by the overview.
        for channel, count in (("api", api), ("portal", portal)):
            con.execute(
                "INSERT INTO registrations_by_channel_month VALUES (?, ?, ?, ?, ?, ?, ?)",
                [month, "helse-vest", REGIONS["helse-vest"], channel, count, api + portal,
                 100.0 * count / (api + portal)],
            )  # fmt: skip

    con.execute(
        "INSERT INTO publish_info VALUES (?, ?, ?, ?, ?)",
        [PUBLISHED_AT, DATA_FROM, REFERENCE, 123_456, SUPPRESSION_THRESHOLD],
    )


def _fill_data_quality(con: duckdb.DuckDBPyConnection) -> None:
    """data_quality_daily and data_quality_by_reason_daily, every reason on every day."""
    con.execute(
        "CREATE TABLE data_quality_daily (arrived_on DATE, files BIGINT, lines_read BIGINT, "
        "loaded BIGINT, duplicates BIGINT, quarantined BIGINT, quarantined_pct DOUBLE)"
    )
    con.execute(
        "CREATE TABLE data_quality_by_reason_daily (arrived_on DATE, reason_code VARCHAR, "
        "reason_label VARCHAR, lines BIGINT)"
    )
    for day, files, loaded, duplicates, by_reason in DATA_QUALITY_DAYS:
        quarantined = sum(by_reason.values())
        read = loaded + duplicates + quarantined
        con.execute(
            "INSERT INTO data_quality_daily VALUES (?, ?, ?, ?, ?, ?, ?)",
            [day, files, read, loaded, duplicates, quarantined, 100.0 * quarantined / read],
        )
        for code, label in QUARANTINE_REASONS.items():
            con.execute(
                "INSERT INTO data_quality_by_reason_daily VALUES (?, ?, ?, ?)",
                [day, code, label, by_reason.get(code, 0)],
            )


def _registrations(index: int) -> tuple[int, int]:
    if index == 0:
        return REGISTRATIONS_YEAR_BEFORE
    if index == 12:
        return REGISTRATIONS_REFERENCE
    return 1_000 + 25 * index, 800 - 10 * index
