"""Masking of refused lines: nothing personal is kept, whatever the reason, and the reason stays readable."""

import json

import pytest

from pipelines.contract.masking import MASK_TOKEN, mask_refused
from pipelines.contract.validation import Rejection, validate_line
from tests.helpers import example_event, line, national_id

NUMBER = national_id("170562", "345") or national_id("170562", "346")
PLANTED = ["Kari Nordmann", "14.03.1985", "1985-03-14", NUMBER, "+47 912 34 567", "91234567", "Storgata 17", "Bygdøy"]


def planted_event(with_number: bool = False, **envelope) -> dict:
    """An event refused per ``envelope`` that also carries a name, birth date, phone and address
    in narrative and in fields no check refuses (and a national ID, which makes it refused for
    an identifier)."""
    event = example_event(0)
    event.update(envelope)
    event["resource"]["note"] = [{"text": "Kari Nordmann født 14.03.1985, tlf +47 912 34 567, Storgata 17, Bygdøy"}]
    if with_number:
        event["resource"]["reaction"][0]["description"] = NUMBER
    event["patient"]["fodselsdato"] = "1985-03-14"
    event["patient"]["tlf"] = 91234567
    return event


def assert_nothing_planted(*texts: str) -> None:
    for text in texts:
        for value in PLANTED:
            assert value not in text


@pytest.mark.parametrize(
    "raw, reason_code, reason_part",
    [
        (line(planted_event(channel="Kari Nordmann")), "invalid_value", "channel: '[text]' is not one of api, portal"),
        (line(planted_event(event_type="telefax")), "invalid_value", "event_type: '[text]' is not one of"),
        (line(planted_event())[:-30], "json_syntax", "invalid JSON"),
        (line(planted_event(True))[:-30], "identifier", "national identity number (and invalid JSON"),
        (line(planted_event(True)).decode().encode("utf-16"), "json_syntax", "invalid JSON"),
        (line(planted_event(True, channel="fax")), "identifier", "direct identifier: national identity number"),
        (
            json.dumps(["Kari Nordmann", "1985-03-14", "Storgata 17"]).encode(),
            "json_syntax",
            "not a JSON object but a list",
        ),
        (
            b"Kari Nordmann;14.03.1985;" + NUMBER.encode() + b";91234567;Storgata 17 Bygd\xc3\xb8y",
            "identifier",
            "national identity number",
        ),
    ],
    ids=[
        "wrong_enum_name",
        "wrong_enum",
        "truncated",
        "truncated_number",
        "utf16",
        "identifier",
        "not_an_object",
        "csv",
    ],
)
def test_a_refused_line_of_any_reason_keeps_nothing_planted(raw, reason_code, reason_part):
    rejection = validate_line(raw)
    assert isinstance(rejection, Rejection)
    assert rejection.reason_code == reason_code
    assert reason_part in rejection.reason
    assert_nothing_planted(rejection.masked_text, rejection.reason)
    assert MASK_TOKEN.search(rejection.masked_text)
    # Also not as the UTF-16 the line may have been written in.
    for value in PLANTED:
        assert value.encode("utf-16-le") not in rejection.masked_text.encode("utf-16-le")


def test_structure_codes_dates_and_enumerations_are_kept():
    event = planted_event(True)
    event["patient"]["municipality"] = "9901"
    rejection = validate_line(line(event))
    assert rejection.reason_code == "identifier"
    event["resource"]["reaction"][0]["description"] = "synlig utslett"
    without_number = validate_line(line(event))
    assert without_number.reason == "patient.municipality: '9901' has no county '99' in the 2024 numbering"
    kept = json.loads(rejection.masked_text)
    assert kept["event_id"] == event["event_id"] and kept["occurred_at"] == event["occurred_at"]
    assert kept["channel"] == "api" and kept["source"]["organisation_id"] == event["source"]["organisation_id"]
    assert kept["patient"]["pseudonym"] == event["patient"]["pseudonym"] and kept["patient"]["municipality"] == "9901"
    assert kept["patient"]["birth_year"] == event["patient"]["birth_year"]
    assert kept["resource"]["code"]["coding"][0] | {"display": None} == {
        "system": "http://www.whocc.no/atc",
        "code": "J01CE02",
        "display": None,
    }
    assert kept["resource"]["patient"] == event["resource"]["patient"]
    assert kept["resource"]["recordedDate"] == event["resource"]["recordedDate"]
    assert kept["source"]["system"] == kept["resource"]["note"][0]["text"] == "[text]"
    assert kept["patient"]["fodselsdato"] == "[date]" and kept["patient"]["tlf"] == "[number]"
    assert kept["resource"]["reaction"][0]["description"] == "[fnr]"


def test_a_truncated_line_keeps_its_keys_and_codes_readable():
    raw = (
        b'{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03", "channel": "api", '
        b'"note": "Kari Nordmann", "event_type": "crea'
    )
    _, text = mask_refused(raw, "invalid JSON")
    assert text == (
        '{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03", "channel": "api", "note": "[text]", "event_type": "[text]'
    )


def test_a_line_with_nothing_to_mask_is_kept_exactly():
    raw = b'{"event_id": "0f5f8f5e-1c1a-4a53-9d3e-6f2b1c0d9e03", "birth_year": 1948, "channel": "api"}'
    assert mask_refused(raw, "missing field event_type") == ("missing field event_type", raw.decode())
    assert mask_refused(b"{[1, 2,", "invalid JSON") == ("invalid JSON", "{[1, 2,")


def test_odd_keys_are_masked_in_the_text_and_in_the_reason():
    event = example_event(0)
    event["resource"][NUMBER] = {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "x"}
    event["resource"]["Kari Nordmann"] = {"Storgata 17": 1}
    rejection = validate_line(line(event))
    assert rejection.reason_code == "identifier"
    assert "identifier with system" in rejection.reason
    assert_nothing_planted(rejection.masked_text, rejection.reason)
    assert {"[key]", "[key2]"} <= set(json.loads(rejection.masked_text)["resource"])


def test_a_long_line_that_is_not_json_is_masked_token_by_token():
    # 100,000 tokens: masking must take each once (a quadratic look-ahead never ends on such a line).
    raw = b'{"note": ' + b'"Kari", ' * 100_000 + b'"x"'
    reason, text = mask_refused(raw, "invalid JSON")
    assert reason == "invalid JSON"
    assert text == '{"note": ' + '"[text]", ' * 100_000 + '"[text]"'
