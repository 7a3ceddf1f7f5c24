"""Identifier guard: finds direct identifiers in an event (masking.py masks the refused line).

What counts as a direct identifier (contract v1, "What must be refused"):
- an 11-digit number that passes the check digits of a fødselsnummer, D-number (day + 40)
  or H-number (month + 40), under the current rule or the rule from 2032 (first check digit
  remainder 0-3, Skatteetaten: "Nytt fødselsnummer fra 2032"); synthetic test numbers
  (month + 80) are treated the same way;
- any identifier whose system is the national-ID or D-number OID;
- a person's name, address or telecom: keys ``name``, ``address``, ``telecom`` anywhere in
  the event, or a Patient/Person/RelatedPerson/Practitioner resource anywhere in it.

Digits inside a hex token that is a whole UUID or at least 32 hex characters long (the
pseudonym, a hash) are not scanned: such tokens often hold 11 decimal digits in a row, about
one in a hundred of which passes the check digits by chance, and refusing them would
quarantine valid events. A number anywhere else is scanned, whatever borders it: written next
to text ("fnr 0101…", "id:0101…") or glued to letters, hex ones included ("ID0101…X", "ref0101…").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from pipelines.contract.vocabulary import NATIONAL_ID_SYSTEMS

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2, 1)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
# Digits map to "1" and every other byte to "0", so runs of digits are found with bytes.find.
_DIGIT_MASK = bytes(0x31 if 0x30 <= b <= 0x39 else 0x30 for b in range(256))
_ELEVEN_ONES = b"1" * 11
_HEX_CHARACTERS = frozenset(b"0123456789abcdefABCDEF")
_LONG_HEX_TOKEN = 32
# A UUID's last group (12 hex characters) is the only one long enough for 11 digits.
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UUID_BEFORE_LAST_GROUP = 24
_PERSONAL_KEYS = frozenset({"name", "address", "telecom"})
_PERSON_RESOURCES = frozenset({"Patient", "Person", "RelatedPerson", "Practitioner"})
# A personal key or person resource in quotes, or a national-ID system: if none is in the raw
# line (and it has no JSON escape, which could spell one), the structural walk can be skipped.
# One regex costs about a third of a substring test per marker (written out so that words with
# a common start share it, which re does not do by itself); the OIDs' common prefix stands for
# both systems (a wider net only costs a walk).
_QUOTED_STRUCTURAL_WORD = re.compile(rb'"(?:name|address|telecom|P(?:atient|erson|ractitioner)|RelatedPerson)"')
_NATIONAL_ID_SYSTEM_PREFIX = os.path.commonprefix(NATIONAL_ID_SYSTEMS).encode()


def is_national_identity_number(digits: str) -> bool:
    """True for an 11-digit fødselsnummer, D-number or H-number under either check-digit rule."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    day = d[0] * 10 + d[1]
    month = d[2] * 10 + d[3]
    if day > 40:  # D-number
        day -= 40
    if month > 80:  # synthetic test numbers
        month -= 80
    elif month > 40:  # H-number
        month -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    first = sum(w * x for w, x in zip(_K1_WEIGHTS, d[:10])) % 11
    second = sum(w * x for w, x in zip(_K2_WEIGHTS, d)) % 11
    return first in (0, 1, 2, 3) and second == 0


def national_ids_in_text(raw: bytes) -> list[str]:
    """Every 11-digit national identity number in the raw line, outside hex tokens."""
    mask = raw.translate(_DIGIT_MASK)
    found = []
    start = mask.find(_ELEVEN_ONES)
    while start != -1:
        end = start + 11
        while end < len(mask) and mask[end] == 0x31:
            end += 1
        if end - start == 11 and not _inside_hex_token(raw, start, end):
            digits = raw[start:end].decode("ascii")
            if is_national_identity_number(digits):
                found.append(digits)
        start = mask.find(_ELEVEN_ONES, end)
    return found


def _inside_hex_token(raw: bytes, start: int, end: int) -> bool:
    """Whether raw[start:end] lies in a whole UUID or in a run of at least 32 hex characters."""
    left, right = start, end
    while left and raw[left - 1] in _HEX_CHARACTERS:
        left -= 1
    while right < len(raw) and raw[right] in _HEX_CHARACTERS:
        right += 1
    if right - left >= _LONG_HEX_TOKEN:
        return True
    first = left - _UUID_BEFORE_LAST_GROUP
    return first >= 0 and _UUID.fullmatch(raw, first, right) is not None


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
    """False only when the raw line cannot hold a personal key, a person resource or a national-ID
    system (a JSON escape could spell any of them, so a line with one is always walked)."""
    return b"\\" in raw or _NATIONAL_ID_SYSTEM_PREFIX in raw or _QUOTED_STRUCTURAL_WORD.search(raw) is not None


def structural_identifiers(node: object) -> tuple[list[str], list[str]]:
    """(what was found, the values to mask) from personal keys and national-ID identifiers."""
    findings: list[str] = []
    values: list[str] = []

    def walk(item: object, path: str) -> None:
        if isinstance(item, dict):
            if item.get("system") in NATIONAL_ID_SYSTEMS:
                findings.append(f"identifier with system {item['system']} at {path}")
                values.extend(_strings(item.get("value")))
            resource_type = item.get("resourceType")
            # Any JSON value can stand here; only a string can name a resource.
            if isinstance(resource_type, str) and resource_type in _PERSON_RESOURCES and path:
                findings.append(f"{resource_type} resource at {path}")
            for key, value in item.items():
                child = f"{path}.{key}" if path else key
                if key in _PERSONAL_KEYS:
                    findings.append(f"personal field {child}")
                    values.extend(_strings(value))
                else:
                    walk(value, child)
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, f"{path}[{index}]")

    walk(node, "")
    return findings, values
