"""The metric registry as the dbt manifest holds it: every model whose meta carries ``metric``
(dbt_project/models/metrics/metric_<id>.yml; docs/adding-a-metric.md), by its id, the model's name
without ``metric_``. The macro metric_registry (dbt_project/macros/metrics.sql) reads the same."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

METRIC_MODEL_PREFIX = "metric_"


def metric_registry(manifest: Mapping) -> dict[str, dict]:
    """metric id -> its declaration (meta.metric), for every metric model of the manifest."""
    return {
        node["name"].removeprefix(METRIC_MODEL_PREFIX): node["config"]["meta"]["metric"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("config", {}).get("meta", {}).get("metric")
    }


def read_metric_registry(manifest_path: Path) -> dict[str, dict]:
    return metric_registry(json.loads(manifest_path.read_text(encoding="utf-8")))
