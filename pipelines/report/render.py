"""The evaluation package's report for the ministry: ``report.html`` and ``report.pdf``.

Written in bokmål for a reader who is not a statistician, following the reporting cycle of the
mandate (section 6): status per goal, progress since the previous report, deviations, risk,
economy, the quality of the data, revisions and the analyst's commentary (risk-reducing measures
are people's judgement, so the platform only carries them over from ``commentary.md``).

Reads nothing but the package: ``datapackage.json`` (its ``kritinfo`` section), ``data/*.parquet``
and the optional ``commentary.md``. Every number is written by pipelines/nb_format.py.

Disclosure: the package's tables already hide small counts (NULL, printed ``:``), but the
``quality`` section of datapackage.json and the sums over the data-quality tables are raw counts.
Every count printed here goes through ``Counts``: a count from 1 to the suppression threshold is
printed ``:``, and a total whose parts include a hidden one is hidden too, so that it cannot be
recovered by subtraction.
"""

from __future__ import annotations

import calendar
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter

from pipelines import nb_format as fmt
from pipelines.report.document import Block, Bullets, Figure, Heading, Paragraph, Table, to_html, to_pdf

DEFAULT_SUPPRESSION_THRESHOLD = 4
NATIONAL = "national"
NATIONAL_NAME = "hele landet"
REPORT_TITLE = "Pasientens kritiske informasjon – statusrapport"

STATUS_WORDS = {
    "on_track": "i rute",
    "at_risk": "risiko for å ikke nå målet",
    "off_track": "ikke i rute",
    "met": "nådd",
    "missed": "ikke nådd",
    "insufficient_data": "for lite data til en prognose",
}
DEVIATING_STATUSES = ("at_risk", "off_track", "missed")

SECTION_STATUS = "Status per mål"
SECTION_PROGRESS = "Framdrift siden forrige rapport"
SECTION_DEVIATIONS = "Avvik"
SECTION_RISK = "Risiko"
SECTION_ECONOMY = "Økonomi"
SECTION_QUALITY = "Kvalitet i datagrunnlaget"
SECTION_REVISIONS = "Revisjoner"
SECTION_COMMENTARY = "Kommentar fra analytiker"
SECTION_ABOUT = "Om rapporten"
SECTIONS = (
    SECTION_STATUS,
    SECTION_PROGRESS,
    SECTION_DEVIATIONS,
    SECTION_RISK,
    SECTION_ECONOMY,
    SECTION_QUALITY,
    SECTION_REVISIONS,
    SECTION_COMMENTARY,
    SECTION_ABOUT,
)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def reference_month_of(as_of: date) -> date:
    """The last complete month on ``as_of`` (its last day): the month itself when ``as_of`` is
    its last day, else the month before."""
    if as_of == month_end(as_of):
        return as_of
    return as_of.replace(day=1) - timedelta(days=1)


def _parse_month(text: str | None) -> date | None:
    return None if text is None else month_end(datetime.strptime(text, "%Y-%m").date())


def _parse_day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


class Package:
    """One evaluation package, its tables as DuckDB views over the Parquet files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.datapackage = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
        self.meta: dict = self.datapackage["kritinfo"]
        self.as_of = date.fromisoformat(self.meta["as_of"])
        self.reference_month = _parse_month(self.meta.get("reference_month"))
        self.previous_package = _parse_day(self.meta.get("previous_package"))
        self.meeting_date = _parse_day(self.meta.get("meeting_date"))
        self.threshold = int(self.meta.get("suppression_threshold") or DEFAULT_SUPPRESSION_THRESHOLD)
        self.con = duckdb.connect()
        self.tables: set[str] = set()
        for path in sorted((directory / "data").glob("*.parquet")):
            quoted = path.as_posix().replace("'", "''")
            self.con.execute(f"CREATE VIEW \"{path.stem}\" AS SELECT * FROM read_parquet('{quoted}')")
            self.tables.add(path.stem)

    def has(self, table: str) -> bool:
        return table in self.tables

    def query(self, sql: str, *params: object) -> pd.DataFrame:
        """Rows as a DataFrame, DATE columns as ``datetime.date`` (None when NULL), as written."""
        frame = self.con.execute(sql, list(params)).df()
        for column in frame.columns[frame.dtypes.map(pd.api.types.is_datetime64_any_dtype)]:
            frame[column] = [None if pd.isna(value) else value.date() for value in frame[column]]
        return frame

    def commentary(self) -> str | None:
        path = self.directory / "commentary.md"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def close(self) -> None:
        self.con.close()


@dataclass(frozen=True)
class Counts:
    """Prints counts without disclosing small ones (module docstring)."""

    threshold: int

    def is_small(self, value: object) -> bool:
        return not fmt.is_missing(value) and 1 <= abs(float(value)) <= self.threshold

    def hidden(self, value: object) -> bool:
        return fmt.is_missing(value) or self.is_small(value)

    def text(self, value: object, *, signed: bool = False) -> str:
        return fmt.SUPPRESSED if self.hidden(value) else fmt.number(value, signed=signed)


class Metrics:
    """Names and units of the metric registry, and how each unit's values are written."""

    def __init__(self, package: Package, counts: Counts) -> None:
        self.counts = counts
        self.names: dict[str, str] = {}
        self.units: dict[str, str] = {}
        if package.has("metric_definitions"):
            for row in package.query("SELECT metric_id, name_nb, unit FROM metric_definitions").itertuples():
                self.names[row.metric_id] = row.name_nb
                self.units[row.metric_id] = row.unit

    def name(self, metric_id: str) -> str:
        return self.names.get(metric_id, metric_id)

    def value(self, metric_id: str, value: object) -> str:
        unit = self.units.get(metric_id)
        if fmt.is_missing(value):
            return fmt.SUPPRESSED
        if unit == "prosent":
            return fmt.percent(value)
        if unit == "timer":
            return f"{fmt.number(value, 1)}{fmt.NBSP}timer"
        if unit == "kroner per person":
            return f"{fmt.number(value)}{fmt.NBSP}kr"
        return self.counts.text(value)  # a count: persons, organisations, systems

    def change(self, metric_id: str, now: object, before: object) -> str:
        if fmt.is_missing(now) or fmt.is_missing(before):
            return fmt.SUPPRESSED
        difference = float(now) - float(before)
        unit = self.units.get(metric_id)
        if unit == "prosent":
            return fmt.percentage_points(difference)
        if unit == "timer":
            return f"{fmt.number(difference, 1, signed=True)}{fmt.NBSP}timer"
        if unit == "kroner per person":
            return f"{fmt.number(difference, signed=True)}{fmt.NBSP}kr"
        # A change from or to a hidden count would give it back, and so would a small change
        # (who joined or left).
        if self.counts.hidden(now) or self.counts.hidden(before):
            return fmt.SUPPRESSED
        return self.counts.text(difference, signed=True)


class Report:
    """Builds the report's blocks from one package."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.counts = Counts(package.threshold)
        self.metrics = Metrics(package, self.counts)
        self.regions = self._region_names()
        self.goals = self._goals()
        self.blocks: list[Block] = []
        self.figures = 0

    # -- reading ---------------------------------------------------------------------------

    def _region_names(self) -> dict[str, str]:
        names = {NATIONAL: NATIONAL_NAME}
        if self.package.has("coverage_by_region_month"):
            rows = self.package.query("SELECT DISTINCT health_region, health_region_name FROM coverage_by_region_month")
            names.update(zip(rows["health_region"], rows["health_region_name"], strict=True))
        return names

    def _goals(self) -> pd.DataFrame:
        if not self.package.has("goal_status"):
            return pd.DataFrame()
        return self.package.query("SELECT * FROM goal_status ORDER BY area <> 'national', metric_id, area")

    def area_name(self, area: str) -> str:
        return self.regions.get(area, area)

    @property
    def previous_reference_month(self) -> date | None:
        """The month the previous package reported last (capped at this package's); without a
        previous package, the month before this one's, so that progress is still shown."""
        current = self.package.reference_month
        if current is None:
            return None
        if self.package.previous_package is None:
            return reference_month_of(current.replace(day=1) - timedelta(days=1))
        return min(reference_month_of(self.package.previous_package), current)

    def national_series(self, metric_id: str) -> pd.DataFrame:
        if not self.package.has("metrics") or self.package.reference_month is None:
            return pd.DataFrame(columns=["period_end", "value"])
        return self.package.query(
            """
            SELECT period_end, value FROM metrics
            WHERE metric_id = ? AND grain = 'national' AND dimension_name = 'total' AND period = 'month'
              AND period_end <= ?
            ORDER BY period_end
            """,
            metric_id,
            self.package.reference_month,
        )

    def compared_values(self, metric_id: str | None = None, area: str | None = None) -> pd.DataFrame:
        """Monthly totals now (the reference month) and as the previous package published the
        previous reference month (its revised cells' previous values), per metric and area;
        ``has_now``/``has_before`` tell a hidden value (NULL) from a month without a row."""
        now, before = self.package.reference_month, self.previous_reference_month
        if now is None or not self.package.has("metrics"):
            return pd.DataFrame(columns=["metric_id", "area", "now", "before", "has_now", "has_before"])
        revisions = (
            "revisions"
            if self.package.has("revisions")
            else (
                "(SELECT NULL::VARCHAR AS metric_id, NULL::DATE AS period_end, NULL::VARCHAR AS period, "
                "NULL::VARCHAR AS grain, NULL::VARCHAR AS health_region, NULL::VARCHAR AS county_code, "
                "NULL::VARCHAR AS dimension_name, NULL::VARCHAR AS dimension_value, NULL::DOUBLE AS previous_value "
                "WHERE false)"
            )
        )
        return self.package.query(
            f"""
            WITH cells AS (
                SELECT m.metric_id, coalesce(m.health_region, 'national') AS area, m.period_end,
                       m.value,
                       CASE WHEN r.metric_id IS NULL THEN m.value ELSE r.previous_value END AS published_value
                FROM metrics m
                LEFT JOIN {revisions} r
                  ON r.metric_id = m.metric_id AND r.period_end = m.period_end AND r.period = m.period
                 AND r.grain = m.grain AND r.health_region IS NOT DISTINCT FROM m.health_region
                 AND r.county_code IS NOT DISTINCT FROM m.county_code
                 AND r.dimension_name = m.dimension_name AND r.dimension_value = m.dimension_value
                WHERE m.period = 'month' AND m.grain IN ('national', 'region') AND m.dimension_name = 'total'
                  AND m.period_end IN (?, ?)
                  AND (? IS NULL OR m.metric_id = ?)
                  AND (? IS NULL OR coalesce(m.health_region, 'national') = ?)
            )
            SELECT metric_id, area,
                   any_value(value) FILTER (WHERE period_end = ?) AS now,
                   any_value(published_value) FILTER (WHERE period_end = ?) AS before,
                   bool_or(period_end = ?) AS has_now,
                   bool_or(period_end = ?) AS has_before
            FROM cells GROUP BY metric_id, area
            """,
            now,
            before,
            metric_id,
            metric_id,
            area,
            area,
            now,
            before,
            now,
            before,
        )

    # -- writing ---------------------------------------------------------------------------

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def figure(self, png: bytes, caption: str) -> None:
        self.figures += 1
        self.add(Figure(png, f"Figur {self.figures}: {caption}"))

    def goal_value(self, goal: pd.Series, value: object) -> str:
        return self.metrics.value(goal["metric_id"], value)

    def target_value(self, goal: pd.Series) -> str:
        """The target as set in goals.yml: ``75 %`` rather than ``75,0 %``."""
        value = goal["target_value"]
        if self.metrics.units.get(goal["metric_id"]) == "prosent" and float(value).is_integer():
            return fmt.percent(value, 0)
        return self.goal_value(goal, value)

    def goal_label(self, goal: pd.Series) -> str:
        return f"{self.metrics.name(goal['metric_id'])}, {self.area_name(goal['area'])}"

    def target_time(self, target: date) -> str:
        return (
            f"ved utgangen av {target.year}" if (target.month, target.day) == (12, 31) else f"innen {fmt.day(target)}"
        )

    def forecast_sentence(self, goal: pd.Series) -> str:
        target = f"målet er {self.target_value(goal)}"
        when = self.target_time(goal["target_date"])
        status = goal["status"]
        if status in ("met", "missed"):
            return f"Måldatoen er passert; {target}, og det ble {STATUS_WORDS[status]}."
        if status == "insufficient_data" or fmt.is_missing(goal["forecast_at_target"]):
            return f"Det er for lite data til en prognose; {target} {when}."
        return (
            f"Ved dagens utvikling ventes {self.goal_value(goal, goal['forecast_at_target'])} {when} "
            f"(trolig mellom {self.goal_value(goal, goal['lower_at_target'])} og "
            f"{self.goal_value(goal, goal['upper_at_target'])}); {target}."
        )

    def latest_value(self, goal: pd.Series) -> str:
        """``:`` when the latest value is hidden, ``..`` when there is none yet."""
        if fmt.is_missing(goal["latest_period_end"]):
            return fmt.NOT_AVAILABLE
        return self.goal_value(goal, goal["latest_value"])

    def latest_sentence(self, goal: pd.Series) -> str:
        if fmt.is_missing(goal["latest_period_end"]):
            return "Ingen verdi er publisert ennå."
        return f"Siste verdi er {self.latest_value(goal)} ({fmt.month(goal['latest_period_end'])})."

    # -- sections --------------------------------------------------------------------------

    def title(self) -> None:
        package = self.package
        self.add(Heading(1, report_title(package)))
        reference = (
            f"Tallene gjelder til og med {fmt.month(package.reference_month)}"
            if package.reference_month
            else "Ingen hel måned er rapportert ennå"
        )
        meeting = (
            f" Rapporten er laget til oppfølgingsmøtet {fmt.day(package.meeting_date)}." if package.meeting_date else ""
        )
        self.add(
            Paragraph(f"**{reference}.** Data levert til og med {fmt.day(package.as_of)} er med.{meeting}"),
            Paragraph(
                f"Tegn i tabellene: «{fmt.SUPPRESSED}» betyr at tallet er skjult for å verne personvernet "
                f"(antall fra 1 til {package.threshold}, og tall som ville avsløre dem); "
                f"«{fmt.NOT_AVAILABLE}» betyr at tallet ikke finnes. «pp» er prosentpoeng.",
                small=True,
            ),
        )
        self.summary()

    def summary(self) -> None:
        items = []
        if not self.goals.empty:
            by_status = self.goals["status"].value_counts()
            parts = [f"{fmt.number(n)} {STATUS_WORDS.get(s, s)}" for s, n in by_status.items()]
            items.append(f"{fmt.number(len(self.goals))} mål følges opp: " + ", ".join(parts) + ".")
        if not self.goals.empty:
            for _, goal in self.goals[self.goals["area"] == NATIONAL].iterrows():
                items.append(f"{self.goal_label(goal)}: {self.latest_sentence(goal)}")
        if items:
            self.add(Heading(2, "Sammendrag"), Bullets(items))

    def status(self) -> None:
        self.add(Heading(2, SECTION_STATUS))
        if self.goals.empty:
            self.add(Paragraph("Pakken har ingen mål med status."))
            return
        if self.goals["illustrative"].any():
            version = self.package.meta.get("goals_version") or fmt.NOT_AVAILABLE
            self.add(
                Paragraph(
                    "Målene er illustrative: de offisielle effekt- og resultatmålene er ikke fastsatt ennå "
                    f"(mandatet, punkt 3). Målene følger versjon {version} av målfila.",
                    small=True,
                )
            )
        rows = [
            [
                self.metrics.name(goal["metric_id"]),
                self.area_name(goal["area"]),
                self.latest_value(goal),
                f"{self.target_value(goal)} {self.target_time(goal['target_date'])}",
                fmt.NOT_AVAILABLE
                if fmt.is_missing(goal["forecast_at_target"])
                else self.goal_value(goal, goal["forecast_at_target"]),
                STATUS_WORDS.get(goal["status"], goal["status"]),
            ]
            for _, goal in self.goals.iterrows()
        ]
        self.add(
            Table(
                ["Indikator", "Område", "Siste verdi", "Mål", "Prognose", "Status"],
                rows,
                caption="Tabell: Mål, siste verdi, prognose ved måldato og status",
                numeric_columns=frozenset({2, 4}),
            )
        )
        self.add(
            Bullets(
                [
                    f"**{self.goal_label(goal)}:** {self.latest_sentence(goal)} {self.forecast_sentence(goal)} "
                    f"Status: {STATUS_WORDS.get(goal['status'], goal['status'])}."
                    for _, goal in self.goals.iterrows()
                ]
            )
        )
        self.add(
            Paragraph(
                "Prognosen forlenger utviklingen de siste tolv månedene i en rett linje. «Trolig mellom» er et "
                "80 % prognoseintervall: i tester på tidligere måneder havnet utfallet innenfor slike intervaller "
                "omtrent fire av fem ganger. Et mål er i rute når også den svake enden av intervallet når målet, "
                "og ikke i rute når heller ikke den sterke enden gjør det.",
                small=True,
            )
        )
        for _, goal in self.goals[self.goals["area"] == NATIONAL].iterrows():
            chart = self.goal_chart(goal)
            if chart:
                self.figure(
                    chart,
                    f"{self.metrics.name(goal['metric_id'])}, hele landet, per måned, med prognose "
                    f"(trolig intervall skravert) og målet {self.target_value(goal)}.",
                )

    def goal_chart(self, goal: pd.Series) -> bytes | None:
        series = self.national_series(goal["metric_id"]).dropna()
        if series.empty:
            return None
        forecasts = (
            self.package.query(
                "SELECT period_end, forecast, lower, upper FROM goal_forecasts WHERE goal_id = ? ORDER BY period_end",
                goal["goal_id"],
            )
            if self.package.has("goal_forecasts")
            else pd.DataFrame()
        )
        percent = self.metrics.units.get(goal["metric_id"]) == "prosent"
        figure = MplFigure(figsize=(9, 4.5), dpi=120)
        axes = figure.add_subplot()
        axes.plot(pd.to_datetime(series["period_end"]), series["value"], color="#1f4e79", linewidth=2, label="Målt")
        if not forecasts.empty:
            when = pd.to_datetime(forecasts["period_end"])
            axes.plot(when, forecasts["forecast"], color="#1f4e79", linestyle="--", linewidth=1.5, label="Prognose")
            axes.fill_between(
                when, forecasts["lower"], forecasts["upper"], color="#1f4e79", alpha=0.15, label="Trolig intervall"
            )
        axes.axhline(goal["target_value"], color="#b34700", linewidth=1.2, label="Mål")
        axes.plot([pd.Timestamp(goal["target_date"])], [goal["target_value"]], marker="o", color="#b34700")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.percent(v, 0) if percent else fmt.number(v)))
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", color="#dddddd")
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(labelsize=11)
        axes.legend(fontsize=10, frameon=False, loc="upper left")
        axes.set_title(f"{self.metrics.name(goal['metric_id'])}, hele landet", fontsize=13, loc="left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def progress(self) -> None:
        self.add(Heading(2, SECTION_PROGRESS))
        now, before = self.package.reference_month, self.previous_reference_month
        if now is None:
            self.add(Paragraph("Ingen hel måned er rapportert ennå, så det er ingen framdrift å vise."))
            return
        if self.package.previous_package is None:
            self.add(
                Paragraph(f"Dette er den første rapporten. Tallene for {fmt.month(now)} sammenlignes med måneden før.")
            )
        else:
            self.add(
                Paragraph(
                    f"Nøkkeltall for hele landet i {fmt.month(now)}, sammenlignet med {fmt.month(before)} slik "
                    f"tallet sto i forrige rapport ({fmt.day(self.package.previous_package)})."
                )
            )
        values = self.compared_values()
        values = values[values["area"] == NATIONAL]
        values = values.assign(name=values["metric_id"].map(self.metrics.name)).sort_values("name")
        rows = [
            [
                row.name,
                self.metrics.value(row.metric_id, row.before) if row.has_before else fmt.NOT_AVAILABLE,
                self.metrics.value(row.metric_id, row.now) if row.has_now else fmt.NOT_AVAILABLE,
                self.metrics.change(row.metric_id, row.now, row.before)
                if row.has_now and row.has_before
                else fmt.NOT_AVAILABLE,
            ]
            for row in values.itertuples()
        ]
        if not rows:
            self.add(Paragraph("Pakken har ingen månedstall for hele landet."))
            return
        self.add(
            Table(
                ["Indikator", f"Forrige rapport ({fmt.month(before)})", f"Nå ({fmt.month(now)})", "Endring"],
                rows,
                caption=f"Tabell: Nøkkeltall for hele landet, {fmt.month(before)} og {fmt.month(now)}",
                numeric_columns=frozenset({1, 2, 3}),
            )
        )

    def planned_value(self, goal: pd.Series) -> float | None:
        """The value on the straight line from the goal's baseline to its target, at the latest
        period: where the goal would be if it were reached at an even pace."""
        if fmt.is_missing(goal["latest_period_end"]) or fmt.is_missing(goal["latest_value"]):
            return None
        start, end, at = goal["baseline_date"], goal["target_date"], goal["latest_period_end"]
        share = min(max((at - start).days / (end - start).days, 0.0), 1.0)
        return goal["baseline_value"] + share * (goal["target_value"] - goal["baseline_value"])

    def deviations(self) -> None:
        self.add(Heading(2, SECTION_DEVIATIONS))
        if self.goals.empty:
            self.add(Paragraph("Pakken har ingen mål å måle avvik mot."))
            return
        rows, behind = [], []
        for _, goal in self.goals.iterrows():
            planned = self.planned_value(goal)
            if planned is None:
                continue
            gap = goal["latest_value"] - planned
            higher_is_better = goal["target_value"] >= goal["baseline_value"]
            if (gap < 0) == higher_is_better and gap != 0:
                behind.append(goal)
            change = (
                fmt.percentage_points(gap)
                if self.metrics.units.get(goal["metric_id"]) == "prosent"
                else self.metrics.change(goal["metric_id"], goal["latest_value"], planned)
            )
            rows.append([self.goal_label(goal), self.latest_value(goal), self.goal_value(goal, planned), change])
        self.add(
            Paragraph(
                "Avvik er forskjellen mellom siste verdi og der målet ville vært med jevn framdrift fra "
                "utgangspunktet til måldatoen (en rett linje)."
            )
        )
        if rows:
            self.add(
                Table(
                    ["Mål", "Siste verdi", "Jevn framdrift", "Avvik"],
                    rows,
                    caption="Tabell: Siste verdi mot jevn framdrift mot målet",
                    numeric_columns=frozenset({1, 2, 3}),
                )
            )
        deviating = self.goals[self.goals["status"].isin(DEVIATING_STATUSES)]
        if deviating.empty:
            self.add(Paragraph("Ingen mål har status «risiko for å ikke nå målet» eller «ikke i rute»."))
        else:
            self.add(
                Paragraph("Mål der prognosen viser avvik fra målet:"),
                Bullets(
                    [f"{self.goal_label(goal)}: {STATUS_WORDS[goal['status']]}" for _, goal in deviating.iterrows()]
                ),
            )
        against = self.moving_against_goals()
        if against:
            self.add(
                Paragraph("Indikatorer som har gått i motsatt retning av målet siden forrige rapport:"),
                Bullets(against),
            )
        else:
            self.add(Paragraph("Ingen målindikator har gått i motsatt retning av målet siden forrige rapport."))

    def moving_against_goals(self) -> list[str]:
        items = []
        for _, goal in self.goals.iterrows():
            values = self.compared_values(goal["metric_id"], goal["area"])
            if values.empty or values[["now", "before"]].isna().any(axis=None):
                continue
            now, before = values.iloc[0]["now"], values.iloc[0]["before"]
            higher_is_better = goal["target_value"] >= goal["baseline_value"]
            if (now < before) if higher_is_better else (now > before):
                items.append(
                    f"{self.goal_label(goal)}: fra {self.goal_value(goal, before)} til {self.goal_value(goal, now)} "
                    f"({self.metrics.change(goal['metric_id'], now, before)})"
                )
        return items

    def risk(self) -> None:
        self.add(Heading(2, SECTION_RISK))
        risky = self.goals[self.goals["status"].isin(("at_risk", "off_track"))] if not self.goals.empty else None
        if risky is None:
            self.add(Paragraph("Pakken har ingen mål med prognose, så risikoen kan ikke vurderes ut fra tallene."))
        elif risky.empty:
            self.add(Paragraph("Prognosene viser ingen mål med risiko for å ikke bli nådd."))
        else:
            self.add(
                Paragraph(
                    f"{fmt.number(len(risky))} av {fmt.number(len(self.goals))} mål står i fare for ikke å bli nådd:"
                ),
                Bullets(
                    [
                        f"**{self.goal_label(goal)}** ({STATUS_WORDS[goal['status']]}). {self.forecast_sentence(goal)}"
                        for _, goal in risky.iterrows()
                    ]
                ),
            )
        self.add(
            Paragraph(
                "Plattformen måler og varsler, men vurderer ikke tiltak: risikoreduserende tiltak står i "
                f"analytikerens kommentar («{SECTION_COMMENTARY}»)."
            )
        )

    def economy(self) -> None:
        self.add(Heading(2, SECTION_ECONOMY))
        if not self.package.has("metrics"):
            self.add(Paragraph("Pakken har ingen tall for økonomi."))
            return
        # The economy metric is the registry's cost per person (budget over new persons), found by
        # its unit so that the report names no metric id.
        years = self.package.query(
            """
            SELECT metric_id, period_end, numerator, denominator, value FROM metrics
            WHERE metric_id = (SELECT min(metric_id) FROM metric_definitions WHERE unit = 'kroner per person')
              AND period = 'year' AND grain = 'national' AND dimension_name = 'total'
            ORDER BY period_end
            """
        )
        if years.empty:
            self.add(Paragraph("Pakken har ingen tall for kostnad per nyregistrert person."))
            return
        rows = []
        for row in years.itertuples():
            # Budget / cost would give back a hidden number of persons: hide the cost with them.
            persons_hidden = self.counts.hidden(row.denominator)
            cost = fmt.SUPPRESSED if persons_hidden else self.metrics.value(row.metric_id, row.value)
            rows.append(
                [
                    str(row.period_end.year),
                    f"{fmt.number(row.numerator)}{fmt.NBSP}kr",
                    self.counts.text(row.denominator),
                    cost,
                ]
            )
        self.add(
            Paragraph(
                "Kostnad per nyregistrert person er årets ramme (mandatets tabell 1) delt på antall personer "
                "som fikk kritisk informasjon registrert for første gang i året."
            )
        )
        self.add(
            Table(
                ["År", "Ramme", "Nye personer", "Kostnad per ny person"],
                rows,
                caption="Tabell: Ramme, nye personer og kostnad per ny person",
                numeric_columns=frozenset({1, 2, 3}),
            )
        )
        current = self.package.reference_month
        if current is not None and years.iloc[-1]["period_end"] > current:
            self.add(
                Paragraph(
                    f"{years.iloc[-1]['period_end'].year} er ikke omme: rammen er regnet for de rapporterte "
                    f"månedene (til og med {fmt.month(current)}), og nye personer er talt for de samme månedene.",
                    small=True,
                )
            )

    def quarantine_reasons(self) -> pd.DataFrame:
        """Lines quarantined per reason up to the as-of day, and the days whose count is hidden."""
        if not self.package.has("data_quality_by_reason_daily"):
            return pd.DataFrame(columns=["reason_label", "lines", "hidden_days"])
        return self.package.query(
            """
            SELECT reason_label, sum(lines) AS lines, count(*) FILTER (WHERE lines IS NULL) AS hidden_days
            FROM data_quality_by_reason_daily
            WHERE arrived_on <= ?
            GROUP BY reason_label
            HAVING sum(lines) > 0 OR hidden_days > 0
            ORDER BY lines DESC, reason_label
            """,
            self.package.as_of,
        )

    def quality(self) -> None:
        self.add(Heading(2, SECTION_QUALITY))
        quality = self.package.meta.get("quality") or {}
        counts = self.counts
        reasons = self.quarantine_reasons()
        # A reason with a hidden day has an unknown sum; a total with a hidden part is hidden too.
        reason_hidden = [
            days > 0 or counts.hidden(lines)
            for lines, days in zip(reasons["lines"], reasons["hidden_days"], strict=True)
        ]
        loaded, duplicates = quality.get("loaded"), quality.get("duplicates")
        lines_read, quarantined = quality.get("lines_read"), quality.get("quarantined")
        quarantine_hidden = counts.hidden(quarantined) or any(reason_hidden)
        lines_hidden = (
            counts.hidden(lines_read) or counts.hidden(loaded) or counts.hidden(duplicates) or quarantine_hidden
        )

        def shown(value: object, hidden: bool) -> str:
            return fmt.SUPPRESSED if hidden else fmt.number(value)

        if quality:
            self.add(
                Paragraph(
                    f"Til og med {fmt.day(self.package.as_of)} er det lest {counts.text(quality.get('files'))} filer "
                    f"med {shown(lines_read, lines_hidden)} linjer: {counts.text(loaded)} er lastet inn, "
                    f"{counts.text(duplicates)} var duplikater og {shown(quarantined, quarantine_hidden)} ble satt i "
                    "karantene fordi de ikke kunne brukes."
                )
            )
            balanced = lines_read == (loaded or 0) + (duplicates or 0) + (quarantined or 0)
            self.add(
                Paragraph(
                    "Avstemmingen går opp: leste linjer = innlastede + duplikater + karantene."
                    if balanced
                    else "Avstemmingen går ikke opp: leste linjer er ikke lik innlastede + duplikater + karantene. "
                    "Dette må undersøkes før tallene brukes."
                )
            )
        else:
            self.add(Paragraph("Pakken sier ikke hvor mange linjer som ble lest."))
        if not reasons.empty:
            rows = [
                [label, shown(lines, hidden)]
                for label, lines, hidden in zip(reasons["reason_label"], reasons["lines"], reason_hidden, strict=True)
            ]
            self.add(
                Table(
                    ["Årsak", "Linjer"],
                    rows,
                    caption="Tabell: Linjer i karantene etter årsak",
                    numeric_columns=frozenset({1}),
                )
            )
        late = quality.get("late_events")
        if self.package.previous_package is None:
            self.add(
                Paragraph(
                    "Dette er den første pakken, så ingen hendelser kan ha kommet for sent til en tidligere rapport."
                )
            )
        elif late == 0:
            self.add(
                Paragraph("Ingen hendelser for måneder som alt var rapportert, kom etter fristen for forrige rapport.")
            )
        else:
            self.add(
                Paragraph(
                    "Hendelser for måneder som alt var rapportert i forrige rapport, men som kom etter fristen for "
                    f"den: {counts.text(late)}. De er med nå, og kan ha endret tidligere tall "
                    f"(se «{SECTION_REVISIONS}»)."
                )
            )
        self.unusual_data()

    def unusual_data(self) -> None:
        if not self.package.has("data_quality_unusual_data"):
            return
        findings = self.package.query(
            "SELECT label_nb, unit_nb, count FROM data_quality_unusual_data "
            "WHERE count IS NULL OR count > 0 ORDER BY label_nb"
        )
        if findings.empty:
            self.add(Paragraph("Ingen uvanlige data er funnet."))
            return
        self.add(
            Paragraph("Uvanlige data som er talt med etter faste regler:"),
            Bullets([f"{row.label_nb}: {self.counts.text(row.count)} {row.unit_nb}" for row in findings.itertuples()]),
        )

    def revisions(self) -> None:
        self.add(Heading(2, SECTION_REVISIONS))
        if self.package.previous_package is None:
            self.add(Paragraph("Dette er den første pakken, så ingen tall er revidert."))
            return
        previous = fmt.day(self.package.previous_package)
        if not self.package.has("revisions"):
            self.add(Paragraph(f"Pakken har ingen oversikt over revisjoner mot pakken for {previous}."))
            return
        totals = self.package.query(
            """
            SELECT count(*) FILTER (WHERE difference <> 0) AS revised,
                   count(*) FILTER (WHERE difference <> 0 AND grain = 'national') AS revised_national,
                   count(*) FILTER (
                       WHERE difference IS NULL AND (previous_value IS NULL) <> (current_value IS NULL)
                   ) AS hidden_changed
            FROM revisions
            """
        ).iloc[0]
        if totals["revised"] == 0 and totals["hidden_changed"] == 0:
            self.add(Paragraph(f"Ingen tall er endret siden pakken for {previous}."))
            return
        self.add(
            Paragraph(
                f"{fmt.number(totals['revised'])} tall er endret siden pakken for {previous}, "
                f"{fmt.number(totals['revised_national'])} av dem for hele landet. Endringene kommer av data som kom "
                "etter forrige frist eller ble rettet."
            )
        )
        if totals["hidden_changed"]:
            self.add(
                Paragraph(
                    f"{fmt.number(totals['hidden_changed'])} tall er skjult i den ene pakken, men ikke i den andre."
                )
            )
        largest = self.package.query(
            """
            SELECT metric_id, period_end, period, previous_value, current_value, difference FROM revisions
            WHERE grain = 'national' AND dimension_name = 'total' AND difference <> 0
            ORDER BY abs(difference) / greatest(abs(previous_value), 1e-9) DESC, metric_id, period_end
            LIMIT 10
            """
        )
        if largest.empty:
            return
        rows = [
            [
                self.metrics.name(row.metric_id),
                fmt.period(row.period_end, row.period),
                self.metrics.value(row.metric_id, row.previous_value),
                self.metrics.value(row.metric_id, row.current_value),
                self.metrics.change(row.metric_id, row.current_value, row.previous_value),
            ]
            for row in largest.itertuples()
        ]
        self.add(
            Table(
                ["Indikator", "Periode", "Tidligere", "Nå", "Endring"],
                rows,
                caption="Tabell: De største revisjonene for hele landet (tidligere → nå)",
                numeric_columns=frozenset({2, 3, 4}),
            )
        )

    def commentary(self) -> None:
        self.add(Heading(2, SECTION_COMMENTARY))
        text = self.package.commentary()
        if text is None or not text.strip():
            self.add(
                Paragraph(
                    "Ingen kommentar er gitt til denne rapporten. Vurderinger av avvik og risikoreduserende tiltak "
                    "skrives av analytikeren i commentary.md i pakken."
                )
            )
            return
        self.add(*markdown_blocks(text))
        self.add(Paragraph("Kommentaren er skrevet av analytikeren og gjengitt som den er.", small=True))

    def about(self) -> None:
        meta = self.package.meta
        files = meta.get("input_files") or []
        cutoff = datetime.fromisoformat(meta["cutoff"]) if meta.get("cutoff") else None
        previous = self.package.previous_package
        items = [
            f"Frist for data: {fmt.timestamp(cutoff)}; det som var levert før dette, er med" if cutoff else None,
            f"Forrige pakke: {fmt.day(previous) if previous else 'ingen'}",
            f"Leveransefiler: {self.counts.text(len(files))}",
            f"Programversjon: {meta.get('code_version') or fmt.NOT_AVAILABLE}",
            f"Målversjon: {meta.get('goals_version') or fmt.NOT_AVAILABLE}",
            f"Kalenderversjon: {meta.get('calendar_version') or fmt.NOT_AVAILABLE}",
            f"Antall fra 1 til {self.package.threshold} vises ikke.",
        ]
        self.add(
            Heading(2, SECTION_ABOUT),
            Paragraph(
                "Rapporten er laget automatisk fra evalueringspakken, som også har tabellene den bygger på "
                "(Parquet, CSV og JSON-stat). Den viser bare summerte tall."
            ),
            Bullets([item for item in items if item]),
        )

    def build(self) -> list[Block]:
        self.title()
        self.status()
        self.progress()
        self.deviations()
        self.risk()
        self.economy()
        self.quality()
        self.revisions()
        self.commentary()
        self.about()
        return self.blocks


MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
MARKDOWN_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
MARKDOWN_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def markdown_blocks(text: str) -> list[Block]:
    """Simple Markdown: headings (all one level below the section's), paragraphs and lists."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[str] = []
    ordered = False

    def flush() -> None:
        nonlocal items
        if paragraph:
            blocks.append(Paragraph(" ".join(paragraph)))
            paragraph.clear()
        if items:
            blocks.append(Bullets(items, ordered))
            items = []

    for line in text.splitlines():
        stripped = line.strip()
        if heading := MARKDOWN_HEADING.match(stripped):
            flush()
            blocks.append(Heading(3, heading.group(1).strip()))
        elif (bullet := MARKDOWN_BULLET.match(line)) or (numbered := MARKDOWN_NUMBERED.match(line)):
            if paragraph:
                flush()
            is_ordered = bullet is None
            if items and ordered != is_ordered:
                flush()
            ordered = is_ordered
            items.append((bullet or numbered).group(1).strip())
        elif not stripped:
            flush()
        elif items:  # a continuation line of the last item
            items[-1] += " " + stripped
        else:
            paragraph.append(stripped)
    flush()
    return blocks


def report_title(package: Package) -> str:
    title = f"{REPORT_TITLE} {fmt.day(package.as_of)}"
    return f"{title} (tall for {fmt.month(package.reference_month)})" if package.reference_month else title


def write_report(package_dir: Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.pdf`` into the package; returns their paths."""
    package = Package(Path(package_dir))
    try:
        blocks = Report(package).build()
    finally:
        package.close()
    title = report_title(package)
    html_path, pdf_path = package.directory / "report.html", package.directory / "report.pdf"
    html_path.write_text(to_html(blocks, title), encoding="utf-8")
    pdf_path.write_bytes(to_pdf(blocks, title))
    return html_path, pdf_path
