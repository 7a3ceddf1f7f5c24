"""The dbt manifest (target/manifest.json) as a mapping: read once by whoever needs several things
from it (the published tables, the metric registry, the models' descriptions)."""

from __future__ import annotations

import json
from pathlib import Path


def read_manifest(manifest_path: Path) -> dict:
    return json.loads(manifest_path.read_text(encoding="utf-8"))
