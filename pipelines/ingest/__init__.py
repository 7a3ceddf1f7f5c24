"""Landing files → validated events in the warehouse, rejects in quarantine, counts that reconcile."""

from pipelines.ingest.loader import FileCounts, IngestReport, ingest_new_files

__all__ = ["FileCounts", "IngestReport", "ingest_new_files"]
