"""The one Dagster Definitions of kritinfo: assets, checks, job, schedule, sensor, resources."""

from __future__ import annotations

import hashlib
import json

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)
from dagster_dbt import DbtCliResource

from pipelines.settings import dbt_executable, export_home

export_home()

from pipelines.ingest.assets import raw_tables  # noqa: E402  (needs KRITINFO_HOME exported)
from pipelines.ingest.landing import ready_files  # noqa: E402
from pipelines.publish.assets import serving_copy  # noqa: E402
from pipelines.settings import paths  # noqa: E402
from pipelines.transform.assets import kritinfo_dbt_assets  # noqa: E402
from pipelines.transform.project import dbt_project  # noqa: E402

everything_job = define_asset_job(
    "kritinfo_everything",
    selection=AssetSelection.all(),
    description="Ingest new landing files, build and test the dbt project, publish the serving copy.",
)

daily_schedule = ScheduleDefinition(
    name="kritinfo_daily",
    job=everything_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Oslo",
    default_status=DefaultScheduleStatus.RUNNING,
)


@sensor(job=everything_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def landing_files_sensor(context: SensorEvaluationContext):
    """Starts a run when complete files appear in landing/ that no earlier tick has seen."""
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    current = {path.name for path in ready_files(paths().landing)}
    new = sorted(current - seen)
    if not new:
        return SkipReason("no new files in landing/")
    context.update_cursor(json.dumps(sorted(current)))
    run_key = hashlib.sha256("\n".join(new).encode("utf-8")).hexdigest()[:32]
    return RunRequest(run_key=run_key, tags={"kritinfo/new_files": str(len(new))})


defs = Definitions(
    assets=[raw_tables, kritinfo_dbt_assets, serving_copy],
    jobs=[everything_job],
    schedules=[daily_schedule],
    sensors=[landing_files_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())},
)
