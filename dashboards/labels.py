"""Bokmål names for the codes the published tables use (grains, breakdowns, statuses, units).

The types of critical information are named by the seed ``critical_information_types.csv``
(their one definition, read through pipelines.contract.vocabulary); regions and counties by the
published coverage marts (dashboards/queries.py ``areas``).
"""

from __future__ import annotations

from functools import cache

from dashboards.table import Number
from pipelines import nb_format as fmt
from pipelines.contract.vocabulary import critical_information_types

NATIONAL = "Hele landet"

DIMENSIONS = {
    "total": "Totalt",
    "channel": "Kanal",
    "organisation_type": "Virksomhetstype",
    "critical_information_type": "Type kritisk informasjon",
    "epj_product": "EPJ-produkt",
}
CHANNELS = {
    "api": "API (fra journalsystemet)",
    "portal": "Kjernejournalportalen",
}
ORGANISATION_TYPES = {
    "hospital": "Sykehus",
    "gp": "Fastlege",
    "municipal": "Kommunal helse- og omsorgstjeneste",
    "emergency": "Legevakt",
    "private-specialist": "Privatpraktiserende spesialist",
}
GRAINS = {"national": "Landet", "region": "Helseregion", "county": "Fylke"}

# Goal status (pipelines/evaluation/forecast.py) -> what the Mål page says.
GOAL_STATUSES = {
    "on_track": "På sporet",
    "at_risk": "Usikker",
    "off_track": "Ikke på sporet",
    "met": "Nådd",
    "missed": "Ikke nådd",
    "insufficient_data": "For lite data",
}

# How a metric's value is written, by its unit (meta.metric.unit); other units: whole numbers.
UNIT_NUMBERS = {
    "prosent": Number(decimals=1, percent=True),
    "timer": Number(decimals=1),
}


@cache
def _critical_information_types() -> dict[str, str]:
    return {kind.type_id: kind.label_nb for kind in critical_information_types()}


def dimension_value(dimension_name: str, value: str) -> str:
    """The bokmål name of one value of a breakdown (the code itself when it has none)."""
    names = {
        "channel": CHANNELS,
        "organisation_type": ORGANISATION_TYPES,
        "critical_information_type": _critical_information_types(),
    }.get(dimension_name, {})
    if dimension_name == "total":
        return DIMENSIONS["total"]
    return names.get(value, value)


def unit_number(unit: str) -> Number:
    return UNIT_NUMBERS.get(unit, Number(decimals=0))


def listed(codes: str, names: dict[str, str]) -> str:
    """A comma-separated list of codes (as metric_definitions holds them) in bokmål."""
    return ", ".join(names.get(code, code) for code in codes.split(",") if code)


# The unit a change is written in, by the metric's unit (meta.metric.unit): a change of a
# percentage is in percentage points. Other units are written out as they are.
CHANGE_UNITS = {"prosent": "pp", "timer": "t", "kroner per person": "kr"}


def change_text(change: float, unit: str, number: Number) -> str:
    """A change with its sign and unit: ``+1,2 pp``, ``-3,5 t``, ``+120 kr``, ``+42 personer``."""
    text = fmt.number(change, number.decimals, signed=True)
    return f"{text}{fmt.NBSP}{CHANGE_UNITS.get(unit, unit)}" if unit else text


def delta_options(shown_change: str | None, rise_is_good: bool | None) -> dict[str, str]:
    """st.metric options for a change: green for an improvement, red for a worsening (an arrow
    either way); no arrow or colour when the change rounds to nothing or its direction has no
    value judgement."""
    if not shown_change or shown_change[0] not in "+-":
        return {"delta_arrow": "off", "delta_color": "off"}
    if rise_is_good is None:
        return {"delta_color": "off"}
    return {"delta_color": "normal" if rise_is_good else "inverse"}


IMPROVEMENT, WORSENING = "bedring", "forverring"


def change_description(since: str, shown_change: str, rise_is_good: bool | None) -> str:
    """The words beside a change: since when and, for a metric with a declared direction, whether
    the change is an improvement, so that it is told by more than the change's colour."""
    if rise_is_good is None or shown_change[0] not in "+-":
        return since
    return f"{since} · {IMPROVEMENT if (shown_change[0] == '+') == rise_is_good else WORSENING}"
