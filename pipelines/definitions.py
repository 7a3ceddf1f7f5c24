"""The one Dagster Definitions of kritinfo: it assembles the assets, checks, jobs, schedules, sensor
and resources of the modules beside them."""

from __future__ import annotations

from dagster import Definitions, in_process_executor
from dagster_dbt import DbtCliResource

from pipelines.settings import dbt_executable, export_home

export_home()

from pipelines.evaluation.assets import goal_evaluation, rollout_evaluation  # noqa: E402
from pipelines.ingest.assets import raw_tables  # noqa: E402  (needs KRITINFO_HOME exported)
from pipelines.ingest.checks import daily_volume_drop, files_reconcile, staging_matches_loaded_events  # noqa: E402
from pipelines.ingest.triggers import everything_job, kritinfo_daily, landing_files_sensor  # noqa: E402
from pipelines.publish.assets import serving_copy  # noqa: E402
from pipelines.report.assets import evaluation_package, evaluation_package_job, evaluation_package_on_cutoff  # noqa: E402
from pipelines.transform.assets import event_day_dbt_assets, kritinfo_dbt_assets  # noqa: E402
from pipelines.transform.project import dbt_project  # noqa: E402

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
