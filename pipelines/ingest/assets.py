"""Ingestion as Dagster assets: landing files → raw tables in the warehouse."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import paths

RAW_TABLES = {
    "events": "Accepted registration events, one per event_id.",
    "ingested_files": "One row per ingested landing file with lines read, loaded, duplicates and quarantined.",
    "quarantine": "Refused lines with file, line number, reason and masked text.",
    "duplicate_deliveries": "Lines whose event_id had already been loaded.",
}


class ReconciliationError(RuntimeError):
    """A file's lines do not add up to loaded + duplicates + quarantined."""


@multi_asset(
    specs=[AssetSpec(AssetKey(["raw", name]), description=text, group_name="ingest") for name, text in RAW_TABLES.items()],
    can_subset=False,
)
def raw_tables(context: AssetExecutionContext):
    """Validate every new file in landing/ against the contract and load it into the warehouse."""
    report = ingest_new_files(paths())
    unreconciled = [f.source_file for f in report.files if not f.reconciles]
    if unreconciled:
        raise ReconciliationError(f"line counts do not reconcile for {', '.join(unreconciled)}")
    context.log.info(
        "ingested %d files: %d lines read, %d loaded, %d duplicates, %d quarantined (%.0f lines/s)",
        len(report.files), report.total("lines_read"), report.total("loaded"),
        report.total("duplicates"), report.total("quarantined"), report.events_per_second,
    )
    per_file = MetadataValue.md(
        "| file | read | loaded | duplicates | quarantined |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.source_file} | {f.lines_read} | {f.loaded} | {f.duplicates} | {f.quarantined} |"
            for f in report.files[:200]
        )
    )
    summary = report.as_metadata()
    yield MaterializeResult(asset_key=AssetKey(["raw", "events"]), metadata={**summary, "per_file": per_file})
    for name in ("ingested_files", "quarantine", "duplicate_deliveries"):
        yield MaterializeResult(asset_key=AssetKey(["raw", name]), metadata={"files": summary["files"]})
