"""Every dbt model and seed as a Dagster asset; dbt tests become asset checks.

The staging model of events is partitioned by event day: a run replaces the days of its
partition window (plus days touched by newly ingested events). Everything built on it covers
all history and is rebuilt whole.

The assets are made from the manifest when the definitions are loaded (`dbt_asset_definitions`),
not on import, so importing this module reads no manifest.
"""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.faults import dbt_build_failed, reported_as_no_room
from pipelines.partitions import EVENT_DAYS, staged_day_range
from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock
from pipelines.transform.project import KritinfoDbtTranslator, dbt_project

EVENT_DAY_MODELS = "stg_registration_events"


def dbt_asset_definitions() -> list[AssetsDefinition]:
    """The event-day partitioned staging model, and every other node of the manifest."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        dagster_dbt_translator=KritinfoDbtTranslator(),
        project=dbt_project,
        select=EVENT_DAY_MODELS,
        partitions_def=EVENT_DAYS,
        backfill_policy=BackfillPolicy.single_run(),
        name="event_day_dbt_assets",
        pool=POOL,
    )
    def event_day_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        min_day, max_day = staged_day_range(context)
        yield from _build(context, dbt, ["build", "--vars", json.dumps({"min_day": min_day, "max_day": max_day})])

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        dagster_dbt_translator=KritinfoDbtTranslator(),
        project=dbt_project,
        exclude=EVENT_DAY_MODELS,
        name="kritinfo_dbt_assets",
        pool=POOL,
    )
    def kritinfo_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from _build(context, dbt, ["build"])

    return [event_day_dbt_assets, kritinfo_dbt_assets]


def _target_path(context: AssetExecutionContext) -> Path:
    """dbt's target and log files of this step: under KRITINFO_HOME, one folder per run, so that
    housekeeping can bound them (inside the repository they grew by some 25 MB per run)."""
    return paths().dbt_runs / context.run.run_id / context.op_execution_context.op.name


@contextmanager
def _home_for_dbt() -> Iterator[None]:
    """KRITINFO_HOME for the dbt invocation, restored after it: profiles.yml reads it, and
    DbtCliResource hands dbt (and its in-process adapter) this process's environment with no
    way to add to it."""
    before = os.environ.get("KRITINFO_HOME")
    os.environ["KRITINFO_HOME"] = str(paths().home)
    try:
        yield
    finally:
        if before is None:
            del os.environ["KRITINFO_HOME"]
        else:
            os.environ["KRITINFO_HOME"] = before


def _build(context: AssetExecutionContext, dbt: DbtCliResource, args: list[str]):
    """Runs dbt under the warehouse lock; a failure names its failed models and tests."""
    with warehouse_lock(paths()), reported_as_no_room("the warehouse"), _home_for_dbt():
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=_target_path(context))
        yield from invocation.stream()
        if not invocation.is_successful():
            raise dbt_build_failed(invocation.get_artifact("run_results.json"), str(paths().warehouse))
