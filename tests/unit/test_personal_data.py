"""Personal data other than a plain national identity number (issue 10, point 3): names,
addresses and contact points wherever they stand, the display of a reference to a person, and
national identity numbers hidden in pseudonym- or UUID-shaped values. Each is refused as
`identifier`, passes the quick filter that decides whether a line is walked, and is masked."""

import hashlib

import pytest

from pipelines.contract import identifiers
from pipelines.contract.validation import Event, Rejection, validate_line
from tests.helpers import example_event, line, national_id

KEY = b"personal-key"
NAME, STREET, PHONE = "Kari Nordmann", "Storgata 1", "+47 91234567"


def refused_and_masked(event: dict, *secrets: str, structural: bool = True) -> Rejection:
    raw = line(event)
    # What the walk finds must get past the quick filter; a number is found in the text itself.
    assert identifiers.may_hold_structural_identifiers(raw) or not structural
    result = validate_line(raw, KEY)
    assert isinstance(result, Rejection) and result.reason_code == "identifier", result
    for secret in secrets:
        assert secret not in result.masked_text and secret not in result.reason
    return result


def extension(**value) -> list[dict]:
    return [{"url": "http://example.org/fhir/StructureDefinition/x", **value}]


@pytest.mark.parametrize("plant, secret", [
    (lambda e: e["resource"].update(extension=extension(valueHumanName={"text": NAME})), NAME),
    (lambda e: e["resource"].update(extension=extension(valueAddress={"text": STREET})), STREET),
    (lambda e: e["resource"].update(extension=extension(valueContactPoint={"system": "phone", "value": PHONE})), PHONE),
    (lambda e: e.update(kontakt={"system": "sms", "value": PHONE}), PHONE),
    (lambda e: e["patient"].update(navn={"family": "Nordmann", "given": ["Kari"]}), "Nordmann"),
    (lambda e: e["patient"].update(adresse={"line": [STREET], "city": "Bergen", "postalCode": "5003"}), STREET),
])
def test_names_addresses_and_contact_points_anywhere_are_refused(plant, secret):
    event = example_event()
    plant(event)
    refused_and_masked(event, secret)


@pytest.mark.parametrize("plant, where", [
    (lambda e: e["resource"]["patient"].update(display=NAME), "resource.patient"),
    (lambda e: e["resource"].update(recorder={"reference": "Practitioner/17", "display": NAME}), "resource.recorder"),
    (lambda e: e["resource"].update(asserter={"identifier": {"value": "17"}, "display": NAME}), "resource.asserter"),
    (lambda e: e["resource"].update(extension=extension(valueReference={"reference": "RelatedPerson/2", "display": NAME})),
     "resource.extension[0].valueReference"),
    (lambda e: e.update(ekstra={"display": NAME, "reference": "https://fhir.example.no/Practitioner/17"}), "ekstra"),
    (lambda e: e.update(ekstra={"type": "Patient", "display": NAME}), "ekstra"),
])
def test_the_display_of_a_reference_to_a_person_is_refused(plant, where):
    event = example_event()
    plant(event)
    rejection = refused_and_masked(event, NAME)
    assert f"display of a reference to a person at {where}" in rejection.reason


def test_a_coding_display_is_not_walked_and_a_device_display_is_no_person():
    # The example's coding displays name concepts: the line is not even walked.
    assert not identifiers.may_hold_structural_identifiers(line(example_event()))
    device_use = {"resourceType": "DeviceUseStatement", "subject": {"reference": "Patient/x"},
                  "device": {"display": "Pacemaker"}}
    assert identifiers.structural_identifiers(device_use) == ([], [])


def pseudonym_event(pseudonym: str) -> dict:
    event = example_event()
    event["patient"]["pseudonym"] = pseudonym
    event["resource"]["patient"]["reference"] = f"Patient/{pseudonym}"
    return event


NUMBER = national_id("100583", "904") or national_id("100583", "905")


def test_a_number_zero_padded_into_the_pseudonym_is_refused():
    pseudonym = NUMBER.rjust(64, "0")
    refused_and_masked(pseudonym_event(pseudonym), NUMBER, structural=False)
    refused_and_masked(pseudonym_event(("ab" + NUMBER).rjust(64, "0")), NUMBER, structural=False)


def test_a_number_as_the_last_group_of_a_padded_uuid_is_refused():
    event = example_event()
    event["event_id"] = f"00000000-0000-4000-8000-0{NUMBER}"
    refused_and_masked(event, NUMBER, structural=False)


def test_a_number_in_a_hex_run_that_is_no_pseudonym_or_uuid_is_refused():
    sha1_like = "ab" + NUMBER + "c" + hashlib.sha1(b"x").hexdigest()[:27]
    assert len(sha1_like) == 41
    event = example_event()
    event["resource"]["note"] = [{"text": sha1_like}]
    refused_and_masked(event, NUMBER, structural=False)


def test_a_number_by_chance_in_a_random_pseudonym_or_uuid_is_not_refused():
    random_hex = hashlib.sha256(b"kritinfo").hexdigest()
    assert isinstance(validate_line(line(pseudonym_event("ab" + NUMBER + "c" + random_hex[:50])), KEY), Event)
    event = example_event()
    event["event_id"] = f"{random_hex[:8]}-{random_hex[8:12]}-4{random_hex[13:16]}-a{random_hex[17:20]}-a{NUMBER}"
    assert isinstance(validate_line(line(event), KEY), Event)
