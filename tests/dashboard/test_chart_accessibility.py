"""Every chart the dashboard draws (WCAG 2.1 AA, 1.1.1 and 1.4.1), read from the Vega-Lite specs
of AppTest runs on the hand-made serving.duckdb: each has a title and a description for screen
readers, and series told apart by colour are also told apart by dash pattern, point shape, a name
written at the line or a look of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts

VIEWS = {  # what to open -> (page file, address parameters)
    "oversikt": (None, {}),
    "effekt": ("views/effekt.py", {}),
    "effekt fordelt": ("views/effekt.py", {"fordelt": "organisation_type"}),
    "maal": ("views/maal.py", {}),
    "datakvalitet": ("views/datakvalitet.py", {}),
}
CHANNELS_OTHER_THAN_COLOUR = ("strokeDash", "shape")


def drawn_specs(app: AppTest, page: str | None, params: dict[str, str]) -> list[dict]:
    app.run()
    if page is not None:
        app.switch_page(page)
    app.query_params.update(params)
    at = app.run()
    assert not at.exception
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def field(channel: dict | None) -> str | None:
    return None if not isinstance(channel, dict) else channel.get("field")


def series_field(unit: dict) -> str | None:
    """The field a unit spec colours its series by (a nominal one), if any."""
    colour = unit.get("encoding", {}).get("color")
    if isinstance(colour, dict) and colour.get("type") == "nominal":
        return colour.get("field")
    return None


def look(unit: dict) -> tuple:
    """How a layer of one series looks apart from its colour: mark type, dash, shape, points."""
    mark = unit["mark"] if isinstance(unit["mark"], dict) else {"type": unit["mark"]}
    return (mark["type"], str(mark.get("strokeDash")), mark.get("shape"), bool(mark.get("point")))


def told_by_colour_alone(spec: dict, path: str = "") -> list[str]:
    """The parts of ``spec`` whose series differ in colour only."""
    found = []
    layers = spec.get("layer", [])
    units = [u for u in layers if "mark" in u]
    labelled = {field(u["encoding"].get("text")) for u in units if look(u)[0] == "text" and "encoding" in u}
    single_series = [u for u in units if series_field(u) and any("filter" in t for t in u.get("transform", []))]
    own_looks = [look(u) for u in single_series]
    for position, unit in enumerate(units if layers else [spec] if "mark" in spec else []):
        name = series_field(unit)
        if name is None or look(unit)[0] == "text":
            continue
        encoding = unit["encoding"]
        if any(field(encoding.get(c)) == name for c in CHANNELS_OTHER_THAN_COLOUR) or name in labelled:
            continue
        if unit in single_series and own_looks.count(look(unit)) == 1:
            continue
        found.append(f"{path}/layer[{position}] colours {name!r}")
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for position, child in enumerate(spec.get(key, [])):
            if "mark" not in child:
                found += told_by_colour_alone(child, f"{path}/{key}[{position}]")
    if "spec" in spec:
        found += told_by_colour_alone(spec["spec"], f"{path}/spec")
    return found


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_chart_has_a_title_a_description_and_more_than_colour(serving_home: Path, app: AppTest, view: str):
    specs = drawn_specs(app, *VIEWS[view])
    assert specs, f"{view} draws no chart"
    for spec in specs:
        title = spec.get("title")
        assert title and spec.get("description"), f"{view}: a chart without title or description"
        assert not told_by_colour_alone(spec), (title, told_by_colour_alone(spec))
    if view == "effekt fordelt":  # the breakdown: its lines are named at their ends
        assert any(
            unit.get("mark", {}).get("type") == "text" and field(unit["encoding"].get("text")) == "Serie"
            for spec in specs
            for layer in spec.get("layer", [])
            for unit in layer.get("layer", [layer])
        )


def test_the_check_finds_series_told_apart_by_colour_alone():
    coloured = {"mark": {"type": "line"}, "encoding": {"color": {"field": "Serie", "type": "nominal"}}}
    assert told_by_colour_alone(coloured)
    dashed = {**coloured, "encoding": {**coloured["encoding"], "strokeDash": {"field": "Serie"}}}
    assert not told_by_colour_alone(dashed)
    named = {"layer": [coloured, {"mark": {"type": "text"}, "encoding": {"text": {"field": "Serie"}}}]}
    assert not told_by_colour_alone(named)
    alike = {**coloured, "transform": [{"filter": "datum.Serie == 'a'"}]}
    assert told_by_colour_alone({"layer": [alike, alike]})


def test_a_long_breakdown_starts_with_the_highest_values():
    latest = pd.DataFrame({"dimension_value": list("abcdefghijk"), "value": [5, None, 9, 1, 7, 3, 8, 2, 6, 4, 0]})
    assert charts.most_first(latest, "dimension_value")[: charts.MAX_SERIES] == list("cgeiajfh")
