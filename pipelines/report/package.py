"""Evaluation packages: the published tables as of a day, as files others can reuse and check.

``KRITINFO_HOME/evaluation/<D>/`` (read-only once written) holds

- ``data/<table>.parquet`` and ``csv/<table>.csv``: every published table known at the end of D
  (pipelines/report/as_of.py), with the serving copy's disclosure control, rows in a fixed order;
  the CSV for Norwegian Excel (``;``, decimal comma, UTF-8 with BOM, bokmål headers, ``:`` for a
  hidden cell, ``..`` where there is nothing to compute from);
- ``revisions``: every figure of the metrics the previous package (the calendar's report before D)
  published that these data changed: its old and new value and the difference, hidden cells kept
  hidden;
- ``metrics.jsonstat.json``: the metrics as a JSON-stat 2.0 dataset;
- ``datapackage.json`` (Frictionless Data Package): each file with its path, schema, units,
  definition and sha256; the cut-off, reference month, code, goals and calendar versions, and the
  input manifest (every file delivered by the cut-off, with its sha256);
- ``report.html`` and ``report.pdf`` (pipelines/report/render.py), and the analyst's
  ``commentary.md`` when ``KRITINFO_HOME/commentary/<D>.md`` existed when it was built.

The data files depend only on the deliveries known at the end of D (and the code, goals and
calendar versions), so a package rebuilt later is byte-identical: ``verify_package`` checks it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines import nb_format
from pipelines.evaluation.goals import Goals, load_goals
from pipelines.evaluation.tables import SCHEMA as EVALUATION_SCHEMA
from pipelines.ingest.landing import ready_files
from pipelines.publish.serving import published_tables, suppression_threshold
from pipelines.report.as_of import PackageError, build_as_of, cutoff_instant, late_events, reference_month_end
from pipelines.report.calendar import ReportingCalendar, load_calendar
from pipelines.settings import REPO_ROOT, Paths
from pipelines.transform.manifest import read_manifest

DATA_DIR, CSV_DIR = "data", "csv"
JSONSTAT_FILE = "metrics.jsonstat.json"
DATAPACKAGE_FILE = "datapackage.json"
COMMENTARY_FILE = "commentary.md"
REVISIONS = "revisions"
METRIC_KEY = (
    "metric_id",
    "period_end",
    "period",
    "grain",
    "health_region",
    "county_code",
    "dimension_name",
    "dimension_value",
)

# Bokmål headers of the CSV files and titles of the schema fields (one name per column).
COLUMN_TITLES = {
    "metric_id": "Indikator",
    "period_end": "Periodeslutt",
    "period": "Periodetype",
    "grain": "Nivå",
    "health_region": "Helseregion",
    "health_region_name": "Helseregion (navn)",
    "county_code": "Fylkesnummer",
    "county_name": "Fylke",
    "dimension_name": "Inndeling",
    "dimension_value": "Kategori",
    "numerator": "Teller",
    "denominator": "Nevner",
    "value": "Verdi",
    "name_nb": "Navn",
    "definition": "Definisjon",
    "unit": "Enhet",
    "grains": "Nivåer",
    "dimensions": "Inndelinger",
    "mandate": "Fra mandatet",
    "source_model": "Kildemodell",
    "periods": "Perioder",
    "latest_period_end": "Siste periode",
    "persons_with_critical_info": "Personer med kritisk informasjon",
    "population": "Befolkning",
    "estimated_need": "Anslått behov (personer)",
    "coverage_pct_population": "Registreringsgrad i befolkningen (%)",
    "coverage_pct_need": "Registreringsgrad av anslått behov (%)",
    "period_month": "Måned",
    "new_entries": "Nye oppføringer",
    "api_entries": "Nye oppføringer via API",
    "portal_entries": "Nye oppføringer via portal",
    "api_share_pct": "Andel via API (%)",
    "channel": "Kanal",
    "region_new_entries": "Nye oppføringer i regionen",
    "channel_share_pct": "Kanalens andel (%)",
    "arrived_on": "Mottaksdag",
    "files": "Filer",
    "lines_read": "Linjer lest",
    "loaded": "Lastet",
    "duplicates": "Duplikater",
    "quarantined": "I karantene",
    "quarantined_pct": "Andel i karantene (%)",
    "reason_code": "Årsakskode",
    "reason_label": "Årsak",
    "lines": "Linjer",
    "finding": "Funn",
    "label_nb": "Beskrivelse",
    "unit_nb": "Enhet",
    "count": "Antall",
    "last_month": "Siste måned",
    "goal_id": "Mål",
    "area": "Område",
    "baseline_value": "Utgangsverdi",
    "baseline_date": "Utgangsdato",
    "target_value": "Målverdi",
    "target_date": "Måldato",
    "latest_value": "Siste verdi",
    "forecast_at_target": "Prognose ved måldato",
    "lower_at_target": "Nedre grense ved måldato (80 %)",
    "upper_at_target": "Øvre grense ved måldato (80 %)",
    "status": "Status",
    "backtested_months": "Måneder etterprøvd",
    "method": "Metode",
    "illustrative": "Illustrativt mål",
    "goals_version": "Målversjon",
    "forecast": "Prognose",
    "lower": "Nedre grense (80 %)",
    "upper": "Øvre grense (80 %)",
    "horizon_months": "Horisont (måneder)",
    "forecasts": "Prognoser",
    "mean_error": "Gjennomsnittlig feil",
    "mae": "Gjennomsnittlig absolutt feil",
    "mape": "Gjennomsnittlig absolutt prosentfeil",
    "interval_checks": "Intervallkontroller",
    "interval_coverage": "Andel innenfor intervallet",
    "estimand": "Estimand",
    "description": "Beskrivelse",
    "estimate": "Estimat",
    "ci_low": "Nedre grense",
    "ci_high": "Øvre grense",
    "confidence_level": "Konfidensnivå",
    "n_regions": "Regioner",
    "n_months": "Måneder",
    "event_month": "Måneder fra oppstart",
    "previous_value": "Forrige verdi",
    "current_value": "Ny verdi",
    "difference": "Endring",
}
# Evaluation tables whose NULL is a hidden cell (publishing hides a goal's latest value where the
# metrics mart hides it); any other NULL of theirs has nothing to be computed from.
HIDDEN_WHEN_NULL = {"goal_status": ("latest_value",), REVISIONS: ("previous_value", "current_value", "difference")}
_FRICTIONLESS_TYPES = {
    "VARCHAR": "string",
    "DATE": "date",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "datetime",
}


class PackageExists(PackageError):
    """A package for this day is already written; packages are never overwritten."""


class VerificationFailed(PackageError):
    """A package's files differ from its datapackage.json or from a rebuild; the message is one line."""


@dataclass(frozen=True)
class PackageResult:
    path: Path
    reference_month: str | None
    revisions: int
    resources: int


def package_dir(paths: Paths, as_of: date) -> Path:
    return paths.evaluation / as_of.isoformat()


def build_package(paths: Paths, as_of: date) -> PackageResult:
    """Write the package for ``as_of``; the caller holds the warehouse lock."""
    final = package_dir(paths, as_of)
    if final.exists():
        raise PackageExists(
            f"{final} exists: a package is never overwritten (`kritinfo report verify {final}` "
            "rebuilds and compares it)"
        )
    waiting = [
        path.name for path in ready_files(paths.landing) if path.lstat().st_mtime < cutoff_instant(as_of).timestamp()
    ]
    if waiting:
        raise PackageError(
            f"{len(waiting)} files that landed by the end of {as_of} are not ingested yet "
            f"({', '.join(sorted(waiting)[:3])}): run `kritinfo run` first"
        )
    calendar, goals = load_calendar(), load_goals()
    scratch = paths.evaluation / f".{as_of.isoformat()}.build-{os.getpid()}"
    _remove(scratch)
    try:
        out = scratch / "package"
        summary = _write_data(paths, as_of, calendar, goals, scratch, out)
        commentary = paths.commentary / f"{as_of.isoformat()}.md"
        if commentary.is_file():
            shutil.copyfile(commentary, out / COMMENTARY_FILE)
        _write_datapackage(out, summary)  # the report reads it
        from pipelines.report.render import write_report

        write_report(out)
        _write_datapackage(out, summary)  # now with the report's files
        _make_read_only(out)
        out.rename(final)
    finally:
        _remove(scratch)
    return PackageResult(final, summary["reference_month"], summary["revisions"], len(summary["resources"]))


def _write_data(paths: Paths, as_of: date, calendar: ReportingCalendar, goals: Goals, scratch: Path, out: Path) -> dict:
    """The data files into ``out``; returns what datapackage.json says of them."""
    from pipelines.transform.project import dbt_project

    current = build_as_of(paths, as_of, scratch / "current", goals)
    manifest = read_manifest(dbt_project.manifest_path)
    previous_as_of = calendar.previous_cutoff(as_of)
    (out / DATA_DIR).mkdir(parents=True)
    (out / CSV_DIR).mkdir()
    tables = _published_table_names(current.paths.serving)
    with duckdb.connect() as con:
        con.execute("set threads = 1")  # one writer thread: the same rows always give the same bytes
        con.execute(f"attach '{current.paths.serving}' as serving (read_only)")
        con.execute(f"attach '{paths.warehouse}' as source (read_only)")
        for schema, name in tables:
            con.execute(f'create table "{name}" as select * from serving.{schema}."{name}" order by all')
        previous_metrics = _previous_metrics(paths, previous_as_of, scratch, goals)
        con.execute(
            f"create table previous_metrics as select * from read_parquet('{previous_metrics}')"
            if previous_metrics
            else "create table previous_metrics as select * from metrics limit 0"
        )
        con.execute(_REVISIONS_SQL)
        figures = _figure_columns(tables, manifest)
        names = [name for _, name in tables] + [REVISIONS]
        for name in names:
            con.execute(f"copy \"{name}\" to '{out / DATA_DIR / name}.parquet' (format parquet, compression zstd)")
            (out / CSV_DIR / f"{name}.csv").write_bytes(_csv(con, name, figures.get(name, ())))
        (out / JSONSTAT_FILE).write_bytes(_jsonstat(con, as_of))
        revisions = con.execute(f"select count(*) from {REVISIONS}").fetchone()[0]
        files = con.execute(
            """select source_file, sha256, coalesce(arrived_at, ingested_at), lines_read, loaded, duplicates,
                   quarantined
               from source.raw.ingested_files where coalesce(arrived_at, ingested_at) < ? order by 1""",
            [cutoff_instant(as_of)],
        ).fetchall()
        late = late_events(con, previous_as_of, as_of) if previous_as_of else 0
        reference = con.execute("select max(period_end) from serving.main.coverage_national_month").fetchone()[0]
        definitions = dict(con.execute("select metric_id, unit from metric_definitions").fetchall())
        schemas = {name: _schema(con, name) for name in names}
    meeting = calendar.report_for(as_of)
    return {
        "as_of": as_of.isoformat(),
        "cutoff": cutoff_instant(as_of).isoformat(),
        "reference_month": reference.strftime("%Y-%m") if reference else None,
        "reporting_until": reference_month_end(as_of).isoformat(),
        "previous_package": previous_as_of.isoformat() if previous_as_of else None,
        "meeting_date": meeting.meeting.isoformat() if meeting else None,
        "code_version": _code_version(),
        "goals_version": str(goals.version),
        "calendar_version": str(calendar.version),
        "suppression_threshold": suppression_threshold(),
        "quality": {
            "files": len(files),
            "lines_read": sum(f[3] for f in files),
            "loaded": sum(f[4] for f in files),
            "duplicates": sum(f[5] for f in files),
            "quarantined": sum(f[6] for f in files),
            "late_events": late,
        },
        "input_files": [
            {"name": name, "sha256": sha, "delivered_at": delivered.astimezone(UTC).isoformat(), "lines_read": lines}
            for name, sha, delivered, lines, *_ in files
        ],
        "revisions": revisions,
        "units": definitions,
        "resources": _resources(out, names, schemas, definitions, manifest),
    }


_REVISIONS_SQL = f"""
create table {REVISIONS} as
select {", ".join(f"previous.{column}" for column in METRIC_KEY)},
    previous.value as previous_value,
    latest.value as current_value,
    latest.value - previous.value as difference
from previous_metrics as previous
inner join metrics as latest
    on {" and ".join(f"previous.{c} is not distinct from latest.{c}" for c in METRIC_KEY)}
-- A cell changes when its value, or whether it is shown, changed: a cell hidden in both stays unlisted.
where previous.value is distinct from latest.value
order by all
"""


def _previous_metrics(paths: Paths, previous_as_of: date | None, scratch: Path, goals: Goals) -> Path | None:
    """The metrics of the previous package: its file when it was written, else rebuilt (the same bytes)."""
    if previous_as_of is None:
        return None
    written = package_dir(paths, previous_as_of) / DATA_DIR / "metrics.parquet"
    if written.exists():
        return written
    previous = build_as_of(paths, previous_as_of, scratch / "previous", goals)
    target = scratch / "previous-metrics.parquet"
    with duckdb.connect() as con:
        con.execute(f"attach '{previous.paths.serving}' as serving (read_only)")
        con.execute(f"copy (select * from serving.main.metrics order by all) to '{target}' (format parquet)")
    return target


def _published_table_names(serving: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select schema_name, table_name from duckdb_tables() where table_name <> 'publish_info' order by 1, 2"
        ).fetchall()
    return [(schema, name) for schema, name in rows if schema in ("main", EVALUATION_SCHEMA)]


def _figure_columns(tables: list[tuple[str, str]], manifest: Mapping) -> dict[str, tuple[str, ...]]:
    """Per table, the columns whose NULL is a hidden cell (the rest: nothing to compute)."""
    declared = {table.name: table.counts + table.rates for table in published_tables(manifest)}
    return {**{name: declared.get(name, ()) for _, name in tables}, **HIDDEN_WHEN_NULL}


def _csv(con: duckdb.DuckDBPyConnection, name: str, figures: tuple[str, ...]) -> bytes:
    """Excel-ready CSV: bokmål headers, ``;``, decimal comma, UTF-8 with BOM, ``:`` and ``..``."""
    cursor = con.execute(f'select * from "{name}"')
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    # A figure column a metric never fills (the numerator of a median) is empty, not hidden.
    never_filled = _never_filled(con, name, figures) if name == "metrics" else {}
    lines = [";".join(_csv_field(COLUMN_TITLES.get(c, c)) for c in columns)]
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        fields = []
        for column, value in record.items():
            if value is None and column in figures and column not in never_filled.get(record.get("metric_id"), ()):
                fields.append(_missing_symbol(record, column))
            else:
                fields.append(_csv_field(_plain(value)))
        lines.append(";".join(fields))
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _never_filled(con: duckdb.DuckDBPyConnection, name: str, figures: tuple[str, ...]) -> dict[str, set[str]]:
    aggregates = ", ".join(f'bool_and("{c}" is null) as "{c}"' for c in figures)
    result = {}
    for row in con.execute(f'select metric_id, {aggregates} from "{name}" group by metric_id').fetchall():
        result[row[0]] = {column for column, empty in zip(figures, row[1:], strict=True) if empty}
    return result


def _missing_symbol(record: dict, column: str) -> str:
    """Only a value has nothing to compute from (a zero denominator); a missing count is hidden."""
    return nb_format.missing_value_symbol(record.get("denominator")) if column == "value" else nb_format.SUPPRESSED


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, float):
        if value != value:
            return nb_format.NOT_AVAILABLE
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f").replace(".", ",")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _csv_field(text: str) -> str:
    if any(mark in text for mark in (";", '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _jsonstat(con: duckdb.DuckDBPyConnection, as_of: date) -> bytes:
    """The metrics as one JSON-stat 2.0 dataset, sparse (a value per published cell, keyed by
    its index), with ``:`` and ``..`` as the cells' status."""
    names = dict(con.execute("select metric_id, name_nb from metric_definitions").fetchall())
    units = dict(con.execute("select metric_id, unit from metric_definitions").fetchall())
    rows = con.execute("""
        select metric_id, strftime(period_end, '%Y-%m-%d'),
            case grain when 'national' then 'national' when 'region' then health_region else county_code end,
            dimension_name || ':' || dimension_value, numerator, denominator, value
        from metrics order by all""").fetchall()
    never_filled = _never_filled(con, "metrics", ("numerator", "denominator", "value"))
    measures = ("numerator", "denominator", "value")
    categories = [sorted({row[i] for row in rows}) for i in range(4)]
    positions = [{code: index for index, code in enumerate(codes)} for codes in categories]
    sizes = [len(codes) for codes in categories] + [len(measures)]
    values, status = {}, {}
    for row in rows:
        index = 0
        for axis, code in enumerate(row[:4]):
            index = index * sizes[axis] + positions[axis][code]
        for offset, measure in enumerate(measures):
            cell = index * len(measures) + offset
            number = row[4 + offset]
            if number is not None:
                values[str(cell)] = number
            elif measure not in never_filled.get(row[0], ()):
                record = dict(zip(measures, row[4:], strict=True))
                status[str(cell)] = _missing_symbol(record, measure)
    areas = dict(con.execute("select health_region, health_region_name from coverage_by_region_month").fetchall())
    areas |= dict(con.execute("select county_code, county_name from coverage_by_county_month").fetchall())
    areas["national"] = "Hele landet"
    dataset = {
        "version": "2.0",
        "class": "dataset",
        "label": f"Pasientens kritiske informasjon: indikatorer per {as_of.isoformat()}",
        "source": f"kritinfo (Pasientens kritiske informasjon), hendelser levert til og med {as_of.isoformat()}",
        "note": [
            f"{nb_format.SUPPRESSED} = skjult av personvernhensyn (små tall), "
            f"{nb_format.NOT_AVAILABLE} = ingenting å beregne fra"
        ],
        "id": ["indikator", "tid", "omrade", "inndeling", "statistikkvariabel"],
        "size": sizes,
        "role": {"time": ["tid"], "geo": ["omrade"], "metric": ["statistikkvariabel"]},
        "dimension": {
            "indikator": _dimension("Indikator", categories[0], names),
            "tid": _dimension("Periodeslutt", categories[1], {}),
            "omrade": _dimension("Område", categories[2], areas),
            "inndeling": _dimension("Inndeling", categories[3], {}),
            "statistikkvariabel": {
                "label": "Statistikkvariabel",
                "category": {
                    "index": {m: i for i, m in enumerate(measures)},
                    "label": {"numerator": "Teller", "denominator": "Nevner", "value": "Verdi"},
                    "unit": {"value": {"label": "se indikatorens enhet", "decimals": 1}},
                },
                "extension": {"unit_by_indicator": units},
            },
        },
        "value": values,
        "status": status,
    }
    return json.dumps(dataset, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _dimension(label: str, codes: list[str], labels: dict[str, str]) -> dict:
    return {
        "label": label,
        "category": {
            "index": {code: i for i, code in enumerate(codes)},
            "label": {code: labels.get(code, code) for code in codes},
        },
    }


def _schema(con: duckdb.DuckDBPyConnection, name: str) -> dict:
    fields = [
        {"name": column, "title": COLUMN_TITLES.get(column, column), "type": _FRICTIONLESS_TYPES.get(kind, "string")}
        for column, kind, *_ in con.execute(f'describe "{name}"').fetchall()
    ]
    return {"fields": fields, "missingValues": ["", nb_format.SUPPRESSED, nb_format.NOT_AVAILABLE]}


def _resources(
    out: Path, names: list[str], schemas: dict[str, dict], units: dict[str, str], manifest: Mapping
) -> list[dict]:
    descriptions = _descriptions(manifest)
    resources = []
    for name in names:
        description = descriptions.get(name, "")
        extra = {"units": units} if name == "metrics" else {}
        resources.append(
            {
                "name": name,
                "path": f"{DATA_DIR}/{name}.parquet",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": description,
                "schema": schemas[name],
                **extra,
            }
        )
        resources.append(
            {
                "name": f"{name}-csv",
                "path": f"{CSV_DIR}/{name}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "description": description,
                "dialect": {"delimiter": ";", "header": True, "decimalChar": ","},
                "schema": schemas[name],
                **extra,
            }
        )
    resources.append(
        {
            "name": "metrics-jsonstat",
            "path": JSONSTAT_FILE,
            "format": "json",
            "mediatype": "application/json",
            "profile": "https://json-stat.org/format/",
            "description": "The metrics as a JSON-stat 2.0 dataset (status ':' hidden, '..' nothing to compute).",
        }
    )
    for resource in resources:
        resource["hash"] = "sha256:" + _sha256(out / resource["path"])
        resource["bytes"] = (out / resource["path"]).stat().st_size
    return resources


def _descriptions(manifest: Mapping) -> dict[str, str]:
    from pipelines.evaluation.assets import GOAL_TABLES, ROLLOUT_TABLES

    described = {
        node["name"]: " ".join(node.get("description", "").split())
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    return {
        **described,
        **GOAL_TABLES,
        **ROLLOUT_TABLES,
        REVISIONS: "Every figure of the metrics of the previous package (see previous_package) that these "
        "data changed: its old value, its new value and the difference; a hidden value is empty.",
    }


def _write_datapackage(out: Path, summary: dict) -> None:
    report_files = [
        {
            "name": path.stem.replace(".", "-") + "-" + path.suffix.lstrip("."),
            "path": path.name,
            "format": path.suffix.lstrip("."),
            "hash": "sha256:" + _sha256(path),
            "bytes": path.stat().st_size,
        }
        for path in sorted(out.glob("report.*")) + sorted(out.glob(COMMENTARY_FILE))
    ]
    kritinfo = {key: value for key, value in summary.items() if key not in ("resources", "units", "revisions")}
    document = {
        "profile": "tabular-data-package",
        "name": f"kritinfo-evaluation-{summary['as_of']}",
        "title": f"Pasientens kritiske informasjon: evalueringsdata per {summary['as_of']}",
        "description": "Published tables of kritinfo known at the end of the as-of day (Europe/Oslo), with "
        "disclosure control: counts from 1 to the suppression threshold are hidden.",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "licenses": [{"name": "NLOD-2.0", "path": "https://data.norge.no/nlod/no/2.0"}],
        "resources": summary["resources"] + report_files,
        "kritinfo": kritinfo,
    }
    (out / DATAPACKAGE_FILE).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit}+local-changes" if dirty else commit


def _make_read_only(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(
            stat.S_IRUSR
            | stat.S_IRGRP
            | stat.S_IROTH
            | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0)
        )
    folder.chmod(0o555)


def _remove(folder: Path) -> None:
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    folder.chmod(0o755)
    shutil.rmtree(folder)


def verify_package(paths: Paths, folder: Path) -> int:
    """Re-check every hash of ``folder``'s datapackage.json, then rebuild its data from the
    deliveries known at its cut-off and compare; the number of files checked, or
    VerificationFailed naming the first difference."""
    try:
        document = json.loads((folder / DATAPACKAGE_FILE).read_text(encoding="utf-8"))
        as_of = date.fromisoformat(document["kritinfo"]["as_of"])
        resources = document["resources"]
    except (OSError, ValueError, KeyError) as error:
        raise VerificationFailed(f"{folder / DATAPACKAGE_FILE}: not a kritinfo package ({error})") from None
    for resource in resources:
        path = folder / resource["path"]
        if not path.is_file():
            raise VerificationFailed(f"{path}: missing")
        if "sha256:" + _sha256(path) != resource["hash"]:
            raise VerificationFailed(f"{path}: its sha256 differs from datapackage.json")
    goals = load_goals()
    if str(goals.version) != document["kritinfo"]["goals_version"]:
        raise VerificationFailed(
            f"{folder}: built with goals version {document['kritinfo']['goals_version']}, "
            f"goals.yml is now version {goals.version}: its goal tables cannot be rebuilt"
        )
    delivered = {(f["name"], f["sha256"]) for f in document["kritinfo"]["input_files"]}
    scratch = paths.evaluation / f".{as_of.isoformat()}.verify-{os.getpid()}"
    _remove(scratch)
    try:
        summary = _write_data(paths, as_of, load_calendar(), goals, scratch, scratch / "package")
        rebuilt = {(f["name"], f["sha256"]) for f in summary["input_files"]}
        if rebuilt != delivered:
            changed = sorted(name for name, _ in rebuilt ^ delivered)
            raise VerificationFailed(
                f"the deliveries known on {as_of} differ from the package's input manifest: {', '.join(changed[:5])}"
            )
        recorded = {r["path"]: r["hash"] for r in resources}
        for resource in summary["resources"]:
            if recorded.get(resource["path"]) != resource["hash"]:
                raise VerificationFailed(
                    f"{folder / resource['path']}: a rebuild from the deliveries known on {as_of} gives other bytes"
                )
    finally:
        _remove(scratch)
    return len(resources)
