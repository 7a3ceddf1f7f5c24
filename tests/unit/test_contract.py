"""Contract v1 validation: what is accepted, what is refused and why, and the identifier guard."""

import pytest

from pipelines.contract import identifiers, masking
from pipelines.contract.validation import AcceptedEvent, Rejection, validate_line
from tests.helpers import example_event, example_events, line, national_id


def refused(event_or_raw) -> Rejection:
    raw = event_or_raw if isinstance(event_or_raw, bytes) else line(event_or_raw)
    result = validate_line(raw)
    assert isinstance(result, Rejection), f"expected a rejection, got {result}"
    return result


def test_contract_examples_are_accepted_and_classified():
    results = [validate_line(line(event)) for event in example_events()]
    assert all(isinstance(r, AcceptedEvent) for r in results)
    assert [r.critical_information_type for r in results] == [
        "drug-reaction",
        "critical-condition",
        "drug-reaction",
        "other-procedure-change",
    ]
    assert results[2].resource_version == "2"
    assert results[0].occurred_at.utcoffset().total_seconds() == 3600


def test_json_syntax_error_reports_position():
    rejection = refused(b'{"event_id": "0b7f3c1e-5a43-4c51-9a57-2d2a1f0f6a01", ')
    assert rejection.reason_code == "json_syntax"
    assert "char" in rejection.reason


@pytest.mark.parametrize(
    "path, code, fragment",
    [
        (("event_id",), "missing_field", "missing field event_id"),
        (("source", "health_region"), "missing_field", "missing field source.health_region"),
        (("patient", "pseudonym"), "missing_field", "missing field patient.pseudonym"),
        (("resource",), "missing_field", "missing field resource"),
    ],
)
def test_missing_fields_are_named(path, code, fragment):
    event = example_event()
    node = event
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    rejection = refused(event)
    assert rejection.reason_code == code
    assert fragment in rejection.reason


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda e: e.update(event_type="deleted"), "event_type"),
        (lambda e: e.update(channel="fax"), "channel"),
        (lambda e: e["source"].update(organisation_type="pharmacy"), "source.organisation_type"),
        (lambda e: e["source"].update(organisation_id="12345"), "source.organisation_id"),
        (lambda e: e["patient"].update(municipality="9999"), "patient.municipality"),
        (lambda e: e["patient"].update(birth_year="1948"), "patient.birth_year"),
        (lambda e: e["patient"].update(sex="x"), "patient.sex"),
        (lambda e: e.update(occurred_at="2025-03-14T09:02:11"), "occurred_at"),
        (lambda e: e.update(event_id="not-a-uuid"), "event_id"),
        (lambda e: e["resource"].update(resourceType="Observation"), "resource.resourceType"),
    ],
)
def test_values_outside_type_or_enum_are_refused(mutate, fragment):
    event = example_event()
    mutate(event)
    rejection = refused(event)
    assert rejection.reason_code == "invalid_value"
    assert rejection.reason.startswith(fragment)


def test_invalid_fhir_reports_the_path():
    event = example_event()
    event["resource"]["criticality"] = 17
    rejection = refused(event)
    assert rejection.reason_code == "fhir_invalid"
    assert "criticality" in rejection.reason


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda r: r.update(criticality="extreme"), "criticality"),
        (lambda r: r.update(category=["medication", "drugs"]), "category.1"),
        (lambda r: r["reaction"][0].update(severity="fatal"), "reaction.0.severity"),
        (lambda r: r["clinicalStatus"]["coding"][0].update(code="happy"), "clinicalStatus.coding.code"),
        (
            lambda r: r["verificationStatus"]["coding"][0].update(system="http://example.org/status"),
            "verificationStatus",
        ),
    ],
)
def test_a_code_outside_its_required_value_set_is_invalid_fhir(mutate, path):
    # fhir.resources checks only that such a value is a code; R4 binds it to a fixed list.
    event = example_event()
    mutate(event["resource"])
    rejection = refused(event)
    assert rejection.reason_code == "fhir_invalid"
    assert f"at {path}:" in rejection.reason


def test_a_status_outside_its_value_set_is_invalid_fhir():
    event = next(e for e in example_events() if "status" in e["resource"])
    event["resource"]["status"] = "happy"
    rejection = refused(event)
    assert rejection.reason_code == "fhir_invalid"
    assert "at status: 'happy' is not in the required value set" in rejection.reason


def test_patient_reference_must_match_pseudonym():
    event = example_event(1)
    event["resource"]["subject"]["reference"] = "Patient/" + "0" * 64
    assert refused(event).reason_code == "patient_reference_mismatch"


def test_resource_without_a_critical_information_category_is_refused():
    event = example_event(1)
    event["resource"]["category"][0]["coding"][0]["code"] = "99"
    assert refused(event).reason_code == "unrecognised_type"


def test_extra_envelope_fields_are_ignored():
    event = example_event()
    event["producer_batch"] = "b-17"
    assert isinstance(validate_line(line(event)), AcceptedEvent)


def test_check_digits_current_and_2032_rules():
    # Skatteetaten's published examples ("Nytt fødselsnummer fra 2032").
    assert identifiers.is_national_identity_number("02013299997")
    assert identifiers.is_national_identity_number("30108299920")
    assert identifiers.is_national_identity_number("30108299939")  # remainder 1, valid only from 2032
    assert not identifiers.is_national_identity_number("30108299930")
    for remainder in range(4):
        number = national_id("150385", "123", remainder) or national_id("150385", "124", remainder)
        assert identifiers.is_national_identity_number(number)
    d_number = national_id("550385", "123") or national_id("550385", "124")
    h_number = national_id("154385", "123") or national_id("154385", "124")
    assert identifiers.is_national_identity_number(d_number)
    assert identifiers.is_national_identity_number(h_number)
    valid = national_id("150385", "123") or national_id("150385", "124")
    wrong_k2 = valid[:10] + str((int(valid[10]) + 1) % 10)
    assert not identifiers.is_national_identity_number(wrong_k2)
    assert not identifiers.is_national_identity_number("32138512345")  # no such day or month


@pytest.mark.parametrize(
    "plant",
    [
        lambda e, n: e["resource"]["reaction"][0]["manifestation"][0].update(text=f"pasient {n}"),
        lambda e, n: e["resource"].update(note=[{"text": f"fnr:{n}"}]),
        lambda e, n: e["source"].update(system=n),
        lambda e, n: e.update(comment=n),
    ],
)
def test_planted_national_id_is_refused_and_masked(plant):
    number = national_id("010190", "123") or national_id("010190", "124")
    event = example_event()
    plant(event, number)
    rejection = refused(event)
    assert rejection.reason_code == "identifier"
    assert number not in rejection.masked_text
    assert number not in rejection.reason
    assert masking.MASK_TOKEN.search(rejection.masked_text)


def test_national_id_system_name_and_address_are_refused_and_masked():
    event = example_event()
    event["resource"]["identifier"] = [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "secret-value-1"}]
    rejection = refused(event)
    assert rejection.reason_code == "identifier"
    assert "secret-value-1" not in rejection.masked_text

    event = example_event()
    event["resource"]["contained"] = [
        {
            "resourceType": "Patient",
            "name": [{"family": "Nordmann", "given": ["Kari"]}],
            "address": [{"line": ["Storgata 1"]}],
        }
    ]
    rejection = refused(event)
    assert rejection.reason_code == "identifier"
    for value in ("Nordmann", "Kari", "Storgata 1"):
        assert value not in rejection.masked_text


@pytest.mark.parametrize(
    "plant",
    [
        *(lambda e, key=key: e["resource"].update({key: "Kari"}) for key in sorted(identifiers._PERSONAL_KEYS)),
        *(
            lambda e, kind=kind: e["resource"].update(contained=[{"resourceType": kind, "id": "p1"}])
            for kind in sorted(identifiers._PERSON_RESOURCES)
        ),
        *(
            lambda e, system=system: e["resource"].update(identifier=[{"system": system, "value": "v"}])
            for system in identifiers.NATIONAL_ID_SYSTEMS
        ),
    ],
)
def test_every_structural_identifier_passes_the_quick_filter_and_is_refused(plant):
    # The filter that lets most lines skip the structural walk must let each of these through.
    event = example_event()
    plant(event)
    assert identifiers.may_hold_structural_identifiers(line(event))
    assert refused(event).reason_code == "identifier"


def test_national_id_in_unparseable_line_is_masked():
    number = national_id("241299", "456") or national_id("241299", "457")
    rejection = refused(f'{{"note": "{number}", broken'.encode())
    assert rejection.reason_code == "identifier"
    assert number not in rejection.masked_text


def test_digits_inside_a_pseudonym_are_not_identifiers():
    number = national_id("010190", "123") or national_id("010190", "124")
    event = example_event()
    # The rest of the pseudonym is the example's random hex, not padding.
    pseudonym = "ab" + number + "c" + event["patient"]["pseudonym"][14:]
    event["patient"]["pseudonym"] = pseudonym
    event["resource"]["patient"]["reference"] = f"Patient/{pseudonym}"
    assert isinstance(validate_line(line(event)), AcceptedEvent)


@pytest.mark.parametrize("written", ["ID{}X", "ref{}", "pasientid{}", "fnr={}E", "{}abc", "deadbeef{}"])
def test_national_id_glued_to_letters_is_refused_and_masked(written):
    # Only a whole UUID or a long hex token is exempt; ordinary words end in hex letters too.
    number = national_id("100583", "904") or national_id("100583", "905")
    event = example_event()
    event["resource"]["note"] = [{"text": written.format(number)}]
    rejection = refused(event)
    assert rejection.reason_code == "identifier"
    assert number not in rejection.masked_text


def test_digits_in_the_last_group_of_a_uuid_are_not_identifiers():
    number = national_id("100583", "904") or national_id("100583", "905")
    event = example_event()
    event["event_id"] = f"123e4567-e89b-42d3-a456-a{number}"
    assert isinstance(validate_line(line(event)), AcceptedEvent)
    assert identifiers.national_ids_in_text(f"id e89b-42d3-a456-a{number}".encode()) == [number]


def test_national_id_spelled_with_json_escapes_is_refused_and_masked():
    # The warehouse would store the decoded digits; the raw bytes show none.
    number = national_id("230375", "512") or national_id("230375", "513")
    escaped = "".join(f"\\u{ord(c):04x}" for c in number).encode()
    rejection = refused(line(example_event())[:-1] + b', "note": "fnr ' + escaped + b'"}')
    assert rejection.reason_code == "identifier"
    assert number not in rejection.masked_text and escaped.decode() not in rejection.masked_text
    assert masking.MASK_TOKEN.search(rejection.masked_text)


def test_national_id_as_a_key_is_masked_in_the_reason_too():
    number = national_id("111111", "111") or national_id("111111", "112")
    event = example_event()
    event["resource"][number] = {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "x"}
    rejection = refused(event)
    assert rejection.reason_code == "identifier"
    assert "identifier with system" in rejection.reason
    assert number not in rejection.reason and number not in rejection.masked_text


def test_a_resource_type_that_is_not_a_string_is_refused_not_raised():
    # The escape makes the guard walk the structure, where the resourceType is looked up.
    event = example_event()
    event["resource"]["resourceType"] = {"\u001f": None}
    assert refused(event).reason_code == "invalid_value"
