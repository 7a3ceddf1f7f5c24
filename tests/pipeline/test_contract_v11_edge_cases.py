"""Contract v1.1's edge cases through the real pipeline (Dagster, dbt, DuckDB), checked against
figures worked out by hand from docs/definitions.md, and the same delivery run under three machine
time zones giving the same publication.

The delivery is hand-made from the contract's example events: 14 persons, each in a county of
their own so that every case moves exactly one county's figure, and 14 entries in January and
February 2025 (month ends 2025-01-31 and 2025-02-28, both +01:00 in Oslo). Counts this small are
hidden in the serving copy, so the figures are read in the warehouse, which holds them unsuppressed.
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import KRITINFO
from tests.helpers import SEEDS, example_event, line

JAN, FEB = date(2025, 1, 31), date(2025, 2, 28)
NATIONAL = "national"
LOCAL_SYSTEM = "http://example.org/fhir/CodeSystem/local-status"  # an EPJ's own code system
HL7 = "http://terminology.hl7.org/CodeSystem/"
ALLERGY_CLINICAL, ALLERGY_VERIFICATION = HL7 + "allergyintolerance-clinical", HL7 + "allergyintolerance-verification"
CONDITION_CLINICAL, CONDITION_VERIFICATION = HL7 + "condition-clinical", HL7 + "condition-ver-status"
CATEGORY_7651 = "urn:oid:2.16.578.1.12.4.1.1.7651"

# UTC is the time zone the checks name; Los Angeles lies on the other side of UTC, so a
# day boundary read in machine time moves the other way.
TIME_ZONES = ("UTC", "Europe/Oslo", "America/Los_Angeles")
# The file's modification time is its arrival (data_quality_daily): the same instant in every home.
DELIVERED_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp()
RUN_TIMEOUT_S = 900


# --- the delivery ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    channel: str
    organisation_type: str
    organisation_id: str
    health_region: str
    municipality: str
    system: str


# One organisation number, X, sends under two types in two regions in the same month (a
# municipality running GP offices in Vestland and, say, an emergency ward across the border).
H1 = Org("api", "hospital", "983974732", "helse-vest", "4601", "DIPS Arena 21.3")
H2 = Org("api", "hospital", "974557746", "helse-vest", "1103", "dips  arena")
X_GP = Org("api", "gp", "964338531", "helse-vest", "4601", "CGM Allmenn")
X_EMERGENCY = Org("api", "emergency", "964338531", "helse-midt-norge", "5001", "CGM Allmenn")
G = Org("portal", "gp", "912345678", "helse-midt-norge", "5001", "kjernejournal-portal")
S = Org("portal", "hospital", "993467049", "helse-sor-ost", "0301", "kjernejournal-portal")
N = Org("portal", "hospital", "983971709", "helse-nord", "1804", "kjernejournal-portal")


def pseudonym(person: int) -> str:
    return hashlib.sha256(f"kritinfo edge-case person {person}".encode()).hexdigest()


def coding(system: str, code: str) -> dict:
    return {"system": system, "code": code}


def status(*codings: dict) -> dict:
    return {"coding": list(codings)}


def allergy(
    entry: str, version: int, clinical: dict | None, verification: dict, recorded: str, category: str = "medication"
) -> dict:
    resource = example_event(0)["resource"]  # a drug reaction coded with ATC
    resource.update(id=entry, recordedDate=recorded, verificationStatus=verification, category=[category])
    resource["meta"]["versionId"] = str(version)
    resource.pop("clinicalStatus")
    if clinical is not None:  # absent when entered in error (FHIR R4 ait-2)
        resource["clinicalStatus"] = clinical
    if category != "medication":
        resource["code"] = {
            "coding": [{"system": "urn:oid:2.16.578.1.12.4.1.1.7514", "code": "10", "display": "Peanøtt"}]
        }
    return resource


def condition(
    entry: str, version: int, clinical: dict | None, verification: dict, recorded: str, category: str
) -> dict:
    resource = example_event(1)["resource"]
    resource.update(id=entry, recordedDate=recorded, verificationStatus=verification)
    resource["meta"]["versionId"] = str(version)
    resource["category"] = [{"coding": [coding(CATEGORY_7651, category)]}]
    resource.pop("clinicalStatus")
    if clinical is not None:  # absent when entered in error (FHIR R4 con-5)
        resource["clinicalStatus"] = clinical
    return resource


def flag(entry: str, version: int, flag_status: str) -> dict:
    resource = example_event(3)["resource"]
    resource.update(id=entry, status=flag_status)
    resource["meta"]["versionId"] = str(version)
    return resource


def procedure(entry: str, version: int, procedure_status: str) -> dict:
    return {
        "resourceType": "Procedure",
        "id": entry,
        "meta": {"versionId": str(version), "profile": ["http://nhn.no/kj/fhir/StructureDefinition/KjProcedure"]},
        "status": procedure_status,
        "category": {"coding": [coding(CATEGORY_7651, "6")]},
        "code": {"text": "Hemodialyse"},
        "performedPeriod": {"start": "2024-11-01T08:00:00+01:00"},
    }


def consent(entry: str, version: int, consent_status: str) -> dict:
    return {
        "resourceType": "Consent",
        "id": entry,
        "meta": {"versionId": str(version), "profile": ["http://nhn.no/kj/fhir/StructureDefinition/KjConsent"]},
        "status": consent_status,
        "scope": {"coding": [coding("http://terminology.hl7.org/CodeSystem/consentscope", "treatment")]},
        "category": [{"coding": [coding(CATEGORY_7651, "11")]}],
        "dateTime": "2025-01-18T09:00:00+01:00",
        "policyRule": {"text": "Behandlingsavklaring dokumentert i pasientjournalen"},
        "provision": {"type": "deny", "code": [{"text": "Hjerte-lunge-redning"}]},
    }


def event(
    number: int, event_type: str, occurred_at: str, org: Org, person: int, municipality: str, resource: dict
) -> dict:
    envelope = example_event(0)
    envelope.update(
        event_id=f"e0000000-0000-4000-8000-{number:012x}",
        event_type=event_type,
        occurred_at=occurred_at,
        channel=org.channel,
    )
    envelope["source"] = {
        "organisation_type": org.organisation_type,
        "organisation_id": org.organisation_id,
        "health_region": org.health_region,
        "municipality": org.municipality,
        "system": org.system,
    }
    envelope["patient"].update(pseudonym=pseudonym(person), municipality=municipality)
    reference_field = {"AllergyIntolerance": "patient", "Consent": "patient"}.get(resource["resourceType"], "subject")
    resource[reference_field] = {"reference": f"Patient/{pseudonym(person)}"}
    envelope["resource"] = resource
    return envelope


ACTIVE = status(coding(ALLERGY_CLINICAL, "active"))
CONFIRMED = status(coding(ALLERGY_VERIFICATION, "confirmed"))
C_CONFIRMED = status(coding(CONDITION_VERIFICATION, "confirmed"))


def delivery() -> list[dict]:
    """Every event, in the order of the file: reversed, as events arrive out of order."""
    events = [
        # E1, P1 Vestland: a local coding before the HL7 one says inactive; HL7 says active, so
        # active. recordedDate is a date: 2025-01-10 00:00 in Oslo, so the delay is 12 h exactly.
        event(
            1,
            "created",
            "2025-01-10T12:00:00+01:00",
            H1,
            1,
            "4601",
            allergy(
                "edge-e1",
                1,
                status(coding(LOCAL_SYSTEM, "inactive"), coding(ALLERGY_CLINICAL, "active")),
                CONFIRMED,
                "2025-01-10",
            ),
        ),
        # E2, P2 Rogaland: the reverse, local active before HL7 inactive: never active. Delay 24 h.
        event(
            2,
            "created",
            "2025-01-12T09:00:00+01:00",
            H2,
            2,
            "1103",
            allergy(
                "edge-e2",
                1,
                status(coding(LOCAL_SYSTEM, "active"), coding(ALLERGY_CLINICAL, "inactive")),
                CONFIRMED,
                "2025-01-11T09:00:00+01:00",
            ),
        ),
        # E3, P3 Oslo: clinicalStatus recurrence is a kind of active. Delay 6 h. Its update on
        # 28 February at 08:30 in Oslo (27 February in Los Angeles) is the delivery's last event:
        # it makes February a complete month.
        event(
            3,
            "created",
            "2025-01-20T10:00:00+01:00",
            S,
            3,
            "0301",
            condition(
                "edge-e3",
                1,
                status(coding(CONDITION_CLINICAL, "recurrence")),
                C_CONFIRMED,
                "2025-01-20T04:00:00+01:00",
                "5",
            ),
        ),
        event(
            4,
            "updated",
            "2025-02-28T08:30:00+01:00",
            S,
            3,
            "0301",
            condition(
                "edge-e3",
                2,
                status(coding(CONDITION_CLINICAL, "recurrence")),
                C_CONFIRMED,
                "2025-01-20T04:00:00+01:00",
                "5",
            ),
        ),
        # E4, P4 Akershus: a local verification coding entered-in-error before HL7 confirmed:
        # active. Delay 14 h.
        event(
            5,
            "created",
            "2025-01-21T10:00:00+01:00",
            S,
            4,
            "3201",
            condition(
                "edge-e4",
                1,
                status(coding(CONDITION_CLINICAL, "active")),
                status(coding(LOCAL_SYSTEM, "entered-in-error"), coding(CONDITION_VERIFICATION, "confirmed")),
                "2025-01-20T20:00:00+01:00",
                "10",
            ),
        ),
        # E5, P5: a Procedure in progress is active. P5 lives in Trøndelag, then moves to Nordland
        # (her event of 10 February, registered in the portal by a hospital in Nordland).
        event(
            6, "created", "2025-01-05T10:00:00+01:00", X_EMERGENCY, 5, "5001", procedure("edge-e5", 1, "in-progress")
        ),
        event(7, "updated", "2025-02-10T10:00:00+01:00", N, 5, "1804", procedure("edge-e5", 2, "in-progress")),
        # E6, P6 Møre og Romsdal: a Procedure completed is not active; created so, never corrected.
        event(8, "created", "2025-01-06T10:00:00+01:00", G, 6, "1507", procedure("edge-e6", 1, "completed")),
        # E7, P7 Finnmark: a Flag updated (event type updated) to status inactive: registered at
        # the end of January, not of February; corrected.
        event(9, "created", "2025-01-08T10:00:00+01:00", X_GP, 7, "5601", flag("edge-e7", 1, "active")),
        event(10, "updated", "2025-02-12T10:00:00+01:00", X_GP, 7, "5601", flag("edge-e7", 2, "inactive")),
        # E8, P8 Troms: versions 9 and 10 at the same instant; 10 (resolved) is the later, though
        # "9" > "10" as text and version 9 has the greater event_id. Delay 48 h; corrected.
        event(
            11,
            "created",
            "2025-01-15T10:00:00+01:00",
            H2,
            8,
            "5501",
            condition(
                "edge-e8",
                1,
                status(coding(CONDITION_CLINICAL, "active")),
                C_CONFIRMED,
                "2025-01-13T10:00:00+01:00",
                "4",
            ),
        ),
        event(
            13,
            "updated",
            "2025-02-14T10:00:00+01:00",
            H2,
            8,
            "5501",
            condition(
                "edge-e8",
                9,
                status(coding(CONDITION_CLINICAL, "active")),
                C_CONFIRMED,
                "2025-01-13T10:00:00+01:00",
                "4",
            ),
        ),
        event(
            12,
            "updated",
            "2025-02-14T10:00:00+01:00",
            H2,
            8,
            "5501",
            condition(
                "edge-e8",
                10,
                status(coding(CONDITION_CLINICAL, "resolved")),
                C_CONFIRMED,
                "2025-01-13T10:00:00+01:00",
                "4",
            ),
        ),
        # E9, P9 Østfold: a Consent updated to status entered-in-error: registered at the end of
        # January only; corrected.
        event(14, "created", "2025-01-18T10:00:00+01:00", S, 9, "3101", consent("edge-e9", 1, "active")),
        event(15, "updated", "2025-02-18T10:00:00+01:00", S, 9, "3101", consent("edge-e9", 2, "entered-in-error")),
        # E10, P10 Buskerud: two created events. The first (January, delay 2 h) makes the new
        # entry; the second (February, would be 458 h) is neither a new entry nor a delay.
        event(
            16,
            "created",
            "2025-01-15T10:00:00+01:00",
            H1,
            10,
            "3301",
            allergy("edge-e10", 1, ACTIVE, CONFIRMED, "2025-01-15T08:00:00+01:00", category="food"),
        ),
        event(
            17,
            "created",
            "2025-02-03T10:00:00+01:00",
            H1,
            10,
            "3301",
            allergy("edge-e10", 2, ACTIVE, CONFIRMED, "2025-01-15T08:00:00+01:00", category="food"),
        ),
        # E11, P11 Innlandet: created (delay 3 h), later entered in error: corrected.
        event(
            18,
            "created",
            "2025-01-22T10:00:00+01:00",
            H2,
            11,
            "3401",
            allergy("edge-e11", 1, ACTIVE, CONFIRMED, "2025-01-22T07:00:00+01:00"),
        ),
        event(
            19,
            "entered-in-error",
            "2025-02-05T10:00:00+01:00",
            H2,
            11,
            "3401",
            allergy(
                "edge-e11",
                2,
                None,
                status(coding(ALLERGY_VERIFICATION, "entered-in-error")),
                "2025-01-22T07:00:00+01:00",
            ),
        ),
        # E12, P12 Vestfold: the creating event is already entered in error: a new entry (delay
        # 1 h) that is never active and never corrected.
        event(
            20,
            "created",
            "2025-01-25T10:00:00+01:00",
            H1,
            12,
            "3901",
            condition(
                "edge-e12",
                1,
                None,
                status(coding(CONDITION_VERIFICATION, "entered-in-error")),
                "2025-01-25T09:00:00+01:00",
                "3",
            ),
        ),
        # E13, P13 Telemark: delay 24 h; inactivated at 00:30 on 1 February in Oslo (still 31
        # January in UTC): registered at the end of 31 January; corrected.
        event(
            21,
            "created",
            "2025-01-28T10:00:00+01:00",
            S,
            13,
            "4001",
            condition(
                "edge-e13",
                1,
                status(coding(CONDITION_CLINICAL, "active")),
                C_CONFIRMED,
                "2025-01-27T10:00:00+01:00",
                "7",
            ),
        ),
        event(
            22,
            "inactivated",
            "2025-02-01T00:30:00+01:00",
            S,
            13,
            "4001",
            condition(
                "edge-e13",
                2,
                status(coding(CONDITION_CLINICAL, "inactive")),
                C_CONFIRMED,
                "2025-01-27T10:00:00+01:00",
                "7",
            ),
        ),
        # E14, P14 Agder: February's one new entry, delay 5 h.
        event(
            23,
            "created",
            "2025-02-20T15:00:00+01:00",
            H1,
            14,
            "4203",
            allergy("edge-e14", 1, ACTIVE, CONFIRMED, "2025-02-20T10:00:00+01:00"),
        ),
    ]
    return events[::-1]


# --- the runs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    home: Path
    returncode: int
    log: str

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    """`kritinfo run` on the delivery in a fresh home per time zone, the three at once (each run
    is mostly one busy process: at once, they take less time than one after another)."""
    # The dbt project was parsed at the session's start (tests/conftest.py), not by three runs at once.
    logs = tmp_path_factory.mktemp("edge-case-logs")
    content = b"\n".join(line(e) for e in delivery()) + b"\n"
    started = {}
    for zone in TIME_ZONES:
        home = tmp_path_factory.mktemp("edge-" + zone.replace("/", "-").lower())
        (home / "landing").mkdir()
        path = home / "landing" / "edge-cases-2025-02.ndjson"
        path.write_bytes(content)
        os.utime(path, (DELIVERED_AT, DELIVERED_AT))
        env = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
        env.update(KRITINFO_HOME=str(home), TZ=zone)
        log = logs / f"{home.name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [KRITINFO, "run"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started[zone] = (home, process, log)
    runs = {}
    for zone, (home, process, log) in started.items():
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the run and the dbt it started, nothing else
            returncode = process.wait()
        runs[zone] = Run(home, returncode, log.read_text(encoding="utf-8", errors="replace"))
    return runs


@pytest.fixture(scope="module")
def warehouse(runs):
    """The TZ=UTC run's warehouse, read only."""
    with duckdb.connect(str(runs["UTC"].warehouse), read_only=True) as con:
        yield con


def place_filter(place: str) -> tuple[str, list]:
    if place == NATIONAL:
        return "grain = 'national'", []
    return "grain = 'region' and health_region = ?", [place]


def metric_row(con, metric_id: str, period_end: date, place: str, dimension=("total", "all")):
    """(numerator, denominator, value) of one cell of `metrics`, or None when it has no row."""
    where, parameters = place_filter(place)
    rows = con.execute(
        f"select numerator, denominator, value from main.metrics where metric_id = ? and period_end = ? and {where} "
        "and dimension_name = ? and dimension_value = ?",
        [metric_id, period_end, *parameters, *dimension],
    ).fetchall()
    assert len(rows) <= 1, (metric_id, period_end, place, dimension, rows)
    return tuple(rows[0]) if rows else None


def rounded(row):
    return None if row is None else tuple(None if v is None else round(v, 6) for v in row)


def populations() -> dict[str, tuple[str, int]]:
    with open(SEEDS / "counties.csv", newline="", encoding="utf-8") as f:
        return {row["county_code"]: (row["health_region"], int(row["population"])) for row in csv.DictReader(f)}


REGIONS = ("helse-sor-ost", "helse-vest", "helse-midt-norge", "helse-nord")

# Persons registered (at least one active entry at the end of the day in Oslo), by the county
# they live in that day; counties not listed have nobody.
REGISTERED = {
    JAN: {
        "46": 1,  # P1: E1 active by its HL7 coding, whatever the local coding before it says
        "03": 1,  # P3: recurrence is active
        "32": 1,  # P4: verification confirmed by HL7; the local entered-in-error is ignored
        "50": 1,  # P5: Procedure in-progress, living in Trøndelag until 10 February
        "56": 1,  # P7: Flag active until 12 February
        "55": 1,  # P8: version 1 active; versions 9 and 10 come in February
        "31": 1,  # P9: Consent active until 18 February
        "33": 1,  # P10
        "34": 1,  # P11: entered in error only on 5 February
        "40": 1,  # P13: inactivated at 00:30 on 1 February in Oslo, after the end of 31 January
        # Nobody in 11 (P2: HL7 inactive), 15 (P6: Procedure completed), 39 (P12: created in
        # error), 42 (P14: created in February), 18 (P5 moves there in February).
    },
    FEB: {
        "46": 1,  # P1
        "03": 1,  # P3
        "32": 1,  # P4
        "18": 1,  # P5 now lives in Nordland; Trøndelag has nobody
        "33": 1,  # P10: the second created event leaves E10 active
        "42": 1,  # P14
        # Nobody in 56 (P7: Flag inactive), 55 (P8: version 10 resolved), 31 (P9: Consent
        # entered-in-error), 34 (P11), 40 (P13), and as in January 11, 15, 39.
    },
}


# --- the figures of docs/definitions.md ------------------------------------------------------------


def test_every_line_is_loaded_and_none_quarantined(warehouse):
    loaded, quarantined, duplicates = warehouse.execute(
        "select (select count(*) from raw.events), (select count(*) from raw.quarantine), "
        "(select count(*) from raw.duplicate_deliveries)"
    ).fetchone()
    reasons = warehouse.execute("select reason_code, reason from raw.quarantine").fetchall()
    assert (loaded, quarantined, duplicates) == (len(delivery()), 0, 0), reasons


def test_coverage_per_county_at_each_month_end(warehouse):
    counties = populations()
    for period_end, registered in REGISTERED.items():
        expected = {county: registered.get(county, 0) for county in counties}
        mart = dict(
            warehouse.execute(
                "select county_code, persons_with_critical_info from main.coverage_by_county_month "
                "where period_end = ?",
                [period_end],
            ).fetchall()
        )
        assert mart == expected, period_end
        metric = dict(
            warehouse.execute(
                "select county_code, numerator from main.metrics where metric_id = 'registration_coverage_population' "
                "and grain = 'county' and dimension_name = 'total' and period_end = ?",
                [period_end],
            ).fetchall()
        )
        assert metric == expected, period_end


def test_coverage_per_region_and_nationally_at_each_month_end(warehouse):
    counties = populations()
    for period_end, registered in REGISTERED.items():
        # January: sør-øst 6 (P3, P4, P9, P10, P11, P13), vest 1 (P1), midt 1 (P5), nord 2 (P7, P8);
        # February: sør-øst 4 (P3, P4, P10, P14), vest 1 (P1), midt 0, nord 1 (P5).
        persons = {
            region: sum(n for county, n in registered.items() if counties[county][0] == region) for region in REGIONS
        }
        population = {region: sum(p for r, p in counties.values() if r == region) for region in REGIONS}
        mart = {
            region: (persons_, round(pct, 9))
            for region, persons_, pct in warehouse.execute(
                "select health_region, persons_with_critical_info, coverage_pct_population "
                "from main.coverage_by_region_month where period_end = ?",
                [period_end],
            ).fetchall()
        }
        assert mart == {
            region: (persons[region], round(100 * persons[region] / population[region], 9)) for region in REGIONS
        }, period_end
        metric = {
            place: rounded(
                (metric_row(warehouse, "registration_coverage_population", period_end, place) or (None, None))[:2]
            )
            for place in (*REGIONS, NATIONAL)
        }
        assert metric == {
            **{region: (persons[region], population[region]) for region in REGIONS},
            NATIONAL: (sum(persons.values()), sum(population.values())),
        }, period_end
    assert {period_end: sum(r.values()) for period_end, r in REGISTERED.items()} == {JAN: 10, FEB: 6}


# One delay per new entry whose creating event has a recordedDate (Procedure, Flag and Consent
# have none), in the month and region of its creating event:
#   January, helse-vest:    E12 1, E10 2, E11 3, E1 12, E2 24, E8 48 (hours)
#   January, helse-sor-ost: E3 6, E4 14, E13 24
#   February, helse-vest:   E14 5 (E10's second created event is not a new entry)
# Quantiles interpolate linearly at position q·(n − 1) of the sorted values.
DELAYS = {
    # (month end, place): (values, median, p90, values of at most 24 h)
    (JAN, "helse-vest"): (6, 7.5, 36.0, 5),  # median (3 + 12) / 2; p90 at 4.5: 24 + 0.5·24; all but 48
    (JAN, "helse-sor-ost"): (3, 14.0, 22.0, 3),  # p90 at 1.8: 14 + 0.8·10
    (JAN, "helse-midt-norge"): (0, None, None, 0),  # E5 and E6 are Procedures: no recordedDate
    (JAN, "helse-nord"): (0, None, None, 0),
    # 1 2 3 6 12 14 24 24 48: the median is E1's 12 h, in a cell large enough to be published, so
    # a date-only recordedDate read in the machine's zone shows in the serving copy too.
    (JAN, NATIONAL): (9, 12.0, 28.8, 8),  # p90 at 7.2: 24 + 0.2·24
    (FEB, "helse-vest"): (1, 5.0, 5.0, 1),
    (FEB, "helse-sor-ost"): (0, None, None, 0),
    (FEB, "helse-midt-norge"): (0, None, None, 0),
    (FEB, "helse-nord"): (0, None, None, 0),
    (FEB, NATIONAL): (1, 5.0, 5.0, 1),
}


def test_delay_median_per_month_and_region(warehouse):
    found = {key: rounded(metric_row(warehouse, "delay_median_hours", *key)) for key in DELAYS}
    # A quantile has no numerator; its denominator is the number of values.
    assert found == {key: rounded((None, n, median)) for key, (n, median, _, _) in DELAYS.items()}


def test_delay_p90_and_within_24_hours_per_month_and_region(warehouse):
    p90 = {key: rounded(metric_row(warehouse, "delay_p90_hours", *key)) for key in DELAYS}
    assert p90 == {key: rounded((None, n, value)) for key, (n, _, value, _) in DELAYS.items()}
    within = {key: rounded(metric_row(warehouse, "delay_within_24h_share", *key)) for key in DELAYS}
    # E2 and E13 took exactly 24 hours: within.
    assert within == {
        key: rounded((within_, n, 100 * within_ / n if n else None)) for key, (n, _, _, within_) in DELAYS.items()
    }


def test_date_only_recorded_date_is_the_start_of_the_day_in_oslo(warehouse):
    # The API delays of helse-vest in January, 1 2 3 12 24 48: the median (3 + 12) / 2 holds E1's
    # 12 hours. Read as midnight in the machine's zone (UTC here), E1 would take 11 h: median 7.0.
    assert rounded(metric_row(warehouse, "delay_median_hours", JAN, "helse-vest", ("channel", "api"))) == (None, 6, 7.5)


# New entries (first created event in entry order) and those corrected (a strictly later event
# leaves them not active), in the month and region of the creating event:
#   January, helse-vest:       E1, E2, E7, E8, E10, E11, E12; corrected E7 (Flag inactive), E8
#                              (version 10 resolved), E11 (entered in error). E2 (created inactive)
#                              and E12 (created in error) are not.
#   January, helse-sor-ost:    E3, E4, E9, E13; corrected E9 (Consent entered-in-error), E13.
#   January, helse-midt-norge: E5, E6 (created completed: not corrected).
#   February, helse-vest:      E14 (E10's second created event is not a new entry).
CORRECTIONS = {
    (JAN, "helse-vest"): (3, 7),
    (JAN, "helse-sor-ost"): (2, 4),
    (JAN, "helse-midt-norge"): (0, 2),
    (JAN, "helse-nord"): (0, 0),
    (JAN, NATIONAL): (5, 13),
    (FEB, "helse-vest"): (0, 1),
    (FEB, "helse-sor-ost"): (0, 0),
    (FEB, "helse-midt-norge"): (0, 0),
    (FEB, "helse-nord"): (0, 0),
    (FEB, NATIONAL): (0, 1),
}


def test_corrections_share_per_month_and_region(warehouse):
    found = {key: rounded(metric_row(warehouse, "corrections_share", *key)) for key in CORRECTIONS}
    assert found == {
        key: rounded((numerator, denominator, 100 * numerator / denominator if denominator else None))
        for key, (numerator, denominator) in CORRECTIONS.items()
    }


# Organisations in January. API: H1 and H2 (hospitals, vest), X as gp (vest) and as emergency
# (midt). Portal only: G (gp, midt) and S (hospital, sør-øst). X counts once in each cell it sent
# under, and once nationally and in the total.
API_ORGANISATIONS = {
    # (place, dimension): (organisations via API, organisations with any event)
    (NATIONAL, ("total", "all")): (3, 5),  # H1 H2 X / H1 H2 X G S
    (NATIONAL, ("organisation_type", "hospital")): (2, 3),  # H1 H2 / H1 H2 S
    (NATIONAL, ("organisation_type", "gp")): (1, 2),  # X / X G
    (NATIONAL, ("organisation_type", "emergency")): (1, 1),  # X
    ("helse-vest", ("total", "all")): (3, 3),
    ("helse-vest", ("organisation_type", "hospital")): (2, 2),
    ("helse-vest", ("organisation_type", "gp")): (1, 1),
    ("helse-midt-norge", ("total", "all")): (1, 2),  # X / X G
    ("helse-midt-norge", ("organisation_type", "emergency")): (1, 1),
    ("helse-midt-norge", ("organisation_type", "gp")): (0, 1),  # G, portal only
    ("helse-sor-ost", ("total", "all")): (0, 1),  # S, portal only
    ("helse-nord", ("total", "all")): (0, 0),  # N sends only in February
}


def test_an_organisation_under_two_types_and_regions_counts_once_in_each_cell(warehouse):
    organisations = {key: rounded(metric_row(warehouse, "api_organisations", JAN, *key)) for key in API_ORGANISATIONS}
    assert organisations == {key: (api, None, api) for key, (api, _) in API_ORGANISATIONS.items()}
    share = {key: rounded(metric_row(warehouse, "api_organisation_share", JAN, *key)) for key in API_ORGANISATIONS}
    assert share == {
        key: rounded((api, anyone, 100 * api / anyone if anyone else None))
        for key, (api, anyone) in API_ORGANISATIONS.items()
    }


# EPJ products via the API in January: "DIPS Arena 21.3" (H1) and "dips  arena" (H2) are one
# product, dips arena; X sends "CGM Allmenn" in two regions and under two types. The portal is
# not an EPJ product.
API_SYSTEMS = {
    (NATIONAL, ("total", "all")): 2,  # dips arena, cgm allmenn
    (NATIONAL, ("organisation_type", "hospital")): 1,  # dips arena, from two spellings
    (NATIONAL, ("organisation_type", "gp")): 1,
    (NATIONAL, ("organisation_type", "emergency")): 1,
    ("helse-vest", ("total", "all")): 2,
    ("helse-vest", ("organisation_type", "hospital")): 1,
    ("helse-vest", ("organisation_type", "gp")): 1,
    ("helse-midt-norge", ("total", "all")): 1,
    ("helse-midt-norge", ("organisation_type", "emergency")): 1,
    ("helse-sor-ost", ("total", "all")): 0,
}


def test_api_systems_count_spellings_and_versions_of_one_product_once(warehouse):
    found = {key: rounded(metric_row(warehouse, "api_systems", JAN, *key)) for key in API_SYSTEMS}
    assert found == {key: (count, None, count) for key, count in API_SYSTEMS.items()}


# --- the machine's time zone changes nothing -------------------------------------------------------


# The one column that records when a copy was written (datetime.now() at publishing), not what it
# holds. Arrival days (data_quality_daily) come from the file's modification time, set alike.
WRITE_TIME_COLUMNS = {("publish_info", "published_at")}


def table_rows(database: Path, only: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], list[tuple]]:
    """Every base table (or those of the schemas and (schema, table) pairs named) as sorted rows,
    without the write-time columns."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        rows = {}
        for schema, table in tables:
            if only is not None and (schema, table) not in only and schema not in only:
                continue
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if (table, name) not in WRITE_TIME_COLUMNS
            ]
            rows[(schema, table)] = con.execute(
                f'select {", ".join(columns)} from {schema}."{table}" order by all'
            ).fetchall()
    return rows


def differences(reference: dict, other: dict) -> dict:
    """Per differing table, a few rows found in only one of the two (reference's first)."""
    return {
        name: (sorted(set(rows) - set(other[name]), key=repr)[:4], sorted(set(other[name]) - set(rows), key=repr)[:4])
        for name, rows in sorted(reference.items())
        if rows != other[name]
    }


def test_the_delivery_publishes_under_every_time_zone(runs):
    failed = {zone: run.log.splitlines()[-3:] for zone, run in runs.items() if run.returncode != 0}
    assert failed == {}
    assert all(run.serving.exists() for run in runs.values())


@pytest.mark.parametrize("zone", TIME_ZONES[1:])
def test_the_published_figures_are_the_same_in_the_warehouse_under_another_time_zone(runs, zone):
    # Unsuppressed, as the serving copy hides this delivery's small counts and the rates built on
    # them; and readable even when a run stopped before publishing.
    from pipelines.publish.serving import published_tables
    from pipelines.transform.manifest import read_manifest
    from pipelines.transform.project import dbt_project

    names = {("main", table.name) for table in published_tables(read_manifest(dbt_project.manifest_path))} | {
        "evaluation"
    }
    reference, other = table_rows(runs["UTC"].warehouse, names), table_rows(runs[zone].warehouse, names)
    assert reference.keys() == other.keys()
    assert ("main", "metrics") in reference
    assert differences(reference, other) == {}


@pytest.mark.parametrize("zone", TIME_ZONES[1:])
def test_the_same_delivery_under_another_time_zone_publishes_the_same_copy(runs, zone):
    reference, other = runs["UTC"], runs[zone]
    assert reference.serving.exists() and other.serving.exists(), "a run did not publish"
    published, other_published = table_rows(reference.serving), table_rows(other.serving)
    assert published.keys() == other_published.keys()
    assert differences(published, other_published) == {}
