"""metric_definitions after a real run: one row per metric declared in its model (meta.metric, read
from the dbt manifest), with the declared texts, and the latest period of each metric in the
published `metrics` mart."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.transform.manifest import read_manifest
from pipelines.transform.metric_registry import metric_registry
from pipelines.transform.project import dbt_project


def test_every_declared_metric_is_published_with_its_texts_and_freshness(published_home: Path):
    declared = metric_registry(read_manifest(dbt_project.manifest_path))
    assert len(declared) >= 14
    with duckdb.connect(str(published_home / "serving.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT metric_id, name_nb, definition, numerator, denominator, unit, grains, dimensions, "
            "mandate, source_model, periods, latest_period_end FROM metric_definitions"
        ).fetchall()
        latest = dict(con.execute("SELECT metric_id, max(period_end) FROM metrics GROUP BY ALL").fetchall())
        periods = dict(
            con.execute(
                "SELECT metric_id, string_agg(DISTINCT period, ',' ORDER BY period) FROM metrics GROUP BY ALL"
            ).fetchall()
        )

    published = {row[0]: row for row in rows}
    assert len(rows) == len(published) == len(declared)
    assert set(published) == set(declared) == set(latest)
    for metric_id, meta in declared.items():
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
            f"metric_{metric_id}",
            periods[metric_id],
            latest[metric_id],
        ), metric_id
