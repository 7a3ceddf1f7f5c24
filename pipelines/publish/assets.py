"""The publish asset: the serving copy, swapped in only after the dbt build and its tests passed,
and only after its own blocking disclosure check passed on the new copy.

It depends on the published marts, which the dbt manifest names: the asset is made when the
definitions are loaded (`serving_copy_asset`), not on import."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    asset,
)

from pipelines.evaluation.tables import COLUMNS as EVALUATION_TABLES
from pipelines.evaluation.tables import SCHEMA as EVALUATION_SCHEMA
from pipelines.faults import reported_as_no_room
from pipelines.publication_inputs import record_publication
from pipelines.publish.serving import DisclosureCheckFailed, publish, published_tables, suppression_threshold
from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock
from pipelines.transform.manifest import read_manifest
from pipelines.transform.project import dbt_project

# Publishing copies the evaluation tables too, so it waits for them.
EVALUATION_OUTPUTS = [AssetKey([EVALUATION_SCHEMA, name]) for name in EVALUATION_TABLES]
DISCLOSURE_CHECK = "disclosure_control"


def serving_copy_asset() -> AssetsDefinition:
    """The publish asset, waiting for every mart the manifest marks as published."""
    published_marts = [AssetKey(table.name) for table in published_tables(read_manifest(dbt_project.manifest_path))]

    @asset(
        deps=published_marts + EVALUATION_OUTPUTS,
        group_name="publish",
        pool=POOL,
        description="serving.duckdb: the suppressed marts and the evaluation tables the dashboard and exports read.",
        check_specs=[
            AssetCheckSpec(
                DISCLOSURE_CHECK,
                asset="serving_copy",
                blocking=True,
                description="On the new copy, before it replaces the old one: no count from 1 to the threshold, no "
                "rate beside a hidden count, no additive group with exactly one hidden cell.",
            )
        ],
    )
    def serving_copy(context: AssetExecutionContext) -> Iterator:
        # Runs only when every upstream dbt model and blocking test succeeded in this run. It reads
        # the warehouse, so it holds the lock: a writer elsewhere would make DuckDB refuse to open it.
        # publish() checks the new copy before renaming it into place; a failed check leaves the old one.
        try:
            with warehouse_lock(paths()), reported_as_no_room("the serving copy"):
                report = publish(paths(), dbt_project.manifest_path)
                # Until the next change of an input, a run has nothing to do (publication_inputs.decide).
                record_publication(paths())
        except DisclosureCheckFailed as failed:
            yield AssetCheckResult(
                check_name=DISCLOSURE_CHECK,
                passed=False,
                severity=AssetCheckSeverity.ERROR,
                metadata={"violations": "\n".join(failed.violations[:50]), "threshold": suppression_threshold()},
            )
            raise
        context.log.info("published %s with data until %s", report.path.name, report.data_until)
        yield MaterializeResult(
            metadata={
                "data_until": report.data_until,
                "evaluation_tables": ", ".join(report.evaluation_tables),
                **{f"rows/{k}": v for k, v in report.rows.items()},
                **{f"hidden_small/{k}": v for k, v in report.hidden_small.items()},
                **{f"hidden_complementary/{k}": v for k, v in report.hidden_complementary.items()},
            },
            check_results=[
                AssetCheckResult(
                    check_name=DISCLOSURE_CHECK, passed=True, metadata={"threshold": suppression_threshold()}
                )
            ],
        )

    return serving_copy
