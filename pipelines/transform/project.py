"""The dbt project, its manifest, and how Dagster names and groups its nodes.

The manifest is prepared in setup (`make setup`, `kritinfo prepare`, and before `kritinfo run`),
never on import: loading the definitions only reads it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject
from packaging.version import Version

from pipelines.settings import dbt_executable, dbt_project_dir, paths
from pipelines.transform.metric_registry import write_metric_model_dependencies

dbt_project = DbtProject(project_dir=dbt_project_dir(), profiles_dir=dbt_project_dir())

_SOURCE_SUFFIXES = (".sql", ".yml", ".yaml", ".csv")


class KritinfoDbtCliResource(DbtCliResource):
    """DbtCliResource without two costs of every run (about 4 s) that buy kritinfo nothing: it asks
    the dbt executable for its version in a subprocess, and opens a dbt adapter in this process,
    used only to fetch column metadata, which kritinfo does not. The executable runs the venv's
    dbt (pipelines/transform/dbt_forks.py), so its version is the installed dbt-core's. Both are hooks of
    dagster-dbt 0.29 (pinned in uv.lock); test_definitions checks that a run still builds."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


class DbtManifestNotPrepared(RuntimeError):
    """The manifest is missing or older than a source of the dbt project."""


def _newest_source_mtime() -> float:
    project_dir = dbt_project.project_dir
    newest = (project_dir / "dbt_project.yml").stat().st_mtime
    for folder in ("models", "seeds", "macros", "tests"):
        for path in (project_dir / folder).rglob("*"):
            if path.suffix in _SOURCE_SUFFIXES:
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_current() -> bool:
    manifest = dbt_project.manifest_path
    return manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime()


def prepare_dbt_manifest() -> None:
    """Write the generated macros, then parse the dbt project when its manifest is missing or older
    than any of its sources."""
    write_metric_model_dependencies(dbt_project.project_dir)
    if manifest_is_current():
        return
    subprocess.run(
        # No log file: parsing logs nothing worth keeping, and dbt_project/logs/ would only grow.
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--log-level-file",
            "none",
            "--project-dir",
            str(dbt_project.project_dir),
            "--profiles-dir",
            str(dbt_project.profiles_dir),
        ],
        check=True,
        env={**os.environ, "KRITINFO_HOME": str(paths().home)},  # profiles.yml reads it
    )


def require_current_manifest() -> None:
    if not manifest_is_current():
        raise DbtManifestNotPrepared(
            f"the dbt manifest {dbt_project.manifest_path} is missing or older than the dbt project: "
            "run `kritinfo prepare` (or `make setup`) first"
        )


class KritinfoDbtTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer, and names sources after the raw tables ingestion writes."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        return folders[0] if folders else "transform"
