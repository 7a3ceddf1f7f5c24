"""Personal data other than a plain national identity number (issue 10, point 3): names,
addresses and contact points wherever they stand, the display of a reference to a person, and
national identity numbers hidden in pseudonym- or UUID-shaped values. Each is refused as
`identifier`, passes the quick filter that decides whether a line is walked, and is masked."""

import hashlib

import pytest

from pipelines.contract import identifiers
from pipelines.contract.validation import AcceptedEvent, Rejection, validate_line
from tests.helpers import example_event, line, national_id

NAME, STREET, PHONE = "Kari Nordmann", "Storgata 1", "+47 91234567"


def refused_and_masked(event: dict, *secrets: str, structural: bool = True) -> Rejection:
    raw = line(event)
    # What the walk finds must get past the quick filter; a number is found in the text itself.
    assert identifiers.may_hold_structural_identifiers(raw) or not structural
    result = validate_line(raw)
    assert isinstance(result, Rejection) and result.reason_code == "identifier", result
    for secret in secrets:
        assert secret not in result.masked_text and secret not in result.reason
    return result


def extension(**value) -> list[dict]:
    return [{"url": "http://example.org/fhir/StructureDefinition/x", **value}]


@pytest.mark.parametrize(
    "plant, secret",
    [
        (lambda e: e["resource"].update(extension=extension(valueHumanName={"text": NAME})), NAME),
        (lambda e: e["resource"].update(extension=extension(valueAddress={"text": STREET})), STREET),
        (
            lambda e: e["resource"].update(extension=extension(valueContactPoint={"system": "phone", "value": PHONE})),
            PHONE,
        ),
        (lambda e: e.update(kontakt={"system": "sms", "value": PHONE}), PHONE),
        (lambda e: e["patient"].update(navn={"family": "Nordmann", "given": ["Kari"]}), "Nordmann"),
        (lambda e: e["patient"].update(adresse={"line": [STREET], "city": "Bergen", "postalCode": "5003"}), STREET),
        # Extra envelope fields written as plain text under Norwegian keys.
        (lambda e: e["patient"].update(navn=NAME), NAME),
        (lambda e: e["patient"].update(adresse=STREET), STREET),
        (lambda e: e["patient"].update(telefon=PHONE), PHONE),
    ],
)
def test_names_addresses_and_contact_points_anywhere_are_refused(plant, secret):
    event = example_event()
    plant(event)
    reason = refused_and_masked(event, secret).reason
    assert "personal field" in reason or "contact point" in reason


@pytest.mark.parametrize(
    "plant, where",
    [
        (lambda e: e["resource"]["patient"].update(display=NAME), "resource.patient"),
        (
            lambda e: e["resource"].update(recorder={"reference": "Practitioner/17", "display": NAME}),
            "resource.recorder",
        ),
        (
            lambda e: e["resource"].update(asserter={"identifier": {"value": "17"}, "display": NAME}),
            "resource.asserter",
        ),
        (
            lambda e: e["resource"].update(
                extension=extension(valueReference={"reference": "RelatedPerson/2", "display": NAME})
            ),
            "resource.extension[0].valueReference",
        ),
        (
            lambda e: e.update(ekstra={"display": NAME, "reference": "https://fhir.example.no/Practitioner/17"}),
            "ekstra",
        ),
        (lambda e: e.update(ekstra={"type": "Patient", "display": NAME}), "ekstra"),
    ],
)
def test_the_display_of_a_reference_to_a_person_is_refused(plant, where):
    event = example_event()
    plant(event)
    rejection = refused_and_masked(event, NAME)
    assert f"display of a reference to a person at {where}" in rejection.reason


def test_a_coding_display_is_not_walked_and_a_device_display_is_no_person():
    # The example's coding displays name concepts: the line is not even walked.
    assert not identifiers.may_hold_structural_identifiers(line(example_event()))
    device_use = {
        "resourceType": "DeviceUseStatement",
        "subject": {"reference": "Patient/x"},
        "device": {"display": "Pacemaker"},
    }
    assert identifiers.structural_identifiers(device_use) == ([], [])


def pseudonym_event(pseudonym: str) -> dict:
    event = example_event()
    event["patient"]["pseudonym"] = pseudonym
    event["resource"]["patient"]["reference"] = f"Patient/{pseudonym}"
    return event


NUMBER = national_id("100583", "904") or national_id("100583", "905")


def test_a_number_zero_padded_into_the_pseudonym_is_refused():
    pseudonym = NUMBER.rjust(64, "0")
    for padded in (pseudonym, ("ab" + NUMBER).rjust(64, "0")):
        assert (
            "national identity number" in refused_and_masked(pseudonym_event(padded), NUMBER, structural=False).reason
        )


def test_a_number_as_the_last_group_of_a_padded_uuid_is_refused():
    event = example_event()
    event["event_id"] = f"00000000-0000-4000-8000-0{NUMBER}"
    assert "national identity number" in refused_and_masked(event, NUMBER, structural=False).reason


def test_a_number_in_a_hex_run_that_is_no_pseudonym_or_uuid_is_refused():
    sha1_like = "ab" + NUMBER + "c" + hashlib.sha1(b"x").hexdigest()[:27]
    assert len(sha1_like) == 41
    event = example_event()
    event["resource"]["note"] = [{"text": sha1_like}]
    refused_and_masked(event, NUMBER, structural=False)


def test_a_number_by_chance_in_a_random_pseudonym_or_uuid_is_not_refused():
    random_hex = hashlib.sha256(b"kritinfo").hexdigest()
    assert isinstance(validate_line(line(pseudonym_event("ab" + NUMBER + "c" + random_hex[:50]))), AcceptedEvent)
    event = example_event()
    event["event_id"] = f"{random_hex[:8]}-{random_hex[8:12]}-4{random_hex[13:16]}-a{random_hex[17:20]}-a{NUMBER}"
    assert isinstance(validate_line(line(event)), AcceptedEvent)


def verhoeff_valid(digits: str) -> bool:
    """Verhoeff's check by the dihedral group D5, computed from its definition (not the tables)."""

    def d5(a: int, b: int) -> int:  # a, b as rotations (0-4) or reflections (5-9)
        if a < 5 and b < 5:
            return (a + b) % 5
        if a < 5:
            return 5 + (a + b - 5) % 5
        if b < 5:
            return 5 + (a - 5 - b) % 5
        return (a - b) % 5

    permutation = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
    check = 0
    for position, digit in enumerate(int(c) for c in reversed(digits)):
        for _ in range(position % 8):
            digit = permutation[digit]
        check = d5(check, digit)
    return check == 0


def test_verhoeff_from_its_definition_agrees_with_known_sctids():
    # SNOMED CT concepts: myocardial infarction, allergy to penicillin, diabetes mellitus.
    assert all(verhoeff_valid(code) for code in ("22298006", "91936005", "73211009"))
    assert not verhoeff_valid("22298007")


# An FH-number that also ends in a SNOMED CT partition (10: a concept in an extension) and a
# valid Verhoeff digit: found by search over the formula, checked by both rules above.
SNOMED_SHAPED = next(
    n
    for serial in range(10**6)
    if (n := national_id(f"8{serial // 100:05d}", f"{serial % 100:02d}1")) and n[-3:-1] == "10" and verhoeff_valid(n)
)


def test_a_snomed_ct_code_that_passes_its_check_is_a_code_not_an_identifier():
    assert identifiers.is_national_identity_number(SNOMED_SHAPED)
    event = example_event()
    event["resource"]["code"]["coding"].append({"system": identifiers.SNOMED_CT_SYSTEM, "code": SNOMED_SHAPED})
    assert isinstance(validate_line(line(event)), AcceptedEvent)
    # The same digits in free text, or under another system, are a number.
    event["resource"]["note"] = [{"text": f"se {SNOMED_SHAPED}"}]
    refused_and_masked(event, SNOMED_SHAPED, structural=False)
    event = example_event()
    event["resource"]["code"]["coding"].append({"system": "http://example.org/local", "code": SNOMED_SHAPED})
    refused_and_masked(event, SNOMED_SHAPED, structural=False)


def test_a_national_id_that_fails_the_verhoeff_check_is_refused_in_a_snomed_code():
    number = next(
        n for serial in range(1000) if (n := national_id("150186", f"{serial:03d}")) and not verhoeff_valid(n)
    )
    event = example_event()
    event["resource"]["code"]["coding"].append({"system": identifiers.SNOMED_CT_SYSTEM, "code": number})
    refused_and_masked(event, number, structural=False)
