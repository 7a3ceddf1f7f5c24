"""What starts the pipeline: its job, the landing sensor (one run per new file) and the daily
schedule (the late-arrival window)."""

import time
from datetime import date

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from pipelines.ingest.assets import FILE_TAG
from pipelines.ingest.landing import ready_files
from pipelines.ingest.rejected import shown_name
from pipelines.partitions import recent_days_tags
from pipelines.report.assets import PACKAGE_ASSET
from pipelines.settings import paths

# A file modified more recently than this is assumed to be still written.
SETTLE_SECONDS = 5

everything_job = define_asset_job(
    "kritinfo_everything",
    # The evaluation packages are partitioned by report day and have their own job and schedule.
    selection=AssetSelection.all() - AssetSelection.assets(PACKAGE_ASSET),
    description="Ingest new landing files, build and test the dbt project, evaluate goals and the rollout "
    "effect, publish the serving copy.",
)


@schedule(
    job=everything_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Oslo",
    default_status=DefaultScheduleStatus.RUNNING,
)
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
