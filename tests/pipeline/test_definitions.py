"""The Dagster definitions load, with every asset, check, job, schedule and sensor, and the sensor
starts a run only for complete files it has not seen."""

import os
import time

from dagster import AssetKey, SkipReason, build_sensor_context

from pipelines.definitions import defs
from pipelines.ingest.triggers import landing_files_sensor
from pipelines.ingest.assets import FILE_TAG
from pipelines.single_writer import POOL
from pipelines.transform.project import dbt_project


def test_definitions_load_with_assets_checks_job_schedule_and_sensor():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/events", "raw/quarantine", "raw/ingested_files", "stg_registration_events", "int_person_states",
            "coverage_by_region_month", "coverage_by_county_month", "registrations_by_channel_month",
            "metrics", "evaluation/goal_status", "evaluation/rollout_effect", "serving_copy"} <= keys
    checks = {(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys}
    assert ("stg_registration_events", "unique_stg_registration_events_event_id") in checks
    assert {("raw/ingested_files", "files_reconcile"), ("stg_registration_events", "staging_matches_loaded_events"),
            ("stg_registration_events", "daily_volume_drop")} <= checks
    assert any(asset == "coverage_by_region_month" for asset, _ in checks)
    assert defs.resolve_job_def("kritinfo_everything") is not None
    assert defs.resolve_schedule_def("kritinfo_daily").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("landing_files_sensor") is not None
    # Publishing waits for every published mart.
    publish_deps = graph.get(AssetKey("serving_copy")).parent_keys
    assert {AssetKey("coverage_by_region_month"), AssetKey("registrations_national_month")} <= publish_deps
    assert dbt_project.manifest_path.exists()


def test_sensor_requests_one_run_per_complete_file_keyed_by_its_name_time_and_size(tmp_path, monkeypatch):
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    landing = tmp_path / "landing"
    landing.mkdir()
    settled = time.time() - 60
    (landing / ".events-2025-01-03.ndjson.tmp").write_text("{}\n")  # still being written
    assert isinstance(landing_files_sensor(build_sensor_context()), SkipReason)

    for name in ("events-2025-01-01.ndjson", "events-2025-01-02.ndjson.gz"):
        (landing / name).write_bytes(b"")
        os.utime(landing / name, (settled, settled))
    (landing / "events-2025-01-04.ndjson").write_text("{}\n")  # modified just now: not yet settled

    requests = landing_files_sensor(build_sensor_context())
    names = ["events-2025-01-01.ndjson", "events-2025-01-02.ndjson.gz"]
    assert [r.tags[FILE_TAG] for r in requests] == names
    mtime_ns = {name: os.lstat(landing / name).st_mtime_ns for name in names}
    assert [r.run_key for r in requests] == [f"{name}:{mtime_ns[name]}:0" for name in names]

    # A new file under a used name is a new run; a name that is not UTF-8 runs over every new file.
    (landing / names[0]).write_bytes(b"{}\n")
    os.utime(landing / names[0], (settled, settled))
    with open(os.path.join(os.fsencode(landing), b"bad-\xff.ndjson"), "wb"):
        os.utime(os.path.join(os.fsencode(landing), b"bad-\xff.ndjson"), (settled, settled))
    requests = landing_files_sensor(build_sensor_context())
    bad_ns = os.lstat(os.path.join(os.fsencode(landing), b"bad-\xff.ndjson")).st_mtime_ns
    assert [r.run_key for r in requests] == [f"bad-\\xff.ndjson:{bad_ns}:0",
                                             f"{names[0]}:{mtime_ns[names[0]]}:3", f"{names[1]}:{mtime_ns[names[1]]}:0"]
    assert [r.tags.get(FILE_TAG) for r in requests] == [None, *names]


def test_every_step_of_the_job_runs_in_the_warehouse_pool():
    # Each step reads or writes the warehouse: DuckDB admits one writer or readers, never both.
    job = defs.resolve_job_def("kritinfo_everything")
    assert {node.name: node.pool for node in job.graph.node_defs} == {node.name: POOL for node in job.graph.node_defs}
