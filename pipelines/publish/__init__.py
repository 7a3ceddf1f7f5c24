"""The published, read-only serving copy the dashboard and exports read."""
