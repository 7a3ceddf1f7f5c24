"""FHIR R4 resources of the simulated critical-information entries.

Each entry is one resource (``resourceType``/``id``) whose versions are built from the entry's
fixed content (``Entry``) and the state after each change (``State``). Resource shapes follow the
contract's recognition table; the types themselves come from the seed through
``critical_information_types()`` and are never listed here.

Code lists are small constant samples: ATC codes and ICD-10 codes are real codes with Norwegian
display texts (ICD-10 written without the dot, as in Volven 7110); the allergens are the 15 codes
of kodeverk 7514 "Annen allergi som kritisk informasjon".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pipelines.contract.vocabulary import (
    ALLERGY_CLINICAL_SYSTEM,
    ALLERGY_VERIFICATION_SYSTEM,
    CONDITION_CLINICAL_SYSTEM,
    CONDITION_VERIFICATION_SYSTEM,
    CRITICAL_INFORMATION_CATEGORY_SYSTEM,
    PROFILE_BASE,
    CriticalInformationType,
)
from pipelines.settings import LOCAL_TIMEZONE

OSLO = ZoneInfo(LOCAL_TIMEZONE)

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"

# Resources with clinicalStatus/verificationStatus; the others carry a single ``status``.
HAS_CLINICAL_STATUS = frozenset({"AllergyIntolerance", "Condition"})

# --- code lists ---------------------------------------------------------------------------

ATC_CODES: tuple[tuple[str, str], ...] = (
    ("J01CE02", "fenoksymetylpenicillin"),
    ("J01CA04", "amoksicillin"),
    ("J01CF02", "kloksacillin"),
    ("J01DB01", "cefaleksin"),
    ("J01DD04", "ceftriakson"),
    ("J01FA09", "klaritromycin"),
    ("J01FA01", "erytromycin"),
    ("J01EE01", "sulfametoksazol og trimetoprim"),
    ("J01MA02", "ciprofloksacin"),
    ("J01AA02", "doksycyklin"),
    ("J01XE01", "nitrofurantoin"),
    ("J01FF01", "klindamycin"),
    ("M01AE01", "ibuprofen"),
    ("M01AB05", "diklofenak"),
    ("N02BA01", "acetylsalisylsyre"),
    ("N02AA01", "morfin"),
    ("N02AJ06", "kodein og paracetamol"),
    ("N02AX02", "tramadol"),
    ("C09AA05", "ramipril"),
    ("C10AA01", "simvastatin"),
    ("N03AF01", "karbamazepin"),
    ("N03AX09", "lamotrigin"),
    ("M04AA01", "allopurinol"),
    ("V08AB02", "joheksol"),
    ("M03AB01", "suksametonium"),
    ("N01AX10", "propofol"),
)
# Penicillins and NSAIDs dominate drug reactions; the rest share the remainder.
ATC_WEIGHTS: tuple[float, ...] = (8, 5, 2, 2, 1, 2, 1, 3, 1, 1, 1, 1, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)

# Kodeverk 7514 with the FHIR AllergyIntolerance category each allergen belongs to.
ALLERGENS: tuple[tuple[str, str, str], ...] = (
    ("1", "Melk", "food"),
    ("2", "Egg", "food"),
    ("3", "Hvete", "food"),
    ("4", "Skalldyr", "food"),
    ("5", "Fisk", "food"),
    ("6", "Erter", "food"),
    ("7", "Soya", "food"),
    ("8", "Lupin", "food"),
    ("9", "Bukkhornskløver", "food"),
    ("10", "Peanøtt", "food"),
    ("11", "Andre nøtter enn peanøtter", "food"),
    ("12", "Valmuefrø", "food"),
    ("13", "Insektgift", "environment"),
    ("14", "Latex", "environment"),
    ("15", "Annen viktig allergi", "biologic"),
)
ALLERGEN_WEIGHTS: tuple[float, ...] = (2, 1, 1, 3, 2, 0.5, 0.5, 0.5, 0.2, 4, 3, 0.2, 5, 2, 1)

REACTIONS: tuple[tuple[str, str], ...] = (
    ("anafylaksi", "severe"),
    ("angioødem", "severe"),
    ("bronkospasme", "severe"),
    ("alvorlig hudreaksjon", "severe"),
    ("urtikaria", "moderate"),
    ("utslett", "mild"),
    ("kvalme og oppkast", "mild"),
)
REACTION_WEIGHTS: tuple[float, ...] = (5, 2, 1, 1, 3, 2, 1)

# ICD-10 codes per 7651 category code of a Condition.
ICD10_BY_CATEGORY: dict[str, tuple[tuple[str, str], ...]] = {
    "3": (
        ("T884", "Mislykket eller vanskelig intubasjon"),
        ("Q871", "Medfødte misdannelsessyndromer hovedsakelig forbundet med kortvoksthet"),
        ("M488", "Andre spesifiserte spondylopatier"),
    ),
    "4": (
        ("T883", "Malign hypertermi som følge av anestesi"),
        ("T882", "Sjokk som følge av anestesi"),
        ("T885", "Andre komplikasjoner ved anestesi"),
        ("E880", "Forstyrrelser i plasmaproteinmetabolismen"),
    ),
    "5": (
        ("D66", "Arvelig mangel på faktor VIII"),
        ("D67", "Arvelig mangel på faktor IX"),
        ("D680", "Von Willebrands sykdom"),
        ("E271", "Primær binyrebarksvikt"),
        ("E230", "Hypopituitarisme"),
        ("G700", "Myasthenia gravis"),
        ("E849", "Cystisk fibrose, uspesifisert"),
        ("I420", "Dilatert kardiomyopati"),
        ("G710", "Muskeldystrofi"),
    ),
    "7": (
        ("Z950", "Nærvær av pacemaker"),
        ("Z952", "Nærvær av hjerteklaffprotese"),
        ("Z955", "Nærvær av koronar angioplastisk implantat og graft"),
        ("Z962", "Nærvær av otologiske og audiologiske implantater"),
        ("Z966", "Nærvær av ortopedisk leddimplantat"),
    ),
    "10": (
        ("Z223", "Bærer av andre spesifiserte bakteriesykdommer"),
        ("B181", "Kronisk virushepatitt B uten deltaagens"),
        ("B182", "Kronisk virushepatitt C"),
        ("B24", "Uspesifisert HIV-sykdom"),
        ("A159", "Luftveistuberkulose, uspesifisert"),
        ("A047", "Enterokolitt forårsaket av Clostridium difficile"),
    ),
}
# Fallback for a Condition category the seed may add later.
ICD10_OTHER: tuple[tuple[str, str], ...] = (("R688", "Andre spesifiserte allmenne symptomer og tegn"),)

ONGOING_TREATMENTS: tuple[str, ...] = (
    "Antikoagulasjonsbehandling med warfarin",
    "Behandling med direktevirkende perorale antikoagulantia",
    "Hemodialyse",
    "Peritonealdialyse",
    "Cytostatikabehandling",
    "Immunsuppressiv behandling etter organtransplantasjon",
    "Langvarig systemisk kortikosteroidbehandling",
    "Behandling med biologiske legemidler",
    "Hjemmerespiratorbehandling",
)
PROCEDURE_CHANGES: tuple[str, ...] = (
    "Unngå blodtrykksmåling på venstre arm",
    "Unngå blodtrykksmåling og stikk på høyre arm (AV-fistel)",
    "Vanskelig venetilgang, bruk ultralyd",
    "Unngå sentralt venekateter på høyre side",
    "Kun lateksfritt utstyr",
    "MR kun etter avklaring med radiolog",
)
DEVICES: tuple[str, ...] = (
    "Pacemaker",
    "Implanterbar hjertestarter",
    "Cochleaimplantat",
    "Mekanisk hjerteklaff",
    "Insulinpumpe",
    "Nevrostimulator",
    "Intratekal legemiddelpumpe",
    "Vagusnervestimulator",
)
LIMITATIONS: tuple[str, ...] = (
    "Respiratorbehandling",
    "Intensivbehandling",
    "Dialyse",
    "Sondeernæring",
)
CPR_MINUS: tuple[str, ...] = ("Hjerte-lunge-redning",)
NOTES: tuple[str, ...] = (
    "Bekreftet ved provokasjonstest",
    "Opplysning kvalitetssikret av fastlege",
    "Reaksjon beskrevet i epikrise",
    "Pasienten informert",
    "Vurdert på nytt ved kontroll",
    "Oppdatert etter tverrfaglig møte",
)

_PROFILE_NAMES = {"critical-condition": "CriticalMedicalCondition"}
_ID_PREFIX = {
    "AllergyIntolerance": "ai",
    "Condition": "co",
    "Procedure": "pr",
    "Flag": "fl",
    "DeviceUseStatement": "du",
    "Consent": "cs",
}


def id_prefix(resource_type: str) -> str:
    return _ID_PREFIX.get(resource_type, resource_type[:2].lower())


def profile_url(kind: CriticalInformationType, types: tuple[CriticalInformationType, ...]) -> str:
    """KjAllergyIntolerance, KjFlag, …; a resource shared by several types gets a suffix per type."""
    siblings = [t for t in types if t.resource_type == kind.resource_type]
    name = "Kj" + kind.resource_type
    if len(siblings) > 1 and kind.resource_type != "AllergyIntolerance":
        name += _PROFILE_NAMES.get(kind.type_id) or "".join(p.capitalize() for p in kind.type_id.split("-"))
    return PROFILE_BASE + name


_HOURS: dict[int, tuple[str, str]] = {}


def iso(ts: int) -> str:
    """An instant as ISO 8601 with the Europe/Oslo offset of that instant, seconds precision.

    Oslo's offsets are whole hours, so only the hour part needs the time zone: it is looked up
    once per UTC hour and cached.
    """
    hour, rest = divmod(ts, 3600)
    cached = _HOURS.get(hour)
    if cached is None:
        local = datetime.fromtimestamp(hour * 3600, OSLO).isoformat()  # YYYY-MM-DDTHH:00:00+HH:MM
        cached = _HOURS[hour] = (local[:14], local[19:])
    minute, second = divmod(rest, 60)
    return f"{cached[0]}{minute:02d}:{second:02d}{cached[1]}"


def _coding(system: str, code: str, display: str | None = None) -> dict:
    if display is None:
        return {"system": system, "code": code}
    return {"system": system, "code": code, "display": display}


def _status(system: str, code: str) -> dict:
    return {"coding": [_coding(system, code)]}


@dataclass(slots=True)
class Entry:
    """The fixed content of one entry; its versions differ only by ``State``."""

    resource_type: str
    resource_id: str
    profile: str
    type_id: str
    category: str  # AllergyIntolerance: FHIR category code; otherwise the 7651 code ("" if none)
    category_display: str
    code: tuple[str, str, str] | None  # (system, code, display) or None where the entry is text
    text: str  # Procedure/Flag code text, device name, provision text
    allergy_type: str  # "allergy" | "intolerance"
    reaction: tuple[str, str] | None
    recorded_ts: int
    patient_reference: str
    recorded: str = ""  # recorded_ts as ISO 8601 (Europe/Oslo)

    def __post_init__(self) -> None:
        self.recorded = iso(self.recorded_ts)


class State(NamedTuple):
    """What a version of an entry says beyond its fixed content."""

    # clinicalStatus for AllergyIntolerance/Condition (None when entered in error), otherwise the status
    status: str | None
    verification: str | None  # verificationStatus, only where the resource has it
    criticality: str | None  # AllergyIntolerance only
    note: str | None  # a revision's note (Flag: its new text; Consent: marks it verified)


@cache
def shared_state(status: str | None, verification: str | None, criticality: str | None, note: str | None) -> State:
    """The one ``State`` with these values. Versions repeat a few hundred combinations, and sharing them
    spares the garbage collector, which keeps tracking every NamedTuple (it stops tracking plain tuples of
    strings), half a million objects at scale 1."""
    return State(status, verification, criticality, note)


def build_resource(entry: Entry, version: int, state: State) -> dict:
    status, verification, criticality, note = state
    rt = entry.resource_type
    resource: dict = {
        "resourceType": rt,
        "id": entry.resource_id,
        "meta": {"versionId": str(version), "profile": [entry.profile]},
    }
    recorded = entry.recorded
    if rt == "AllergyIntolerance":
        if status is not None:
            resource["clinicalStatus"] = _status(ALLERGY_CLINICAL_SYSTEM, status)
        resource["verificationStatus"] = _status(ALLERGY_VERIFICATION_SYSTEM, verification or "confirmed")
        resource["type"] = entry.allergy_type
        resource["category"] = [entry.category]
        if criticality is not None:
            resource["criticality"] = criticality
        resource["code"] = {"text": entry.text} if entry.code is None else {"coding": [_coding(*entry.code)]}
        resource["patient"] = {"reference": entry.patient_reference}
        resource["recordedDate"] = recorded
        if entry.reaction is not None:
            resource["reaction"] = [{"manifestation": [{"text": entry.reaction[0]}], "severity": entry.reaction[1]}]
    elif rt == "Condition":
        if status is not None:
            resource["clinicalStatus"] = _status(CONDITION_CLINICAL_SYSTEM, status)
        resource["verificationStatus"] = _status(CONDITION_VERIFICATION_SYSTEM, verification or "confirmed")
        resource["category"] = [
            {"coding": [_coding(CRITICAL_INFORMATION_CATEGORY_SYSTEM, entry.category, entry.category_display)]}
        ]
        resource["code"] = {"coding": [_coding(*entry.code)]}
        resource["subject"] = {"reference": entry.patient_reference}
        resource["recordedDate"] = recorded
    elif rt == "Procedure":
        resource["status"] = status
        resource["category"] = {
            "coding": [_coding(CRITICAL_INFORMATION_CATEGORY_SYSTEM, entry.category, entry.category_display)]
        }
        resource["code"] = {"text": entry.text}
        resource["subject"] = {"reference": entry.patient_reference}
        resource["performedPeriod"] = {"start": recorded}
    elif rt == "Flag":
        resource["status"] = status
        resource["category"] = [
            {"coding": [_coding(CRITICAL_INFORMATION_CATEGORY_SYSTEM, entry.category, entry.category_display)]}
        ]
        # Flag has no note: a revision rewrites the flag's text.
        resource["code"] = {"text": note or entry.text}
        resource["subject"] = {"reference": entry.patient_reference}
        resource["period"] = {"start": recorded}
        return resource
    elif rt == "DeviceUseStatement":
        resource["status"] = status
        resource["subject"] = {"reference": entry.patient_reference}
        resource["recordedOn"] = recorded
        resource["device"] = {"display": entry.text}
    elif rt == "Consent":
        resource["status"] = status
        resource["scope"] = {"coding": [_coding(CONSENT_SCOPE, "treatment", "Treatment")]}
        resource["category"] = [
            {"coding": [_coding(CRITICAL_INFORMATION_CATEGORY_SYSTEM, entry.category, entry.category_display)]}
        ]
        resource["patient"] = {"reference": entry.patient_reference}
        resource["dateTime"] = recorded
        resource["policyRule"] = {"text": "Behandlingsavklaring dokumentert i pasientjournalen"}
        # Consent has no note: a revision records that the decision was verified.
        if note is not None:
            resource["verification"] = [{"verified": True}]
        resource["provision"] = {"type": "deny", "code": [{"text": entry.text}]}
        return resource
    else:  # pragma: no cover - the seed only names the six resource types of the contract
        raise ValueError(f"no builder for resource type {rt}")
    if note is not None:
        resource["note"] = [{"text": note}]
    return resource


# Lifecycle vocabulary per resource type: (initial status, inactivated statuses, entered-in-error).
def initial_status(resource_type: str) -> str:
    return {"Procedure": "in-progress"}.get(resource_type, "active")


def inactive_statuses(resource_type: str) -> tuple[str, ...]:
    return {
        "AllergyIntolerance": ("inactive", "resolved"),
        "Condition": ("inactive", "resolved"),
        "Procedure": ("completed", "stopped"),
        "Flag": ("inactive",),
        "DeviceUseStatement": ("completed", "stopped"),
        "Consent": ("inactive",),
    }[resource_type]


# Entries registered before they are certain, confirmed within weeks (assumed; docs/simulator.md, "Lifecycle").
UNCONFIRMED_ALLERGY_SHARE = 0.25
PROVISIONAL_CONDITION_SHARE = 0.15


def initial_verifications(resource_type: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if resource_type == "AllergyIntolerance":
        return ("confirmed", "unconfirmed"), (1 - UNCONFIRMED_ALLERGY_SHARE, UNCONFIRMED_ALLERGY_SHARE)
    if resource_type == "Condition":
        return ("confirmed", "provisional"), (1 - PROVISIONAL_CONDITION_SHARE, PROVISIONAL_CONDITION_SHARE)
    return (None,), (1.0,)  # type: ignore[return-value]
