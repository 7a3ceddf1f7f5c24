"""The publish asset: the serving copy, swapped in only after the dbt build and its tests passed."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from pipelines.faults import reported_as_no_room
from pipelines.publish.serving import publish, published_tables
from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock
from pipelines.transform.project import dbt_project

PUBLISHED_MARTS = [AssetKey(table.name) for table in published_tables(dbt_project.manifest_path)]


@asset(deps=PUBLISHED_MARTS, group_name="publish", pool=POOL,
       description="serving.duckdb: the suppressed marts the dashboard and exports read.")
def serving_copy(context: AssetExecutionContext) -> MaterializeResult:
    # Runs only when every upstream dbt model and blocking test succeeded in this run. It reads
    # the warehouse, so it holds the lock: a writer elsewhere would make DuckDB refuse to open it.
    with warehouse_lock(paths()), reported_as_no_room("the serving copy"):
        report = publish(paths(), dbt_project.manifest_path)
    context.log.info("published %s with data until %s", report.path.name, report.data_until)
    return MaterializeResult(
        metadata={"data_until": report.data_until, **{f"rows/{k}": v for k, v in report.rows.items()},
                  **{f"suppressed_rows/{k}": v for k, v in report.suppressed_cells.items()}}
    )
