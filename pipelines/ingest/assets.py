"""Ingestion as Dagster assets: landing files → raw tables in the warehouse.

Only counts, file names and reason codes leave ingestion for Dagster's event log: an error is
re-raised as ``IngestionFailed`` with its type and where it was raised, never its message.
"""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.faults import RunFault, error_location, no_room_to_write
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock

# Metadata entry of raw/ingested_files listing the landing files this run rejected, which
# `kritinfo run` reports (names shown masked, see ingest/rejected.py).
REJECTED_FILES = "rejected_files"

RAW_TABLES = {
    "events": "Accepted registration events, one per event_id.",
    "ingested_files": "One row per ingested landing file with lines read, loaded, duplicates and quarantined.",
    "quarantine": "Refused lines with file, line number, reason and masked text.",
    "duplicate_deliveries": "Lines whose event_id had already been loaded.",
}


class ReconciliationError(RuntimeError):
    """A file's lines do not add up to loaded + duplicates + quarantined."""


class IngestionFailed(RuntimeError):
    """Ingestion stopped; the batch being written was rolled back, committed files stay.

    The original message is dropped: DuckDB, Arrow or a worker may quote a value of the line
    they failed on, identifiers included, and Dagster stores messages in its event log.
    """


@multi_asset(
    specs=[
        AssetSpec(AssetKey(["raw", name]), description=text, group_name="ingest") for name, text in RAW_TABLES.items()
    ],
    can_subset=False,
    pool=POOL,
)
def raw_tables(context: AssetExecutionContext):
    """Validate every new file in landing/ against the contract and load them into the warehouse."""
    try:
        with warehouse_lock(paths()):
            report = ingest_new_files(paths())
        failure = None
    except Exception as error:  # noqa: BLE001 (re-raised below without its message)
        # A RunFault's message names the problem and is safe to log; no other message is kept.
        fault = error if isinstance(error, RunFault) else no_room_to_write(error, "the warehouse")
        failure = str(fault) if fault else error_location(error)
    if failure:
        # Raised outside the except block, so the original is not chained into the event log.
        raise IngestionFailed(failure)
    unreconciled = [f.source_file for f in report.files if not f.reconciles]
    if unreconciled:
        raise ReconciliationError(f"line counts do not reconcile for {', '.join(unreconciled)}")
    for file in report.rejected:
        context.log.warning(
            "rejected landing file %s: %s; moved to rejected/%s", file.shown_name, file.reason, file.stored_as
        )
    for name in report.already_ingested:
        context.log.info("landing file %s was already ingested with the same content: archived", name)
    context.log.info(
        "ingested %d files: %d lines read, %d loaded, %d duplicates, %d quarantined (%.0f lines/s)",
        len(report.files),
        report.total("lines_read"),
        report.total("loaded"),
        report.total("duplicates"),
        report.total("quarantined"),
        report.events_per_second,
    )
    per_file = MetadataValue.md(
        "| file | read | loaded | duplicates | quarantined |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.source_file} | {f.lines_read} | {f.loaded} | {f.duplicates} | {f.quarantined} |"
            for f in report.files[:200]
        )
    )
    summary = report.as_metadata()
    rejected = MetadataValue.json([[f.shown_name, f.reason_code, f.reason, f.stored_as] for f in report.rejected])
    yield MaterializeResult(asset_key=AssetKey(["raw", "events"]), metadata={**summary, "per_file": per_file})
    yield MaterializeResult(
        asset_key=AssetKey(["raw", "ingested_files"]), metadata={"files": summary["files"], REJECTED_FILES: rejected}
    )
    for name in ("quarantine", "duplicate_deliveries"):
        yield MaterializeResult(asset_key=AssetKey(["raw", name]), metadata={"files": summary["files"]})
