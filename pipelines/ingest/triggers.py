"""What starts the pipeline: its job, the landing sensor (one run for the files waiting) and the
daily schedule (the late-arrival window); both start a run only when `kritinfo run` would
(pipelines/publication_inputs.py)."""

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

from pipelines.partitions import recent_days_tags
from pipelines.publication_inputs import RunDecision, decide
from pipelines.report.assets import PACKAGE_ASSET
from pipelines.settings import paths
from pipelines.single_writer import WarehouseBusy, warehouse_lock

# A file modified more recently than this is assumed to be still written.
SETTLE_SECONDS = 5

everything_job = define_asset_job(
    "kritinfo_everything",
    # The evaluation packages are partitioned by report day and have their own job and schedule.
    selection=AssetSelection.all() - AssetSelection.assets(PACKAGE_ASSET),
    description="Ingest new landing files, build and test the dbt project, evaluate goals and the rollout "
    "effect, publish the serving copy.",
)


def _decision(settled_before: float | None = None) -> RunDecision | SkipReason:
    """The run decision of `kritinfo run`, or why it cannot be made now: a run holds the warehouse,
    and the next tick decides on what that run leaves."""
    try:
        with warehouse_lock(paths(), timeout=0):
            decision = decide(paths(), settled_before)
    except WarehouseBusy:
        return SkipReason("a run holds the warehouse")
    return decision if decision.needed else SkipReason(decision.reason)


@schedule(
    job=everything_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Oslo",
    default_status=DefaultScheduleStatus.RUNNING,
)
def kritinfo_daily(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """Every morning, when something changed: new files, the late-arrival window of event days,
    marts and publish."""
    decision = _decision()
    if isinstance(decision, SkipReason):
        return decision
    return RunRequest(tags=recent_days_tags(context.scheduled_execution_time.date()))


@sensor(job=everything_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def landing_files_sensor(_context: SensorEvaluationContext) -> RunRequest | SkipReason:
    """One run for all complete files waiting in landing/ (or for a changed input), keyed by what
    it is over: the files' names, modification times and sizes (or the inputs), so no state is
    run twice, a new file under a used name still gets its run, and a busy day queues one run, not
    one per file.

    Hidden and temporary names are still being written (the producer renames when done); a file
    modified less than SETTLE_SECONDS ago is left for the next tick as well.
    """
    decision = _decision(settled_before=time.time() - SETTLE_SECONDS)
    if isinstance(decision, SkipReason):
        return decision
    return RunRequest(run_key=decision.key, tags=recent_days_tags(date.today()))
