"""Every written form of a national identity number is refused and never kept in clear.

python-stdnum's `stdnum.no.fodselsnummer` is the oracle for fødselsnummer, D- and H-numbers
(current check-digit rule, a real birth date): every number it accepts, written in every form
the guard supports and placed in values, keys or JSON escapes of a valid event, is refused as
`identifier`, and neither the masked text nor the reason holds its digits in any form. stdnum
knows neither FH-numbers (it rejects a first digit 8 or 9) nor the 2032 rule, so those are built
with tests/helpers.py's generator from the published formula. Near misses (the same digits with
a wrong check digit) in the same forms must pass: a false alarm quarantines a valid event.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.no import fodselsnummer

from pipelines.contract import identifiers, masking
from pipelines.contract.validation import AcceptedEvent, Rejection, validate_line
from tests.helpers import example_events, line, national_id

# Read once: each example plants hundreds of lines.
EXAMPLE = example_events()[0]
# One separator between the date and the personal digits, as typed, as word processors and web
# pages write it (no-break, narrow and thin spaces, en dash, non-breaking hyphen, minus sign) and
# with invisible characters between (zero width space, BOM, soft hyphen).
SEPARATORS = [
    " ",
    "-",
    ".",
    ":",
    "/",
    "_",
    "\t",
    "\u00a0",
    "\u202f",
    "\u2009",
    "\u2013",
    "\u2011",
    "\u2212",
    "\u200b",
    "\ufeff",
    "\u00ad",
]


def written_forms(number: str) -> list[str]:
    """The number as producers write it: plain, zero-padded, separated, with a dotted date."""
    date_part, personal = number[:6], number[6:]
    dotted = {mark: mark.join((date_part[:2], date_part[2:4], date_part[4:])) for mark in "./-"}
    return [
        number,
        "000" + number,
        *(date_part + separator + personal for separator in SEPARATORS),
        dotted["."] + " " + personal,
        dotted["."] + "-" + personal,
        dotted["."] + "\u00a0" + personal,
        dotted["."] + personal,
        dotted["/"] + " " + personal,
        dotted["-"] + " " + personal,
    ]


def escaped(text: str) -> str:
    """Every character as a JSON \\u escape: the raw line shows no digit."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def planted_lines(written: str) -> list[bytes]:
    """A valid example event with the written number in one place each: values of the envelope,
    of the resource and of an extension, a key, and a value spelled with JSON escapes only."""
    placements = [
        lambda e: e["resource"]["reaction"][0]["manifestation"][0].update(text=f"pasient {written} reagerte"),
        lambda e: e["resource"].update(note=[{"text": f"fnr:{written}"}]),
        lambda e: e["resource"].update(extension=[{"url": "http://example.org/x", "valueString": written}]),
        lambda e: e["source"].update(system=f"EPJ {written}"),
        lambda e: e.update(kommentar=written),
        lambda e: e.update(ekstra={written: "nøkkel"}),
        lambda e: e["resource"]["code"].update(text=f"ID{written}X"),
    ]
    lines = []
    for place in placements:
        event = copy.deepcopy(EXAMPLE)
        place(event)
        lines.append(line(event))
    lines.append(line(EXAMPLE)[:-1] + f', "merknad": "fnr {escaped(written)}"}}'.encode())
    lines.append(line(EXAMPLE)[:-1] + f', "{escaped(written)}": 1}}'.encode())
    return lines


def digits_in_any_form(number: str) -> re.Pattern:
    """The 11 digits in order with up to 4 other characters between each two: any written form."""
    return re.compile(r"\D{0,4}".join(number))


def assert_refused_and_masked(raw: bytes, number: str) -> None:
    result = validate_line(raw)
    assert isinstance(result, Rejection), raw
    assert result.reason_code == "identifier", (result.reason, raw)
    pattern = digits_in_any_form(number)
    assert not pattern.search(result.masked_text), result.masked_text
    assert not pattern.search(result.reason), result.reason
    assert masking.MASK_TOKEN.search(result.masked_text), result.masked_text


@st.composite
def stdnum_numbers(draw) -> str:
    """A number stdnum accepts: a fødselsnummer, D-number (day + 40) or H-number (month + 40),
    with an individual number in the range the birth year's century uses."""
    born = draw(st.dates(min_value=date(1854, 1, 1), max_value=date.today()))
    if born.year < 1900:
        individual = draw(st.integers(500, 749))
    elif born.year < 1940:
        individual = draw(st.integers(0, 499))
    elif born.year < 2000:
        individual = draw(st.integers(0, 499) | st.integers(900, 999))
    else:
        individual = draw(st.integers(500, 999))
    kind = draw(st.sampled_from(["fødselsnummer", "D-number", "H-number"]))
    day = born.day + (40 if kind == "D-number" else 0)
    month = born.month + (40 if kind == "H-number" else 0)
    prefix = f"{day:02d}{month:02d}{born.year % 100:02d}{individual:03d}"
    first = fodselsnummer.calc_check_digit1(prefix)
    assume(len(first) == 1)
    second = fodselsnummer.calc_check_digit2(prefix + first)
    assume(len(second) == 1)
    number = prefix + first + second
    assert fodselsnummer.is_valid(number), number
    return number


def test_the_example_events_hold_no_identifier():
    # The premise of every test below: the events the numbers are planted in are valid.
    assert all(isinstance(validate_line(line(event)), AcceptedEvent) for event in example_events())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stdnum_numbers())
def test_every_number_stdnum_accepts_is_refused_in_every_written_form_and_place(number):
    assert identifiers.is_national_identity_number(number)
    for written in written_forms(number):
        for raw in planted_lines(written):
            assert_refused_and_masked(raw, number)
    # As a JSON number, where it can be one.
    if number[0] != "0":
        event = copy.deepcopy(EXAMPLE)
        event["batch"] = int(number)
        assert_refused_and_masked(line(event), number)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stdnum_numbers(), st.integers(1, 9))
def test_a_wrong_check_digit_is_not_an_identifier_in_any_written_form(number, shift):
    near_miss = number[:10] + str((int(number[10]) + shift) % 10)
    # Independently of the guard: no rule (current or 2032, any kind) completes these 9 digits so.
    assert near_miss not in {national_id(number[:6], number[6:9], remainder) for remainder in range(4)}
    assert not fodselsnummer.is_valid(near_miss)
    for written in written_forms(near_miss):
        for raw in planted_lines(written):
            assert isinstance(validate_line(raw), AcceptedEvent), raw


@st.composite
def generated_numbers(draw) -> str:
    """Kinds stdnum does not accept, from the published formula: FH-numbers (first digit 8 or 9,
    8 random digits), numbers under the 2032 rule (first check digit remainder 1-3) and
    synthetic test numbers (month + 80)."""
    kind = draw(st.sampled_from(["FH-number", "2032 rule", "synthetic"]))
    if kind == "FH-number":
        prefix = str(draw(st.integers(8, 9))) + f"{draw(st.integers(0, 10**8 - 1)):08d}"
    else:
        born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)))
        month = born.month + (80 if kind == "synthetic" else 0)
        prefix = f"{born.day:02d}{month:02d}{born.year % 100:02d}{draw(st.integers(0, 999)):03d}"
    number = national_id(prefix[:6], prefix[6:], draw(st.integers(1, 3)) if kind == "2032 rule" else 0)
    assume(number is not None)
    return number


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_numbers())
def test_fh_2032_and_synthetic_numbers_are_refused_in_every_written_form(number):
    for written in written_forms(number):
        for raw in planted_lines(written):
            assert_refused_and_masked(raw, number)


def test_stdnum_rejects_fh_numbers_so_they_are_checked_against_the_formula():
    fh_number = national_id("812345", "678") or national_id("812345", "679")
    assert not fodselsnummer.is_valid(fh_number)
    assert identifiers.is_national_identity_number(fh_number)
    # 8 or 9 first, then any digits: a day of 80-99 is no date, so only an FH-number passes.
    assert not identifiers.is_national_identity_number(fh_number[:-1] + str((int(fh_number[-1]) + 1) % 10))
    seven = national_id("712345", "678") or national_id("712345", "679")
    assert not identifiers.is_national_identity_number(seven)


@pytest.mark.parametrize(
    "written, expected",
    [
        ("fnr 150186 10040.", ["150186 10040"]),
        ("150186-10040/150186:10040", ["150186-10040", "150186:10040"]),
        ("født 15.01.86-10040", ["15.01.86-10040"]),
        ("id=0015018610040", ["0015018610040"]),
        ("150186\u00a010040", ["150186\u00a010040"]),
    ],
)
def test_the_guard_returns_each_number_as_written(written, expected):
    # 15018610040 is valid under the current rule (k1 = 4, k2 = 0, worked by hand from the weights).
    assert national_id("150186", "100") == "15018610040"
    assert identifiers.national_ids_in_text(json.dumps({"t": written}, ensure_ascii=False).encode()) == expected


@pytest.mark.parametrize(
    "written",
    [
        "150186  10040",  # two separators: not one of the forms, and ordinary in tables
        "150186 100401",  # six personal digits
        "1150186 10040",  # seven date digits
        "115018610040",  # twelve digits not padded with zeros
        "15.01-86 10040",  # two different marks in the date
        "150186,10040",  # a comma separates list items, not the groups of a number
    ],
)
def test_digits_that_only_resemble_a_written_form_are_not_numbers(written):
    assert identifiers.national_ids_in_text(json.dumps({"t": written}).encode()) == []


def test_a_separated_number_as_a_key_is_masked_in_the_reason_too():
    event = copy.deepcopy(EXAMPLE)
    event["resource"]["150186 10040"] = {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "x"}
    rejection = validate_line(line(event))
    assert rejection.reason_code == "identifier"
    assert "identifier with system" in rejection.reason
    for text in (rejection.reason, rejection.masked_text):
        assert not digits_in_any_form("15018610040").search(text)


def test_every_written_form_of_one_number_is_masked_by_a_fixed_token():
    for written in written_forms("15018610040"):
        _reason, masked = masking.mask_refused(json.dumps({"t": written}, ensure_ascii=False).encode(), "refused")
        assert masked in ('{"t":"[fnr]"}', '{"t":"[text]"}'), (written, masked)


def test_a_tab_written_as_json_writes_it_is_a_separator():
    raw = b'{"t": "150186\\t10040"}'
    assert identifiers.national_ids_in_text(raw) == ["150186\t10040"]
    assert masking.mask_refused(raw, "refused") == ("refused", '{"t":"[text]"}')
