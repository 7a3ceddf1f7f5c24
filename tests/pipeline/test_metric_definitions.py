"""metric_definitions after a real run: one row per metric documented in the dbt YAML (meta.metric),
with the YAML's texts, and the latest period of each metric in the published `metrics` mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models"


def documented_metrics() -> dict[str, tuple[str, dict]]:
    """metric id -> (model name, meta.metric), read from every YAML file of the dbt models."""
    metrics = {}
    for path in MODELS_DIR.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            metric = (model.get("config", {}).get("meta") or model.get("meta") or {}).get("metric")
            if metric:
                metrics[metric["id"]] = (model["name"], metric)
    return metrics


def test_every_documented_metric_is_published_with_its_texts_and_freshness(published_home: Path):
    documented = documented_metrics()
    assert len(documented) >= 14
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT metric_id, name_nb, definition, numerator, denominator, unit, grains, dimensions, "
            "mandate, source_model, periods, latest_period_end FROM metric_definitions"
        ).fetchall()
        latest = dict(con.execute("SELECT metric_id, max(period_end) FROM metrics GROUP BY ALL").fetchall())
        periods = dict(con.execute(
            "SELECT metric_id, string_agg(DISTINCT period, ',' ORDER BY period) FROM metrics GROUP BY ALL"
        ).fetchall())  # fmt: skip

    published = {row[0]: row for row in rows}
    assert len(rows) == len(published) == len(documented)
    assert set(published) == set(documented) == set(latest)
    for metric_id, (model, meta) in documented.items():
        assert published[metric_id] == (
            metric_id,
            meta["name_nb"].strip(),
            meta["definition"].strip(),
            (meta.get("numerator") or "").strip(),
            (meta.get("denominator") or "").strip(),
            meta["unit"].strip(),
            ",".join(meta.get("grains") or []),
            ",".join(meta.get("dimensions") or []),
            meta["mandate"].strip(),
            model,
            periods[metric_id],
            latest[metric_id],
        ), metric_id
