"""A small, hand-made serving.duckdb for dashboard tests.

The numbers are chosen by hand so tests can state the exact figures the dashboard must
show. The tables follow the serving schema the pipeline publishes; rates are derived from
the counts the way the pipeline defines them (percent of population, percent of an
estimated need of 5 % of the population), and a count from 1 up to
``SUPPRESSION_THRESHOLD`` is published as NULL together with every rate in its row.

Besides the marts: the ``metrics`` mart and ``metric_definitions`` for a few metrics of the
registry (one of each kind: a rate by place, a rate by breakdown, a quantile, a count and a
yearly figure), and the tables of schema ``evaluation`` (goals with forecasts, the rollout
effect and its event study).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

SUPPRESSION_THRESHOLD = 4
NEED_SHARE = 0.05

REFERENCE = date(2026, 10, 31)
YEAR_BEFORE = date(2025, 10, 31)
PUBLISHED_AT = datetime(2026, 11, 3, 13, 5, tzinfo=UTC)  # 14.05 in Oslo
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
    "line_too_long": "For lang linje",
    "too_deep": "For dyp nøsting",
    "implausible_date": "Usannsynlig dato",
    "internal_error": "Intern feil",
}


# Unusual but valid data as the pipeline publishes it: (finding, label, unit, count, last month).
UNUSUAL_DATA = (
    (
        "organisation_several_types",
        "Virksomheter som meldte inn som flere virksomhetstyper i samme måned",
        "virksomheter",
        3,
        date(2026, 10, 1),
    ),
    (
        "entry_created_more_than_once",
        "Oppføringer med mer enn én created-hendelse",
        "oppføringer",
        1_204,
        date(2026, 9, 1),
    ),
    ("version_not_numeric", "Hendelser med versjon som ikke er et tall", "hendelser", 0, None),
)


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
        _fill_metrics(con)
        _fill_evaluation(con)
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
                [
                    end,
                    county.code,
                    county.name,
                    county.region,
                    REGIONS[county.region],
                    *_coverage(count, county.population),
                ],
            )
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
                [
                    month,
                    "helse-vest",
                    REGIONS["helse-vest"],
                    channel,
                    count,
                    api + portal,
                    100.0 * count / (api + portal),
                ],
            )

    con.execute(
        "INSERT INTO publish_info VALUES (?, ?, ?, ?, ?)",
        [PUBLISHED_AT, DATA_FROM, REFERENCE, 123_456, SUPPRESSION_THRESHOLD],
    )


def _fill_data_quality(con: duckdb.DuckDBPyConnection) -> None:
    """data_quality_daily and data_quality_by_reason_daily (every reason on every day), data_quality_unusual_data."""
    con.execute(
        "CREATE TABLE data_quality_daily (arrived_on DATE, files BIGINT, lines_read BIGINT, "
        "loaded BIGINT, duplicates BIGINT, quarantined BIGINT, quarantined_pct DOUBLE)"
    )
    con.execute(
        "CREATE TABLE data_quality_by_reason_daily (arrived_on DATE, reason_code VARCHAR, "
        "reason_label VARCHAR, lines BIGINT)"
    )
    con.execute(
        "CREATE TABLE data_quality_unusual_data (finding VARCHAR, label_nb VARCHAR, unit_nb VARCHAR, "
        "count BIGINT, last_month DATE)"
    )
    con.executemany("INSERT INTO data_quality_unusual_data VALUES (?, ?, ?, ?, ?)", UNUSUAL_DATA)
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


# --- The metric registry -------------------------------------------------------------------

METRICS_COLUMNS = (
    "metric_id VARCHAR, period_end DATE, period VARCHAR, grain VARCHAR, health_region VARCHAR, "
    "county_code VARCHAR, dimension_name VARCHAR, dimension_value VARCHAR, numerator DOUBLE, "
    "denominator DOUBLE, value DOUBLE"
)
MANDATE_COVERAGE = (
    "Tiltaket skal bidra til å øke registreringsgraden nasjonalt, ved at helsepersonell kan "
    "registrere opplysningene i eget fagsystem – samtidig som data overføres automatisk til "
    "kjernejournalen."
)
MANDATE_VENDORS = (
    "bidra til at alle EPJ-leverandørene kan registrere og vise kritisk informasjon i kjernejournal via API"
)


@dataclass(frozen=True)
class MetricDefinition:
    metric_id: str
    name_nb: str
    definition: str
    numerator: str  # '' for a quantile
    denominator: str  # '' for a count
    unit: str
    grains: str
    dimensions: str
    mandate: str
    up_is_good: bool
    overview_position: int | None = None


METRIC_DEFINITIONS = (
    MetricDefinition(
        "registration_coverage_need",
        "Registreringsgrad av anslått behov",
        "Personer med minst én aktiv oppføring ved månedsslutt, i prosent av anslått behov.",
        "Personer med minst én aktiv oppføring ved månedsslutt",
        "Anslått behov, 5 % av befolkningen",
        "prosent",
        "national,region,county",
        "",
        MANDATE_COVERAGE,
        True,
        2,
    ),
    MetricDefinition(
        "registration_coverage_population",
        "Registreringsgrad i befolkningen",
        "Personer med minst én aktiv oppføring ved månedsslutt, i prosent av befolkningen.",
        "Personer med minst én aktiv oppføring ved månedsslutt",
        "Befolkningen",
        "prosent",
        "national,region,county",
        "",
        MANDATE_COVERAGE,
        True,
        1,
    ),
    MetricDefinition(
        "automatic_share",
        "Andel automatisk innmeldt via API",
        "Nye og endrede oppføringer i måneden som kom via API, i prosent av alle.",
        "Nye og endrede oppføringer via API",
        "Alle nye og endrede oppføringer",
        "prosent",
        "national,region",
        "organisation_type",
        MANDATE_COVERAGE,
        True,
        3,
    ),
    MetricDefinition(
        "delay_median_hours",
        "Tid til kjernejournal, median",
        "Median tid fra recordedDate til oppføringen er lagret i kjernejournal.",
        "",
        "Nye oppføringer i måneden med recordedDate",
        "timer",
        "national",
        "channel",
        MANDATE_COVERAGE,
        False,
    ),
    MetricDefinition(
        "api_organisations",
        "Virksomheter som melder inn via API",
        "Virksomheter med minst én hendelse via API i måneden.",
        "Virksomheter med minst én hendelse via API i måneden",
        "",
        "virksomheter",
        "national",
        "epj_product",
        MANDATE_VENDORS,
        True,
    ),
    MetricDefinition(
        "cost_per_new_person",
        "Kostnad per nyregistrert person",
        "Årets ramme i mandatets tabell 1 per person registrert for første gang i året.",
        "Årets ramme i kroner (mandatets tabell 1)",
        "Personer registrert for første gang i året",
        "kroner per person",
        "national",
        "",
        MANDATE_COVERAGE,
        False,
    ),
)

ORGANISATION_TYPES = ("gp", "hospital", "municipal")
# The mandate's budget (seed mandate_budget, MNOK) and hand-chosen persons newly registered.
COST_YEARS = {date(2024, 12, 31): (10.2e6, 12_000), date(2025, 12, 31): (23e6, 20_000)}


def automatic_entries(region: str, organisation_type: str, index: int) -> tuple[int, int]:
    """(through the API, all) new and changed entries in month ``index`` (0 = YEAR_BEFORE).
    Helse Nord's municipal services register nothing (a rate with nothing to compute from)."""
    if (region, organisation_type) == ("helse-nord", "municipal"):
        return 0, 0
    r, o = list(REGIONS).index(region), ORGANISATION_TYPES.index(organisation_type)
    total = 20 + 10 * r + 6 * o + 2 * index
    return min(total, 4 * index * (o + 1) // (r + 1)), total


def delay_entries(channel: str, index: int) -> tuple[int, float | None]:
    """(entries, median hours) nationally per channel in month ``index``; no API entries in
    month 2, three (suppressed) in month 3."""
    if channel == "api":
        count = {2: 0, 3: 3}.get(index, 50 + index)
        return count, (None if count == 0 else 1.5 + 0.1 * index)
    return 100 + index, 30.0 - index


DELAY_TOTAL_HOURS = 20.0  # the median of both channels together, the same every month


def api_organisations(index: int) -> int:
    return abs(index - 9)  # 9 .. 0 .. 3: 1 to 4 are suppressed, the latest month among them


def api_organisations_by_product(index: int) -> dict[str, int]:
    """The same organisations by the EPJ product they sent from (the adoption chart on Effekt)."""
    total = api_organisations(index)
    return {"DIPS Arena": total - total // 3, "CGM Allmenn": total // 3}


def _metric_row(
    metric_id, period_end, grain, region, county, dimension, value_of, numerator, denominator, value, period="month"
):
    """One published row: counts from 1 to the threshold hidden, with the value beside them."""
    hidden = any(c is not None and is_suppressed(c) for c in (numerator, denominator))
    if hidden:
        numerator = None if numerator is not None and is_suppressed(numerator) else numerator
        denominator = None if denominator is not None and is_suppressed(denominator) else denominator
        value = None
    return (metric_id, period_end, period, grain, region, county, dimension, value_of, numerator, denominator, value)


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def metric_rows() -> list[tuple]:
    """Every row of the hand-made ``metrics`` mart."""
    rows = []
    for index, end in enumerate(month_ends()):
        # registration_coverage_need and _population: the coverage marts' persons, per county, region and nation.
        places: dict[tuple[str, str | None, str | None], list[int]] = {}
        for county in COUNTIES:
            for key in (
                ("county", county.region, county.code),
                ("region", county.region, None),
                ("national", None, None),
            ):
                counts = places.setdefault(key, [0, 0])
                counts[0] += persons(county, index)
                counts[1] += county.population
        for (grain, region, code), (count, population) in places.items():
            need = population * NEED_SHARE
            rows.append(
                _metric_row(
                    "registration_coverage_need",
                    end,
                    grain,
                    region,
                    code,
                    "total",
                    "all",
                    count,
                    need,
                    100.0 * count / need,
                )
            )
            rows.append(
                _metric_row(
                    "registration_coverage_population",
                    end,
                    grain,
                    region,
                    code,
                    "total",
                    "all",
                    count,
                    population,
                    100.0 * count / population,
                )
            )

        # automatic_share by organisation type, per region and nationally.
        cells: dict[tuple[str, str | None, str, str], list[int]] = {}
        for region in REGIONS:
            for organisation_type in ORGANISATION_TYPES:
                api, total = automatic_entries(region, organisation_type, index)
                for key in (
                    ("region", region, "organisation_type", organisation_type),
                    ("region", region, "total", "all"),
                    ("national", None, "organisation_type", organisation_type),
                    ("national", None, "total", "all"),
                ):
                    counts = cells.setdefault(key, [0, 0])
                    counts[0] += api
                    counts[1] += total
        for (grain, region, dimension, value_of), (api, total) in cells.items():
            rows.append(
                _metric_row(
                    "automatic_share", end, grain, region, None, dimension, value_of, api, total, _share(api, total)
                )
            )

        # delay_median_hours: a quantile (no numerator), nationally by channel.
        entries = 0
        for channel in ("api", "portal"):
            count, hours = delay_entries(channel, index)
            entries += count
            rows.append(
                _metric_row("delay_median_hours", end, "national", None, None, "channel", channel, None, count, hours)
            )
        rows.append(
            _metric_row(
                "delay_median_hours", end, "national", None, None, "total", "all", None, entries, DELAY_TOTAL_HOURS
            )
        )

        # api_organisations: a count (no denominator).
        count = api_organisations(index)
        rows.append(_metric_row("api_organisations", end, "national", None, None, "total", "all", count, None, count))
        for product, count in api_organisations_by_product(index).items():
            rows.append(
                _metric_row(
                    "api_organisations", end, "national", None, None, "epj_product", product, count, None, count
                )
            )

    for year_end, (budget, new_persons) in COST_YEARS.items():
        rows.append(
            _metric_row(
                "cost_per_new_person",
                year_end,
                "national",
                None,
                None,
                "total",
                "all",
                budget,
                new_persons,
                budget / new_persons,
                period="year",
            )
        )
    return rows


def _fill_metrics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE metrics ({METRICS_COLUMNS})")
    con.executemany(f"INSERT INTO metrics VALUES ({', '.join('?' * 11)})", metric_rows())
    con.execute(
        "CREATE TABLE metric_definitions (metric_id VARCHAR, name_nb VARCHAR, definition VARCHAR, "
        "numerator VARCHAR, denominator VARCHAR, unit VARCHAR, grains VARCHAR, dimensions VARCHAR, "
        "mandate VARCHAR, source_model VARCHAR, up_is_good BOOLEAN, overview_position INTEGER, periods VARCHAR, "
        "latest_period_end DATE)"
    )
    for d in METRIC_DEFINITIONS:
        con.execute(
            "INSERT INTO metric_definitions SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "string_agg(DISTINCT period, ',' ORDER BY period), max(period_end) "
            "FROM metrics WHERE metric_id = ?",
            [
                d.metric_id,
                d.name_nb,
                d.definition,
                d.numerator,
                d.denominator,
                d.unit,
                d.grains,
                d.dimensions,
                d.mandate,
                f"metric_{d.metric_id}",
                d.up_is_good,
                d.overview_position,
                d.metric_id,
            ],
        )


# --- Evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalRow:
    goal_id: str
    metric_id: str
    area: str
    baseline_value: float
    target_value: float
    latest_value: float | None  # None: published hidden, as its cell of the metrics mart
    forecast_at_target: float | None  # None: too short a series for a forecast
    lower_at_target: float | None
    upper_at_target: float | None
    status: str


GOAL_BASELINE_DATE = date(2024, 1, 31)
GOAL_TARGET_DATE = date(2029, 12, 31)
GOALS_VERSION = "1"
BACKTESTED_MONTHS = 12  # the forecast intervals were checked against history up to 12 months ahead
FORECAST_METHOD = "Linear trend (least squares) on the last 12 months; 80 % interval from backtest errors."


def national_coverage_need(index: int) -> float:
    persons_ = sum(persons(c, index) for c in COUNTIES)
    population = sum(c.population for c in COUNTIES)
    return 100.0 * persons_ / (population * NEED_SHARE)


def region_coverage_need(region: str, index: int) -> float:
    counties = [c for c in COUNTIES if c.region == region]
    return 100.0 * sum(persons(c, index) for c in counties) / (sum(c.population for c in counties) * NEED_SHARE)


def national_automatic_share(index: int) -> float:
    entries = [automatic_entries(r, o, index) for r in REGIONS for o in ORGANISATION_TYPES]
    return 100.0 * sum(api for api, _ in entries) / sum(total for _, total in entries)


GOALS = (
    GoalRow(
        "coverage-need-national",
        "registration_coverage_need",
        "national",
        40,
        75,
        national_coverage_need(12),
        96.0,
        81.5,
        110.2,
        "on_track",
    ),
    GoalRow(
        "coverage-need-helse-nord",
        "registration_coverage_need",
        "helse-nord",
        40,
        75,
        region_coverage_need("helse-nord", 12),
        58.0,
        50.0,
        66.0,
        "off_track",
    ),
    GoalRow(
        "automatic-share-national",
        "automatic_share",
        "national",
        0,
        80,
        national_automatic_share(12),
        71.0,
        55.0,
        88.0,
        "at_risk",
    ),
    GoalRow(
        "delay-median-national",
        "delay_median_hours",
        "national",
        30,
        12,
        DELAY_TOTAL_HOURS,
        None,
        None,
        None,
        "insufficient_data",
    ),
    GoalRow("api-organisations-national", "api_organisations", "national", 0, 50, None, 40.0, 20.0, 60.0, "at_risk"),
)
FORECAST_MONTHS = 6  # the forecast paths: 6 month ends after REFERENCE, then the target date


def forecast_path(goal: GoalRow) -> list[tuple[date, float, float, float]]:
    """(period_end, forecast, lower, upper): straight from the latest value to the forecast at
    the target, the interval widening from nothing; none without a forecast."""
    if goal.forecast_at_target is None:
        return []
    start = goal.baseline_value if goal.latest_value is None else goal.latest_value
    ends = [*month_ends_after(REFERENCE, FORECAST_MONTHS), GOAL_TARGET_DATE]
    path = []
    for step, end in enumerate(ends, start=1):
        share = step / len(ends)
        forecast = start + (goal.forecast_at_target - start) * share
        path.append(
            (
                end,
                forecast,
                forecast - (goal.forecast_at_target - goal.lower_at_target) * share,
                forecast + (goal.upper_at_target - goal.forecast_at_target) * share,
            )
        )
    return path


def month_ends_after(day: date, count: int) -> list[date]:
    ends = []
    for i in range(1, count + 1):
        year, month0 = divmod(day.month - 1 + i + 1, 12)
        first_of_next = date(day.year + year, month0 + 1, 1)
        ends.append(date.fromordinal(first_of_next.toordinal() - 1))
    return ends


# The rollout effect: (estimand, description, estimate, ci_low, ci_high).
ROLLOUT_EFFECTS = (
    ("relative_change_from_month_12", "Relative change from month 12 after go-live on.", 0.312, 0.184, 0.451),
    ("relative_change_months_0_to_11", "Relative change in the first 12 months from go-live.", 0.143, 0.052, 0.241),
)
ROLLOUT_METHOD = "Event study by imputation; 95 % interval: block bootstrap of residuals."
# The event study: event_month -> (estimate, ci_low, ci_high, regions).
EVENT_STUDY = {
    -3: (0.012, -0.061, 0.088, 4),
    -2: (-0.020, -0.090, 0.051, 4),
    -1: (0.004, -0.070, 0.079, 4),
    0: (0.051, -0.030, 0.137, 4),
    1: (0.122, 0.030, 0.220, 4),
    2: (0.201, 0.101, 0.310, 3),
}


def _fill_evaluation(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA evaluation")
    con.execute(
        "CREATE TABLE evaluation.goal_status (goal_id VARCHAR, metric_id VARCHAR, area VARCHAR, "
        "baseline_value DOUBLE, baseline_date DATE, target_value DOUBLE, target_date DATE, "
        "latest_value DOUBLE, latest_period_end DATE, forecast_at_target DOUBLE, "
        "lower_at_target DOUBLE, upper_at_target DOUBLE, status VARCHAR, backtested_months INTEGER, method VARCHAR, "
        "illustrative BOOLEAN, goals_version VARCHAR)"
    )
    con.execute(
        "CREATE TABLE evaluation.goal_forecasts (goal_id VARCHAR, period_end DATE, forecast DOUBLE, "
        "lower DOUBLE, upper DOUBLE)"
    )
    for goal in GOALS:
        con.execute(
            "INSERT INTO evaluation.goal_status VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                goal.goal_id,
                goal.metric_id,
                goal.area,
                goal.baseline_value,
                GOAL_BASELINE_DATE,
                goal.target_value,
                GOAL_TARGET_DATE,
                goal.latest_value,
                REFERENCE,
                goal.forecast_at_target,
                goal.lower_at_target,
                goal.upper_at_target,
                goal.status,
                None if goal.forecast_at_target is None else BACKTESTED_MONTHS,
                FORECAST_METHOD,
                True,
                GOALS_VERSION,
            ],
        )
        for point in forecast_path(goal):
            con.execute("INSERT INTO evaluation.goal_forecasts VALUES (?, ?, ?, ?, ?)", [goal.goal_id, *point])
    con.execute(
        "CREATE TABLE evaluation.rollout_effect (estimand VARCHAR, description VARCHAR, "
        "estimate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, confidence_level DOUBLE, method VARCHAR, "
        "n_regions INTEGER, n_months INTEGER)"
    )
    con.executemany(
        "INSERT INTO evaluation.rollout_effect VALUES (?, ?, ?, ?, ?, 0.95, ?, 4, 30)",
        [(*effect, ROLLOUT_METHOD) for effect in ROLLOUT_EFFECTS],
    )
    con.execute(
        "CREATE TABLE evaluation.rollout_event_study (event_month INTEGER, estimate DOUBLE, "
        "ci_low DOUBLE, ci_high DOUBLE, n_regions INTEGER)"
    )
    con.executemany(
        "INSERT INTO evaluation.rollout_event_study VALUES (?, ?, ?, ?, ?)",
        [(month, *values) for month, values in EVENT_STUDY.items()],
    )
