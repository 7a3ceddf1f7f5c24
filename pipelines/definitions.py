"""The one Dagster code location of kritinfo: it assembles the assets, checks, jobs, schedules,
sensor and resources of the modules beside them.

Loaded lazily (`@definitions`): importing this module starts no process, reads no dbt manifest
and leaves the environment alone. The manifest is prepared in setup (`kritinfo prepare`, which
`make setup`, `kritinfo run` and `kritinfo report` call); `dagster dev` prepares it itself.
"""

from __future__ import annotations

import dagster as dg

from pipelines.evaluation.assets import goal_evaluation, rollout_evaluation
from pipelines.ingest.assets import raw_tables
from pipelines.ingest.checks import daily_volume_drop, files_reconcile, staging_matches_loaded_events
from pipelines.ingest.triggers import everything_job, kritinfo_daily, landing_files_sensor
from pipelines.publish.assets import serving_copy_asset
from pipelines.report.assets import evaluation_package, evaluation_package_job, evaluation_package_on_cutoff
from pipelines.transform.assets import dbt_asset_definitions
from pipelines.transform.dbt_forks import client_executable
from pipelines.transform.project import (
    KritinfoDbtCliResource,
    dbt_project,
    prepare_dbt_manifest,
    require_current_manifest,
)


@dg.definitions
def defs() -> dg.Definitions:
    if dbt_project.preparer.using_dagster_dev():  # dagster-dbt's prepare_if_dev, with our own parse
        prepare_dbt_manifest()
    require_current_manifest()
    return dg.Definitions(
        assets=[
            raw_tables,
            *dbt_asset_definitions(),
            goal_evaluation,
            rollout_evaluation,
            serving_copy_asset(),
            evaluation_package,
        ],
        asset_checks=[files_reconcile, staging_matches_loaded_events, daily_volume_drop],
        jobs=[everything_job, evaluation_package_job],
        schedules=[kritinfo_daily, evaluation_package_on_cutoff],
        sensors=[landing_files_sensor],
        # Steps run one after another in one process: the warehouse has one writer at a time.
        executor=dg.in_process_executor,
        resources={"dbt": KritinfoDbtCliResource(project_dir=dbt_project, dbt_executable=client_executable())},
    )
