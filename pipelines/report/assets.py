"""The evaluation package as a Dagster asset partitioned by report cut-off day (reporting.yml),
its job, and the schedule that builds each package on its cut-off day. Past days are backfilled
from the UI (select partitions of `evaluation_package`, Materialize)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    DefaultScheduleStatus,
    MaterializeResult,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    StaticPartitionsDefinition,
    asset,
    define_asset_job,
    schedule,
)

from pipelines.report import package
from pipelines.report.calendar import load_calendar
from pipelines.settings import LOCAL_TIMEZONE, paths
from pipelines.single_writer import POOL, warehouse_lock

PACKAGE_ASSET = "evaluation_package"
REPORT_DAYS = StaticPartitionsDefinition([report.cutoff.isoformat() for report in load_calendar().reports])


@asset(
    name=PACKAGE_ASSET,
    group_name="reporting",
    partitions_def=REPORT_DAYS,
    pool=POOL,
    # It reads the raw tables (deliveries and when they landed), not the current marts.
    deps=[AssetKey(["raw", name]) for name in ("events", "ingested_files", "quarantine", "duplicate_deliveries")],
    description="The evaluation package as of a report's cut-off day: the published tables known at the end of "
    "that day (Parquet, CSV, JSON-stat), revisions since the previous report, datapackage.json, report.html/pdf.",
)
def evaluation_package(context: AssetExecutionContext) -> MaterializeResult:
    as_of = date.fromisoformat(context.partition_key)
    folder = package.package_dir(paths(), as_of)
    with warehouse_lock(paths()):
        if folder.exists():
            # Written before: never overwritten, but checked against a rebuild.
            checked = package.verify_package(paths(), folder)
            return MaterializeResult(metadata={"path": str(folder), "verified_files": checked})
        result = package.build_package(paths(), as_of)
    context.log.info("wrote %s (reference month %s)", result.path, result.reference_month)
    return MaterializeResult(
        metadata={
            "path": str(result.path),
            "reference_month": result.reference_month or "",
            "revisions": result.revisions,
            "files": result.resources,
        }
    )


evaluation_package_job = define_asset_job(
    "kritinfo_evaluation_package",
    selection=[PACKAGE_ASSET],
    description="Write the evaluation package of one report cut-off day.",
)


@schedule(
    job=evaluation_package_job,
    cron_schedule="30 0 * * *",
    execution_timezone=LOCAL_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def evaluation_package_on_cutoff(context: ScheduleEvaluationContext):
    """Each report's package as soon as its cut-off day has ended in Norway (00:30 the next night):
    a package holds the deliveries that landed by the end of the day, so it cannot be complete
    before. A file that landed by then but is not ingested yet fails the run, which is retried."""
    cutoff_day = (context.scheduled_execution_time.astimezone(ZoneInfo(LOCAL_TIMEZONE)) - timedelta(days=1)).date()
    if cutoff_day.isoformat() not in REPORT_DAYS.get_partition_keys():
        return SkipReason(f"{cutoff_day} is no report cut-off day in reporting.yml")
    return RunRequest(run_key=cutoff_day.isoformat(), partition_key=cutoff_day.isoformat())
