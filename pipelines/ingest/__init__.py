"""Landing files → validated events in the warehouse, rejects in quarantine, counts that reconcile.

Nothing is imported here: deciding whether a run is needed reads landing/ without loading the
validator (pipelines/publication_inputs.py)."""
