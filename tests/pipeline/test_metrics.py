"""The metric registry (dbt models/metrics, mart `metrics`) against an independent recomputation
of every metric from the raw events of a real pipeline run: the FHIR resources are parsed in
Python and docs/definitions.md is written out again (tests/recompute.py) rather than read from the
dbt models."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from pipelines.transform.metric_registry import metric_registry
from pipelines.transform.project import dbt_project
from tests.helpers import MANDATE
from tests.recompute import (
    COUNTS,
    DBT_PROJECT,
    QUANTILES,
    REGISTRY,
    RecomputedEvent,
    expected_metrics,
    published_metrics,
    reported_month_ends,
    same,
)


def load_events(warehouse: duckdb.DuckDBPyConnection) -> list[RecomputedEvent]:
    rows = warehouse.execute(
        "select event_id, event_type, epoch_us(occurred_at), channel, organisation_type, organisation_id, "
        "organisation_health_region, source_system, patient_pseudonym, patient_municipality, resource from raw.events"
    ).fetchall()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        RecomputedEvent(*row[:2], epoch + timedelta(microseconds=row[2]), *row[3:10], json.loads(row[10]))
        for row in rows
    ]


# --- the comparison ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recomputed(published_home) -> tuple[dict, dict, list[date]]:
    """(published cells, expected cells, reported month ends) of a real run."""
    with duckdb.connect(str(published_home / "warehouse.duckdb"), read_only=True) as warehouse:
        events = load_events(warehouse)
        published = published_metrics(warehouse)
    return published, expected_metrics(events), reported_month_ends(events)


def test_the_reported_cells_are_every_metric_at_every_place_and_breakdown(recomputed):
    published, expected, _ = recomputed
    assert {key[0] for key in expected} == set(REGISTRY)
    assert set(published) == set(expected)


def test_every_metric_matches_in_every_reported_cell(recomputed):
    published, expected, month_ends = recomputed
    mismatches = [(k, published[k], v) for k, v in expected.items() if not all(map(same, published[k], v))]
    assert not mismatches, f"{len(mismatches)} of {len(expected)} cells differ, e.g. {mismatches[:5]}"
    # Not vacuous: at the last complete month and half a year before, every monthly metric counted
    # something, and the yearly cost has a complete year with new persons.
    for month_end in (month_ends[-1], month_ends[-7]):
        for metric_id in REGISTRY.keys() - {"cost_per_new_person"}:
            assert any(k[:2] == (metric_id, month_end) and (v[0] or v[1]) for k, v in expected.items()), (
                metric_id,
                month_end,
            )
    assert any(k[0] == "cost_per_new_person" and v[1] for k, v in expected.items())


# --- the registry's documentation ----------------------------------------------------------------


def test_every_metric_declares_a_model_that_quotes_the_mandate():
    mandate = re.sub(r"\s+", " ", MANDATE.read_text(encoding="utf-8"))
    nodes = {
        node["name"]: node
        for node in json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"].values()
        if node["resource_type"] == "model"
    }
    declared = metric_registry({"nodes": nodes})
    assert set(declared) == set(REGISTRY)
    for metric_id, (grains, dimensions) in REGISTRY.items():
        assert (DBT_PROJECT / "models" / "metrics" / f"metric_{metric_id}.sql").exists()
        metric = declared[metric_id]
        for field in ("name_nb", "definition", "unit", "mandate"):
            assert metric[field].strip(), (metric_id, field)
        assert (metric["kind"] == "count") == (metric_id in COUNTS), metric_id
        assert (metric["kind"] == "quantile") == (metric_id in QUANTILES), metric_id
        assert metric["denominator"].strip() or metric_id in COUNTS
        assert metric["numerator"].strip() or metric_id in QUANTILES
        assert tuple(metric["dimensions"]) == dimensions and tuple(metric["grains"]) == grains, metric_id
        assert re.sub(r"\s+", " ", metric["mandate"]).strip() in mandate, metric_id
        meta = nodes[f"metric_{metric_id}"]["config"]["meta"]
        assert "publish" not in meta, f"{metric_id}: only the union `metrics` is published"
    suppress = nodes["metrics"]["config"]["meta"]["publish"]["suppress"]
    assert suppress["counts"] == ["numerator", "denominator"] and suppress["rates"] == ["value"]
