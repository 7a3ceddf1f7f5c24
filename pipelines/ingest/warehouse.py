"""The warehouse's raw schema: accepted events, quarantine, duplicate deliveries, file log."""

from __future__ import annotations

from pathlib import Path

import duckdb

RAW_SCHEMA_DDL = """
create schema if not exists raw;

create table if not exists raw.events (
    -- Unique by construction (ingestion's anti-join) and by dbt's unique test; an index would
    -- cost a third of the insert time at national volume.
    event_id varchar not null,
    event_type varchar not null,
    occurred_at timestamptz not null,
    channel varchar not null,
    organisation_type varchar not null,
    organisation_id varchar not null,
    organisation_health_region varchar not null,
    organisation_municipality varchar not null,
    source_system varchar not null,
    patient_pseudonym varchar not null,
    patient_birth_year integer not null,
    patient_sex varchar not null,
    patient_municipality varchar not null,
    resource_type varchar not null,
    resource_id varchar not null,
    resource_version varchar not null,
    critical_information_type varchar not null,
    resource varchar not null,  -- the FHIR resource as JSON text
    source_file varchar not null,
    source_line integer not null,
    ingested_at timestamptz not null
);

create table if not exists raw.quarantine (
    source_file varchar not null,
    source_line integer not null,
    reason_code varchar not null,
    reason varchar not null,
    masked_text varchar not null,
    quarantined_at timestamptz not null,
    primary key (source_file, source_line)
);

create table if not exists raw.duplicate_deliveries (
    event_id varchar not null,
    source_file varchar not null,
    source_line integer not null,
    ingested_at timestamptz not null,
    primary key (source_file, source_line)
);

create table if not exists raw.ingested_files (
    source_file varchar primary key,
    size_bytes bigint not null,
    lines_read integer not null,
    blank_lines integer not null,
    loaded integer not null,
    duplicates integer not null,
    quarantined integer not null,
    ingested_at timestamptz not null,
    arrived_at timestamptz not null  -- the file's modification time when it was ingested
);
-- Warehouses made before arrived_at existed get it (null for the files they had logged).
alter table raw.ingested_files add column if not exists arrived_at timestamptz;
-- A file's identity is its name and this hash of its delivered bytes: a different file under a
-- used name is a new delivery (null for files logged before it existed).
alter table raw.ingested_files add column if not exists sha256 varchar;

create table if not exists raw.rejected_files (
    -- Landing entries that could not be read as event files (ingest/rejected.py).
    shown_name varchar not null,  -- undecodable bytes escaped, national identity numbers masked
    stored_as varchar,  -- its name in rejected/; null for a regular file, which is not kept
    size_bytes bigint,  -- on disk (a link's own size)
    sha256 varchar,  -- of its bytes, when they could be read
    reason_code varchar not null,
    reason varchar not null,
    rejected_at timestamptz not null
);

create table if not exists raw.quarantine_replays (
    -- One row per quarantined line per `kritinfo quarantine replay`: what became of it.
    source_file varchar not null,
    source_line integer not null,
    outcome varchar not null,  -- loaded | duplicate | still_quarantined | source_missing
    reason_code varchar,  -- the line's reason after the replay, when it is still quarantined
    replayed_at timestamptz not null
);
"""


# Keeps ingestion's peak memory bounded; DuckDB spills to disk beyond it.
MEMORY_LIMIT = "512MB"


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT, "checkpoint_threshold": "4GB"})
    con.execute(RAW_SCHEMA_DDL)
    return con
