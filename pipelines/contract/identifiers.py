"""Identifier guard: finds direct identifiers in an event (masking.py masks the refused line).

What counts as a direct identifier (contract v1.1, "What must be refused"):
- an 11-digit number that passes the check digits of a fødselsnummer, D-number (day + 40),
  H-number (month + 40) or FH-number (felles hjelpenummer: first digit 8 or 9, no birth date),
  under the current rule or the rule from 2032 (first check digit remainder 0-3, Skatteetaten:
  "Nytt fødselsnummer fra 2032"); synthetic test numbers (month + 80) are treated the same way;
- any identifier whose system is the national-ID or D-number OID;
- a person's name, address or telecom anywhere in the event: keys ``name``, ``address``,
  ``telecom``, ``value[x]`` of type HumanName, Address or ContactPoint, the parts only those
  types have (``family``, ``given``, ``line``, ``city``, ``postalCode``), a ContactPoint by its
  system (phone, fax, email, pager, sms), a Patient/Person/RelatedPerson/Practitioner(Role)
  resource, and the display of a reference to a person.
An 11-digit SNOMED CT code that passes its own check is a code (see without_snomed_ct_codes).

A number is found in every string of the line, keys included, in each form a producer writes:
- 11 digits in a row, also zero-padded to a longer run (a fixed-width field: ``0015018610040``);
- the 6 date digits, one separator, the 5 personal digits (``150186 10040``, ``150186-10040``);
- the date with dots, dashes or slashes (the same one twice), then optionally one separator
  (``15.01.86 10040``, ``15.01.86-10040``, ``15/01/86 10040``, ``15.01.8610040``).
A separator is one of space, tab, ``. - : / _`` or what word processors and web pages put
there instead: no-break, narrow, thin and other Unicode spaces, invisible characters (zero
width space and joiners, word joiner, BOM, soft hyphen, direction marks), Unicode hyphens and
dashes, and the minus sign. Each form is bounded by non-digits only, so it is found glued to
text ("fnr:0101…", "ID0101…X").

Digits inside a value that is a whole pseudonym (64 lowercase hex) or a whole UUID are not an
identifier unless the rest of the value is padding: 0.07 % of random pseudonyms and 0.008 % of
random UUIDs hold 11 digits in a row that pass the check digits by chance, and refusing them
would quarantine every event of such a patient for good. A number padded into such a value
("000…0" + the number, "00000000-0000-0000-0000-0" + the number), or standing in a hex run of
any other length, is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from pipelines.contract.vocabulary import NATIONAL_ID_SYSTEMS

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2, 1)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
# One separator between the groups of a number: space, tab, . - : / _, or what word processors
# and web pages put there instead (UTF-8): no-break space, soft hyphen, U+2000-U+2015 (Unicode
# spaces, zero widths, joiners, direction marks, hyphens, dashes), narrow no-break space, word
# joiner, minus sign, zero width no-break space.
_SEPARATOR = rb"(?:[ \t./:_-]|\xc2[\xa0\xad]|\xe2\x80[\x80-\x95\xaf]|\xe2\x81\xa0|\xe2\x88\x92|\xef\xbb\xbf)"
# Every written form, bounded by non-digits: 11 digits (zero padding before them allowed);
# 6 date digits, a separator, 5 personal digits; dd.mm.yy (or - or /, the same twice), an
# optional separator, 5 personal digits.
_WRITTEN_NUMBER = re.compile(
    rb"(?<![0-9])(?:0*[0-9]{11}|[0-9]{6}" + _SEPARATOR + rb"[0-9]{5}"
    rb"|[0-9]{2}([./-])[0-9]{2}\1[0-9]{2}" + _SEPARATOR + rb"?[0-9]{5})(?![0-9])"
)
# The regex costs 10 µs on a typical line, a bytes.translate and a find 1 µs: digits and every
# byte a separator is made of map to "1", so each written form is a run of at least 11 "1"s, and
# only such a run that also holds 5 digits in a row (the personal digits; OIDs such as
# urn:oid:2.16.578.1.12.4.1.1.7651, the common run in valid events, hold none) meets the regex.
_SEPARATOR_BYTES = b" \t./:_-\xc2\xa0\xad\xe2\xaf\xef\xbb\xbf" + bytes(range(0x80, 0x96))
_MASK = bytes(0x31 if 0x30 <= b <= 0x39 or b in _SEPARATOR_BYTES else 0x30 for b in range(256))
_DIGIT_MASK = bytes(0x31 if 0x30 <= b <= 0x39 else 0x30 for b in range(256))
_ELEVEN_ONES = b"1" * 11
_FIVE_ONES = b"1" * 5
# SNOMED CT identifiers carry a Verhoeff check digit after a partition identifier (concept,
# description, relationship; short or long format): SNOMED CT Technical Implementation Guide,
# "SCTID Representation" and "Check-digit".
SNOMED_CT_SYSTEM = "http://snomed.info/sct"
_SNOMED_PARTITIONS = frozenset({"00", "01", "02", "10", "11", "12"})
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_HEX_CHARACTERS = frozenset(b"0123456789abcdefABCDEF")
_PSEUDONYM_LENGTH = 64
# A UUID's last group (12 hex characters) is the only one long enough for 11 digits.
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UUID_BEFORE_LAST_GROUP = 24
# Keys whose value is a person's name, address or telecom wherever they stand: the elements of
# those types (name, address, telecom), an extension's or any element's value[x] of those types,
# and the parts that only a HumanName (family, given) or an Address (line, city, postalCode) has.
_PERSONAL_KEYS = frozenset(
    {
        "name",
        "address",
        "telecom",
        "valueHumanName",
        "valueAddress",
        "valueContactPoint",
        "family",
        "given",
        "line",
        "city",
        "postalCode",
        # The same in Norwegian, as a producer's extra envelope fields name them (patient.navn).
        "navn",
        "fornavn",
        "mellomnavn",
        "etternavn",
        "adresse",
        "postnummer",
        "poststed",
        "telefon",
        "mobil",
        "epost",
    }
)
_PERSON_RESOURCES = frozenset({"Patient", "Person", "RelatedPerson", "Practitioner", "PractitionerRole"})
# A ContactPoint under any other key: its system says it is a person's phone or address.
_CONTACT_POINT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "sms"})
# Elements of the contract's resource types (and of the common ones around them) whose Reference
# points to a person: their display is that person's name. A Reference elsewhere counts when its
# reference or type names a person resource.
_PERSON_REFERENCE_KEYS = frozenset(
    {
        "patient",
        "subject",
        "recorder",
        "asserter",
        "performer",
        "actor",
        "author",
        "informant",
        "informationSource",
        "requester",
        "enterer",
        "individual",
        "verifiedWith",
        "who",
        "valueReference",
    }
)
_PERSON_REFERENCE = re.compile(r"(?:^|/)(?:Patient|Person|RelatedPerson|Practitioner|PractitionerRole)/")
# A personal key, a person resource or a contact point system in quotes, or a national-ID
# system: if none is in the raw line, no display stands outside a plain Coding, and the line has
# no JSON escape (which could spell any of them), the structural walk can be skipped. One regex
# costs about a third of a substring test per marker (the lookahead lets most quotes fail at
# once); the OIDs' common prefix stands for both systems (a wider net only costs a walk).
_QUOTED_STRUCTURAL_WORD = re.compile(
    rb'"(?=[natfglcpesvmPR])(?:name|address|telecom|family|fax|given|line|city|postalCode|phone|pager|email|sms'
    rb"|value(?:HumanName|Address|ContactPoint)|P(?:atient|erson|ractitioner(?:Role)?)|RelatedPerson"
    rb'|navn|fornavn|mellomnavn|etternavn|adresse|post(?:nummer|sted)|telefon|mobil|epost)"'
)
# A Coding of system, code and display only: its display names a concept. Any other display (of a
# Reference, or in an object with more keys) makes the line walked.
_CODING_WITH_DISPLAY = re.compile(
    rb'\{\s*"system"\s*:\s*"[^"]*"\s*,\s*"code"\s*:\s*"[^"]*"\s*,\s*"display"\s*:\s*"[^"]*"\s*\}'
)
_NATIONAL_ID_SYSTEM_PREFIX = os.path.commonprefix(NATIONAL_ID_SYSTEMS).encode()


def is_national_identity_number(digits: str) -> bool:
    """True for an 11-digit fødselsnummer, D-, H- or FH-number under either check-digit rule."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    first = sum(w * x for w, x in zip(_K1_WEIGHTS, d[:10], strict=True)) % 11
    second = sum(w * x for w, x in zip(_K2_WEIGHTS, d, strict=True)) % 11
    if first > 3 or second != 0:
        return False
    # FH-number: "ellevesifret med to kontrollsiffer, som i ordinære fødselsnummer, men med
    # første siffer 8 eller 9", the other digits random (Norsk helsenett, "Hva er felles
    # hjelpenummer?"), so there is no date to check. The 2032 rule is taken for them too: the
    # contract names both rules for every kind, and missing a number costs more than a false alarm.
    if d[0] >= 8:
        return True
    day = d[0] * 10 + d[1]
    month = d[2] * 10 + d[3]
    if day > 40:  # D-number
        day -= 40
    if month > 80:  # synthetic test numbers
        month -= 80
    elif month > 40:  # H-number
        month -= 40
    return 1 <= day <= 31 and 1 <= month <= 12


def is_snomed_ct_identifier(digits: str) -> bool:
    """True when the digits end in a known partition identifier and a valid Verhoeff digit."""
    if not digits.isdigit() or digits[-3:-1] not in _SNOMED_PARTITIONS:
        return False
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def without_snomed_ct_codes(found: list[str], node: object, text: bytes) -> list[str]:
    """The numbers found, less those that are the code of a SNOMED CT coding and pass its own
    check, wherever each stands as a whole string value (a code, not a number in free text).
    Only a number that passes both checks is kept out: one in ten by chance for each, so a
    national identity number put into a SNOMED CT code still meets its Verhoeff digit and
    partition by chance about once in a hundred times."""
    codes = set()

    def walk(item: object) -> None:
        if isinstance(item, dict):
            code = item.get("code")
            if item.get("system") == SNOMED_CT_SYSTEM and isinstance(code, str) and is_snomed_ct_identifier(code):
                codes.add(code)
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return [
        written
        for written in found
        if not (written in codes and text.count(written.encode()) == text.count(b'"' + written.encode() + b'"'))
    ]


def national_ids_in_text(raw: bytes) -> list[str]:
    """Every national identity number in the raw line, as written there (with its separators
    or padding); digits inside a whole pseudonym or UUID are left out."""
    # JSON writes a tab as \t; read as a tab, it is a separator (mask() also replaces the escaped
    # form). Looking for the backslash first is a memchr; the pair alone costs a microsecond.
    if b"\\" in raw and b"\\t" in raw:
        raw = raw.replace(b"\\t", b"\t")
    mask = raw.translate(_MASK)
    found = []
    start = mask.find(_ELEVEN_ONES)
    while start != -1:
        end = mask.find(b"0", start + 11)
        end = len(mask) if end == -1 else end
        run = raw[start:end]
        if _FIVE_ONES in run.translate(_DIGIT_MASK):
            for match in _WRITTEN_NUMBER.finditer(run):
                written = match.group()
                if written.isdigit() and _inside_pseudonym_or_uuid(raw, start + match.start(), start + match.end()):
                    continue
                if is_national_identity_number(national_id_digits(written.decode("utf-8"))):
                    found.append(written.decode("utf-8"))
        start = mask.find(_ELEVEN_ONES, end)
    return found


def national_id_digits(written: str) -> str:
    """The 11 digits of a number as national_ids_in_text returns it."""
    return "".join(c for c in written if "0" <= c <= "9")[-11:]


def _inside_pseudonym_or_uuid(raw: bytes, start: int, end: int) -> bool:
    """Whether the digits raw[start:end] lie in a whole pseudonym or UUID that is not padding
    around them (random hex: no one character fills half of the rest)."""
    left, right = start, end
    while left and raw[left - 1] in _HEX_CHARACTERS:
        left -= 1
    while right < len(raw) and raw[right] in _HEX_CHARACTERS:
        right += 1
    token = raw[left:right]
    if not (len(token) == _PSEUDONYM_LENGTH and token == token.lower()):
        first = left - _UUID_BEFORE_LAST_GROUP
        if first < 0 or _UUID.fullmatch(raw, first, right) is None:
            return False
        left = first
    if raw[left - 1 : left].isalnum() or raw[right : right + 1].isalnum():
        return False  # part of a longer word, not a whole value
    rest = (raw[left : end - 11] + raw[end:right]).replace(b"-", b"")
    return max(map(rest.count, set(rest)), default=0) * 2 < len(rest)


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, int) and not isinstance(node, bool):
        yield str(node)


def may_hold_structural_identifiers(raw: bytes) -> bool:
    """False only when the raw line cannot hold a personal key, a person resource, a contact
    point, a display of a reference or a national-ID system (a JSON escape could spell any of
    them, so a line with one is always walked)."""
    return (
        b"\\" in raw
        or _NATIONAL_ID_SYSTEM_PREFIX in raw
        or _QUOTED_STRUCTURAL_WORD.search(raw) is not None
        or raw.count(b'"display"') > len(_CODING_WITH_DISPLAY.findall(raw))
    )


def structural_identifiers(node: object) -> tuple[list[str], list[str]]:
    """(what was found, the values to mask) from personal keys and values, person resources,
    displays of references to persons and national-ID identifiers."""
    findings: list[str] = []
    values: list[str] = []

    def walk(item: object, path: str, key: str) -> None:
        if isinstance(item, dict):
            system = item.get("system")
            if system in NATIONAL_ID_SYSTEMS:
                findings.append(f"identifier with system {system} at {path}")
                values.extend(_strings(item.get("value")))
            elif isinstance(system, str) and system in _CONTACT_POINT_SYSTEMS and "value" in item:
                findings.append(f"contact point at {path}")
                values.extend(_strings(item.get("value")))
            resource_type = item.get("resourceType")
            # Any JSON value can stand here; only a string can name a resource.
            if isinstance(resource_type, str) and resource_type in _PERSON_RESOURCES and path:
                findings.append(f"{resource_type} resource at {path}")
            if "display" in item and _refers_to_person(item, key):
                findings.append(f"display of a reference to a person at {path}")
                values.extend(_strings(item["display"]))
            for child_key, value in item.items():
                child = f"{path}.{child_key}" if path else child_key
                if child_key in _PERSONAL_KEYS:
                    findings.append(f"personal field {child}")
                    values.extend(_strings(value))
                else:
                    walk(value, child, child_key)
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, f"{path}[{index}]", key)

    walk(node, "", "")
    return findings, values


def _refers_to_person(reference: dict, key: str) -> bool:
    """Whether a Reference (an object with a display) points to a person: by the element it
    stands in, or by its reference or type."""
    if key in _PERSON_REFERENCE_KEYS:
        return True
    target, kind = reference.get("reference"), reference.get("type")
    return (isinstance(target, str) and _PERSON_REFERENCE.search(target) is not None) or (
        isinstance(kind, str) and kind in _PERSON_RESOURCES
    )
