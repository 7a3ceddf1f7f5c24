"""A metric is its SQL and its YAML: outside tests and docs, no tracked file names a metric's id (or
its model, metric_<id>) but those two (docs/adding-a-metric.md)."""

from __future__ import annotations

import re
import subprocess
from functools import cache

import pytest

from pipelines.settings import DBT_PROJECT_DIR, REPO_ROOT

METRICS_DIR = DBT_PROJECT_DIR / "models" / "metrics"
METRIC_IDS = sorted(
    path.stem.removeprefix("metric_")
    for path in METRICS_DIR.glob("metric_*.sql")
    if "declare_metric(" in path.read_text(encoding="utf-8")
)
NOT_COUNTED_FOLDERS = ("tests/", "docs/")
NOT_COUNTED_FILES = {
    # Data: a goal refers to the metric it sets a target for.
    "goals.yml",
    # A test that relates named metrics to each other (their new entries agree) is an oracle.
    "dbt_project/tests/new_entries_agree_across_metrics.sql",
}


@cache
def counted_texts() -> dict[str, str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    texts = {}
    for path in tracked.splitlines():
        if path.startswith(NOT_COUNTED_FOLDERS) or path in NOT_COUNTED_FILES or not (REPO_ROOT / path).is_file():
            continue
        try:
            text = (REPO_ROOT / path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text
        texts[path] = text
    return texts


def test_the_registry_has_its_metrics():
    assert len(METRIC_IDS) >= 14


@pytest.mark.parametrize("metric_id", METRIC_IDS)
def test_a_metric_id_is_named_only_by_its_sql_and_its_yaml(metric_id):
    # The id, or its model's name, as a whole word (not part of a longer name).
    named = re.compile(rf"(?<![A-Za-z0-9_])(metric_)?{re.escape(metric_id)}(?![A-Za-z0-9_])")
    naming = {path for path, text in counted_texts().items() if named.search(text)}
    own = {f"dbt_project/models/metrics/metric_{metric_id}.sql", f"dbt_project/models/metrics/metric_{metric_id}.yml"}
    assert naming <= own, sorted(naming - own)
