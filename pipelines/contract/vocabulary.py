"""Enumerations and code systems of contract v1 (docs/contract.md).

The types of critical information themselves are reference data: the dbt seed
``critical_information_types.csv`` is their one source, read here by ``critical_information_types``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from pipelines.settings import SEEDS_DIR

EVENT_TYPES = ("created", "updated", "inactivated", "entered-in-error")
CHANNELS = ("api", "portal")
ORGANISATION_TYPES = ("hospital", "gp", "municipal", "emergency", "private-specialist")
HEALTH_REGIONS = ("helse-sor-ost", "helse-vest", "helse-midt-norge", "helse-nord")
SEXES = ("female", "male", "unknown")
PORTAL_SYSTEM = "kjernejournal-portal"

# Where each resource type carries its patient reference.
PATIENT_REFERENCE_FIELD = {
    "AllergyIntolerance": "patient",
    "Condition": "subject",
    "Procedure": "subject",
    "Flag": "subject",
    "DeviceUseStatement": "subject",
    "Consent": "patient",
}

ATC_SYSTEM = "http://www.whocc.no/atc"
ALLERGEN_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.7514"
CRITICAL_INFORMATION_CATEGORY_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.7651"
ICD10_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.7110"
ALLERGY_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONDITION_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
PROFILE_BASE = "http://nhn.no/kj/fhir/StructureDefinition/"

# Identifier systems of the national identity number and the D-number.
NATIONAL_ID_SYSTEMS = ("urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2")


@dataclass(frozen=True)
class CriticalInformationType:
    type_id: str
    label_nb: str
    resource_type: str
    category_system: str
    category_codes: tuple[str, ...]


@cache
def critical_information_types() -> tuple[CriticalInformationType, ...]:
    with open(SEEDS_DIR / "critical_information_types.csv", newline="", encoding="utf-8") as f:
        return tuple(
            CriticalInformationType(
                type_id=row["type_id"],
                label_nb=row["label_nb"],
                resource_type=row["resource_type"],
                category_system=row["category_system"],
                category_codes=tuple(c for c in row["category_code"].split("|") if c),
            )
            for row in csv.DictReader(f)
        )
