"""The Dagster definitions: importing them has no effect, loading them gives every asset, check,
job, schedule and sensor, and the sensor starts a run only for complete files it has not seen."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetKey, SkipReason, build_sensor_context

from pipelines.definitions import defs
from pipelines.ingest.assets import FILE_TAG
from pipelines.ingest.triggers import landing_files_sensor
from pipelines.single_writer import POOL
from pipelines.transform.project import prepare_dbt_manifest

REPO = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: records every process kritinfo's code starts, every manifest.json
# opened and every change to the environment while pipelines.definitions (and all it imports) is
# imported. A library doing so while it is itself imported is not counted (Dagster's croniter
# asks `file` about the interpreter; numpy sets and unsets a variable): only events with a frame
# of pipelines/ on a line other than an import.
AUDITED_IMPORT = """
import json, linecache, os, sys

PACKAGE = os.path.join(os.getcwd(), "pipelines") + os.sep
PROCESS_OR_ENVIRONMENT = {"subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                          "os.forkpty", "os.putenv", "os.unsetenv"}
seen = []

def caused_by_kritinfo():
    frame = sys._getframe(2)
    while frame:
        if frame.f_code.co_filename.startswith(PACKAGE):
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).lstrip()
            if not line.startswith(("import ", "from ")):
                return True
        frame = frame.f_back
    return False

def audit(event, args):
    if event in PROCESS_OR_ENVIRONMENT and caused_by_kritinfo():
        seen.append(event)
    elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.fsdecode(args[0]).endswith("manifest.json"):
            seen.append("open manifest.json")

before = dict(os.environ)
sys.addaudithook(audit)
import pipelines.definitions
print(json.dumps({"seen": seen, "environment_changed": dict(os.environ) != before}))
"""


@pytest.fixture(scope="module")
def loaded():
    prepare_dbt_manifest()  # as `kritinfo run` does before it loads the definitions
    return defs()


def test_importing_the_definitions_starts_no_process_reads_no_manifest_and_leaves_the_environment():
    # Without KRITINFO_HOME and DAGSTER_HOME: an import that set them would show here.
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("KRITINFO_HOME", "DAGSTER_HOME", "DAGSTER_IS_DEV_CLI")}
    result = subprocess.run([sys.executable, "-c", AUDITED_IMPORT], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"seen": [], "environment_changed": False}


def test_definitions_load_with_assets_checks_job_schedule_and_sensor(loaded):
    graph = loaded.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/events", "raw/quarantine", "raw/ingested_files", "stg_registration_events", "int_person_states",
            "coverage_by_region_month", "coverage_by_county_month", "registrations_by_channel_month",
            "metrics", "evaluation/goal_status", "evaluation/rollout_effect", "serving_copy"} <= keys
    checks = {(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys}
    assert ("stg_registration_events", "unique_stg_registration_events_event_id") in checks
    assert {("raw/ingested_files", "files_reconcile"), ("stg_registration_events", "staging_matches_loaded_events"),
            ("stg_registration_events", "daily_volume_drop")} <= checks
    assert any(asset == "coverage_by_region_month" for asset, _ in checks)
    assert loaded.resolve_job_def("kritinfo_everything") is not None
    assert loaded.resolve_schedule_def("kritinfo_daily").cron_schedule == "0 6 * * *"
    assert loaded.resolve_sensor_def("landing_files_sensor") is not None
    # Publishing waits for every published mart.
    publish_deps = graph.get(AssetKey("serving_copy")).parent_keys
    assert {AssetKey("coverage_by_region_month"), AssetKey("registrations_national_month")} <= publish_deps


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


def test_every_step_of_the_job_runs_in_the_warehouse_pool(loaded):
    # Each step reads or writes the warehouse: DuckDB admits one writer or readers, never both.
    job = loaded.resolve_job_def("kritinfo_everything")
    assert {node.name: node.pool for node in job.graph.node_defs} == {node.name: POOL for node in job.graph.node_defs}
