"""The one Dagster Definitions of kritinfo: assets, checks, job, schedule, sensor, resources."""

from __future__ import annotations

import time
from datetime import date

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
    sensor,
)
from dagster_dbt import DbtCliResource

from pipelines.settings import dbt_executable, export_home

export_home()

from pipelines.evaluation.assets import goal_evaluation, rollout_evaluation  # noqa: E402
from pipelines.ingest.assets import FILE_TAG, raw_tables  # noqa: E402  (needs KRITINFO_HOME exported)
from pipelines.ingest.checks import daily_volume_drop, files_reconcile, staging_matches_loaded_events  # noqa: E402
from pipelines.ingest.landing import ready_files  # noqa: E402
from pipelines.ingest.rejected import shown_name  # noqa: E402
from pipelines.partitions import recent_days_tags  # noqa: E402
from pipelines.publish.assets import serving_copy  # noqa: E402
from pipelines.report.assets import (  # noqa: E402
    PACKAGE_ASSET,
    evaluation_package,
    evaluation_package_job,
    evaluation_package_on_cutoff,
)
from pipelines.settings import paths  # noqa: E402
from pipelines.transform.assets import event_day_dbt_assets, kritinfo_dbt_assets  # noqa: E402
from pipelines.transform.project import dbt_project  # noqa: E402

# A file modified more recently than this is assumed to be still written.
SETTLE_SECONDS = 5

everything_job = define_asset_job(
    "kritinfo_everything",
    # The evaluation packages are partitioned by report day and have their own job and schedule.
    selection=AssetSelection.all() - AssetSelection.assets(PACKAGE_ASSET),
    description="Ingest new landing files, build and test the dbt project, evaluate goals and the rollout "
    "effect, publish the serving copy.",
)

@schedule(job=everything_job, cron_schedule="0 6 * * *", execution_timezone="Europe/Oslo",
          default_status=DefaultScheduleStatus.RUNNING)
def kritinfo_daily(context: ScheduleEvaluationContext) -> RunRequest:
    """Every morning: new files, the late-arrival window of event days, marts and publish."""
    return RunRequest(tags=recent_days_tags(context.scheduled_execution_time.date()))


@sensor(job=everything_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def landing_files_sensor(context: SensorEvaluationContext):
    """One run per new complete file in landing/, keyed by the file's name, modification time and
    size, so no delivery is run twice and a new file under a used name still gets its run.

    Hidden and temporary names are still being written (the producer renames when done); a file
    modified less than SETTLE_SECONDS ago is left for the next tick as well.
    """
    settled_before = time.time() - SETTLE_SECONDS
    # lstat: a link still starts a run, which rejects it (links are never followed).
    files = [(path, path.lstat()) for path in ready_files(paths().landing)]
    files = [(path, status) for path, status in files if status.st_mtime <= settled_before]
    if not files:
        return SkipReason("no complete files in landing/")
    window = recent_days_tags(date.today())
    requests = []
    for path, status in files:
        shown = shown_name(path.name)
        # No tag can hold a name that is not UTF-8, and none may hold one with a person's number:
        # a run over every new file rejects such a file.
        only = {FILE_TAG: path.name} if shown == path.name else {}
        requests.append(RunRequest(run_key=f"{shown}:{status.st_mtime_ns}:{status.st_size}", tags={**only, **window}))
    return requests


defs = Definitions(
    assets=[raw_tables, event_day_dbt_assets, kritinfo_dbt_assets, goal_evaluation, rollout_evaluation, serving_copy,
            evaluation_package],
    asset_checks=[files_reconcile, staging_matches_loaded_events, daily_volume_drop],
    jobs=[everything_job, evaluation_package_job],
    schedules=[kritinfo_daily, evaluation_package_on_cutoff],
    sensors=[landing_files_sensor],
    # Steps run one after another in one process: the warehouse has one writer at a time.
    executor=in_process_executor,
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())},
)
