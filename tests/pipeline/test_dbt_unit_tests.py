"""The dbt project's unit tests (fixed rows in, expected rows out), which production builds leave
out (pipelines/settings.py DBT_BUILD_COMMAND): every one declared in the project's YAML runs and
passes, against a warehouse a real run built (dbt reads the column types of a model's inputs
there)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from pipelines.settings import DBT_PROJECT_DIR, dbt_executable


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(test["name"] for test in document.get("unit_tests", []))
    return names


def test_every_unit_test_of_the_dbt_project_passes(published_home: Path, tmp_path: Path):
    declared = declared_unit_tests()
    assert len(declared) >= 20

    finished = subprocess.run(
        [
            dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path),
            "--log-path",
            str(tmp_path),
        ],
        env={**os.environ, "KRITINFO_HOME": str(published_home)},
        capture_output=True,
        text=True,
    )

    results = json.loads((tmp_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    outcomes = {
        result["unique_id"].split(".")[-1]: result["status"]
        for result in results
        if result["unique_id"].startswith("unit_test.")
    }
    assert set(outcomes) == declared
    assert {name: status for name, status in outcomes.items() if status != "pass"} == {}
    assert finished.returncode == 0, finished.stdout[-3000:]
