"""Mask a refused line, and its reason, before either is stored: what is kept is what a person
needs to read why the line was refused, and nothing that could be personal.

Kept: the structure (objects, lists, punctuation), keys, numbers, booleans and null, values of
the contract's closed vocabularies, dates and date-times under a key, UUIDs and long hex tokens
(the pseudonym), and codes: a value under a coding key (``code``, ``system``, ``reference``, the
envelope's enumerations and numbers...) that is one token, written like a code (lower case, or
with a digit: ``active``, ``J01CE02``, ``D66``, ``Patient/<pseudonym>``) or a URI.
Masked, by a fixed token in its place: every other string (names, addresses, phones, narrative,
display texts, product names) as ``[text]``; a national identity number as ``[fnr]``; a string
under a birth-date key as ``[date]``; an integer of 8 digits or more (a phone number written as
a number) as ``[number]``; a key that is not a plain identifier-like word as ``[key]``.

There is no hash and no key: nothing in kritinfo needs to tell whether two masked values were
equal (a person's lines are found by file and line, and the producer holds the originals), so
the masked text cannot be reversed by anyone, whatever they hold.

A line that is not JSON (cut short, another encoding, not an event at all) is read as JSON
tokens as far as they go: strings are masked by the same rules (a string followed by ``:`` is a
key), numbers too, ``true``/``false``/``null`` and punctuation are kept, and every other run of
letters or digits is masked. NUL bytes (UTF-16 text read as UTF-8) are dropped first.

The reason is masked so that it never shows more than the masked line: every value or key the
line masked is replaced in it, as is every quoted value that is not part of a kept value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import orjson

from pipelines.contract.identifiers import national_ids_in_text
from pipelines.contract.vocabulary import (
    CHANNELS,
    EVENT_TYPES,
    HEALTH_REGIONS,
    ORGANISATION_TYPES,
    PATIENT_REFERENCE_FIELD,
    SEXES,
    critical_information_types,
)

TEXT, NATIONAL_ID, DATE, NUMBER, KEY = "[text]", "[fnr]", "[date]", "[number]", "[key]"
# Whether a stored line holds a mask token (a replay must not load such a line: it is not what
# was delivered). A key token may carry a number, to keep masked keys of one object distinct.
MASK_TOKEN = re.compile(r"\[(?:text|fnr|date|number|key\d*)\]")

_ENUMERATED_KEYS = {
    "event_type": EVENT_TYPES,
    "channel": CHANNELS,
    "organisation_type": ORGANISATION_TYPES,
    "health_region": HEALTH_REGIONS,
    "sex": SEXES,
}
# Keys whose string values are codes in the contract or in the FHIR resources it carries.
_CODE_KEYS = frozenset(
    {
        "event_id",
        "organisation_id",
        "municipality",
        "pseudonym",
        "resourceType",
        "id",
        "versionId",
        "code",
        "system",
        "version",
        "reference",
        "profile",
        "url",
        "status",
        "clinicalStatus",
        "verificationStatus",
        "type",
        "category",
        "criticality",
        "severity",
        "intent",
        "unit",
        "language",
    }
)
_BIRTH_KEY = re.compile(r"birth|f(?:ø|o)ds|f(?:ø|o)dt|dob", re.IGNORECASE)
_CODE = re.compile(r"[a-z0-9][a-z0-9._:/|\-]{0,127}|(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9._:/|\-]{0,127}")
_URI = re.compile(r"(?:https?://|urn:)[^\s\"'<>\\]{1,200}")
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_LONG_DIGITS = re.compile(r"\d{5,}")
_KEPT_DIGITS = 7
_INTEGER_PART = re.compile(r"\d*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
# Tokens of a line that is not JSON: strings (also one cut short), numbers written like dates
# (14.03.1985), numbers, runs of word characters, runs of space, and single other characters.
_LEXEME = re.compile(
    r'"(?:[^"\\]|\\.)*(?P<closed>"|$)|\d+(?:[./-]\d+){2,}|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?!\w)|\w+|\s+|.', re.DOTALL
)
# A number stands where JSON puts one only between these: else it is text (912 34 567, +47).
_BEFORE_NUMBER = frozenset({":", ",", "["})
_AFTER_NUMBER = frozenset({",", "]", "}", ""})
_JSON_WORDS = frozenset({"true", "false", "null"})
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


@cache
def _vocabulary() -> frozenset[str]:
    words = {w for values in _ENUMERATED_KEYS.values() for w in values}
    words.update(PATIENT_REFERENCE_FIELD)
    for kind in critical_information_types():
        words.update((kind.type_id, kind.resource_type, *kind.category_codes))
    return frozenset(words)


class _Masker:
    """Masks the values of one line and remembers what it kept and masked, for the reason."""

    def __init__(self, personal: Iterable[str]):
        self.personal = frozenset(v for v in personal if v)
        self.changed = False
        self.kept: set[str] = set()
        self.masked_keys: dict[str, str] = {}
        self.masked_numbers: set[str] = set()

    def string(self, value: str, key: str | None) -> str:
        token = self._token(value, key)
        if token is None:
            self.kept.add(value)
            return value
        self.changed = True
        return token

    def _token(self, value: str, key: str | None) -> str | None:
        if national_ids_in_text(value.encode("utf-8")):
            return NATIONAL_ID if value.strip().isdigit() else TEXT
        if value in self.personal:
            return TEXT
        if key is not None and _BIRTH_KEY.search(key):
            return DATE
        if key in _ENUMERATED_KEYS:
            return None if value in _ENUMERATED_KEYS[key] else TEXT
        if value in _vocabulary() or _UUID.fullmatch(value) or _LONG_HEX.fullmatch(value):
            return None
        if key is not None and _DATE.fullmatch(value):  # without a key, nothing says what a date is
            return None
        if key in _CODE_KEYS and (_CODE.fullmatch(value) or _URI.fullmatch(value)):
            return None
        return TEXT

    def key(self, key: str, taken: Iterable[str]) -> str:
        if _PLAIN_KEY.fullmatch(key) and not _LONG_DIGITS.search(key) and key not in self.personal:
            self.kept.add(key)
            return key
        token, n = KEY, 1
        while token in taken:
            n += 1
            token = f"[key{n}]"
        self.changed = True
        self.masked_keys[key] = token
        return token

    def number(self, written: str) -> str | None:
        """The token for a number written so (None: kept): 8 digits or more may be a phone."""
        digits = _INTEGER_PART.match(written.lstrip("-")).group()
        if len(digits) <= _KEPT_DIGITS:
            return None
        self.changed = True
        self.masked_numbers.add(digits)
        return NUMBER

    def node(self, item: object, key: str | None) -> object:
        if isinstance(item, str):
            return self.string(item, key)
        if isinstance(item, bool) or item is None or isinstance(item, float):
            return item
        if isinstance(item, int):
            return self.number(str(item)) or item
        if isinstance(item, list):
            return [self.node(value, key) for value in item]
        out: dict[str, object] = {}
        for child_key, value in item.items():
            out[self.key(child_key, out)] = self.node(value, child_key)
        return out

    def text(self, text: str) -> str:
        """A line that is not JSON, masked token by token."""
        out: list[str] = []
        last_key: str | None = None
        lexemes = list(_LEXEME.finditer(text))
        # Each lexeme's next one that is not white space, found backwards: linear in the line, which
        # may be a hostile megabyte of tokens.
        following_of, following = [""] * len(lexemes), ""
        for index in range(len(lexemes) - 1, -1, -1):
            following_of[index] = following
            if not lexemes[index].group().isspace():
                following = lexemes[index].group()
        previous = ""
        for index, match in enumerate(lexemes):
            lexeme = match.group()
            following = following_of[index]
            if not lexeme.isspace():
                before, previous = previous, lexeme
            if lexeme.startswith('"'):
                closed = bool(match.group("closed"))
                value = _unquoted(lexeme[1:-1] if closed else lexeme[1:])
                if closed and following == ":":
                    last_key = value
                    kept = self.key(value, ())
                else:
                    kept = self.string(value, last_key)
                out.append(lexeme if kept == value else '"' + kept + ('"' if closed else ""))
            elif _NUMBER.fullmatch(lexeme) and before in _BEFORE_NUMBER and following in _AFTER_NUMBER:
                out.append(self.number(lexeme) or lexeme)
            elif any(c.isalnum() for c in lexeme):
                if lexeme not in _JSON_WORDS:
                    self.changed = True
                    lexeme = NATIONAL_ID if national_ids_in_text(lexeme.encode()) == [lexeme] else TEXT
                out.append(lexeme)
            else:
                out.append(lexeme)
        return "".join(out)

    def reason(self, reason: str) -> str:
        # Keys stand unquoted in paths; short ones are left, as they would hit words of the text.
        for key in sorted((k for k in self.masked_keys if len(k) >= 4), key=len, reverse=True):
            reason = reason.replace(key, self.masked_keys[key])
        for digits in sorted(self.masked_numbers, key=len, reverse=True):
            reason = reason.replace(digits, NUMBER)

        def quoted(match: re.Match) -> str:
            inner = match.group()[1:-1]
            if MASK_TOKEN.fullmatch(inner) or any(inner in kept for kept in self.kept):
                return match.group()
            return match.group()[0] + TEXT + match.group()[0]

        reason = _QUOTED.sub(quoted, reason)
        for number in national_ids_in_text(reason.encode("utf-8")):
            reason = reason.replace(number, NATIONAL_ID)
        return reason


def _unquoted(inner: str) -> str:
    try:
        return orjson.loads(f'"{inner}"')
    except orjson.JSONDecodeError:
        return inner


def mask_refused(raw: bytes, reason: str, personal: Iterable[str] = (), *, as_text: bool = False) -> tuple[str, str]:
    """(masked reason, masked text) of a refused line (without its line end). ``personal`` are
    values the identifier guard found: masked wherever they stand, even where a code would be kept.
    ``as_text`` masks the line token by token without parsing it (a line too deep to parse, or one
    whose validation failed in an unforeseen way).

    A line whose masking replaces nothing is returned exactly as delivered.
    """
    masker = _Masker(personal)
    try:
        parsed = None if as_text else orjson.loads(raw)
    except orjson.JSONDecodeError:
        as_text = True
    if as_text:
        text = raw.replace(b"\x00", b"").decode("utf-8", "replace")
        return masker.reason(reason), masker.text(text)
    masked = masker.node(parsed, None)
    text = orjson.dumps(masked).decode("utf-8") if masker.changed else raw.decode("utf-8")
    return masker.reason(reason), text
