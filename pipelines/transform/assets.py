"""Every dbt model and seed as a Dagster asset; dbt tests become asset checks.

The staging model of events is partitioned by event day: a run replaces the days of its
partition window (plus days touched by newly ingested events). Everything built on it covers
all history and is rebuilt whole.

The assets are made from the manifest when the definitions are loaded (`dbt_asset_definitions`),
not on import, so importing this module reads no manifest.
"""

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.faults import dbt_build_failed, reported_as_no_room
from pipelines.partitions import EVENT_DAYS, staged_day_vars
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
        yield from _build(context, dbt, ["build"])

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


PARTIAL_PARSE_FILE = "partial_parse.msgpack"


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
    """Runs dbt under the warehouse lock; a failure names its failed models and tests. Every
    invocation gets the run's staged days as vars (see staged_day_vars) and this home's partial
    parse (see _partial_parse_of_home)."""
    target = _target_path(context)
    kept = _partial_parse_of_home()
    if kept.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / PARTIAL_PARSE_FILE)  # dagster-dbt then leaves it in place
    with warehouse_lock(paths()), reported_as_no_room("the warehouse"), _home_for_dbt():
        command = [*args, "--vars", json.dumps(staged_day_vars(context))]
        invocation = dbt.cli(command, context=context, raise_on_error=False, target_path=target)
        yield from invocation.stream()
        _keep_partial_parse(target / PARTIAL_PARSE_FILE)
        if not invocation.is_successful():
            raise dbt_build_failed(invocation.get_artifact("run_results.json"), str(paths().warehouse))


def _partial_parse_of_home() -> Path:
    """dbt skips parsing the unchanged files of the project when it finds the partial parse of an
    earlier invocation with the same profile and vars. The profile names this home's warehouse,
    so the repository's (made by `kritinfo prepare`, perhaps for another home) does not serve:
    each home keeps the latest of its own, beside the runs' folders (housekeeping prunes only
    those)."""
    return paths().dbt_runs / PARTIAL_PARSE_FILE


def _keep_partial_parse(written: Path) -> None:
    if written.exists():
        kept = _partial_parse_of_home()
        unfinished = kept.with_suffix(".tmp")
        shutil.copyfile(written, unfinished)
        unfinished.replace(kept)  # a run killed while copying leaves the previous one whole
