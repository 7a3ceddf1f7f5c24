"""The Dagster definitions load, with every asset, check, job, schedule and sensor, and the sensor
starts a run only for complete files it has not seen."""

from dagster import AssetKey, RunRequest, SkipReason, build_sensor_context

from pipelines.definitions import defs, landing_files_sensor
from pipelines.transform.project import dbt_project


def test_definitions_load_with_assets_checks_job_schedule_and_sensor():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/events", "raw/quarantine", "raw/ingested_files", "stg_registration_events", "int_person_states",
            "coverage_by_region_month", "coverage_by_county_month", "registrations_by_channel_month",
            "serving_copy"} <= keys
    checks = {(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys}
    assert ("stg_registration_events", "unique_stg_registration_events_event_id") in checks
    assert any(asset == "coverage_by_region_month" for asset, _ in checks)
    assert defs.resolve_job_def("kritinfo_everything") is not None
    assert defs.resolve_schedule_def("kritinfo_daily").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("landing_files_sensor") is not None
    # Publishing waits for every published mart.
    publish_deps = graph.get(AssetKey("serving_copy")).parent_keys
    assert {AssetKey("coverage_by_region_month"), AssetKey("registrations_national_month")} <= publish_deps
    assert dbt_project.manifest_path.exists()


def test_sensor_requests_one_run_per_new_set_of_complete_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / ".events-2025-01-02.ndjson.tmp").write_text("{}\n")
    assert isinstance(landing_files_sensor(build_sensor_context()), SkipReason)

    (landing / "events-2025-01-01.ndjson").write_text("{}\n")
    context = build_sensor_context()
    first = landing_files_sensor(context)
    assert isinstance(first, RunRequest)
    assert isinstance(landing_files_sensor(build_sensor_context(cursor=context.cursor)), SkipReason)

    (landing / "events-2025-01-02.ndjson.gz").write_bytes(b"")
    second = landing_files_sensor(build_sensor_context(cursor=context.cursor))
    assert isinstance(second, RunRequest)
    assert second.run_key != first.run_key
