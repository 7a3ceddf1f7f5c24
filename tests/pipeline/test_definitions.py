"""The Dagster definitions: importing them has no effect, loading them gives exactly the assets,
checks, jobs, schedules and sensors of the committed snapshot (which the README's list of groups
follows), and the sensor starts one run for the complete files it has not seen."""

import difflib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import RunRequest, SkipReason, build_sensor_context

from pipelines.definitions import defs
from pipelines.ingest.triggers import landing_files_sensor
from pipelines.single_writer import POOL
from tests.pipeline.update_definitions_snapshot import SNAPSHOT_FILE, as_text, snapshot

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
    return defs()


def test_importing_the_definitions_starts_no_process_reads_no_manifest_and_leaves_the_environment():
    # Without KRITINFO_HOME and DAGSTER_HOME: an import that set them would show here.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("KRITINFO_HOME", "DAGSTER_HOME", "DAGSTER_IS_DEV_CLI")
    }
    result = subprocess.run(
        [sys.executable, "-c", AUDITED_IMPORT], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"seen": [], "environment_changed": False}


def test_definitions_equal_the_snapshot(loaded):
    committed = SNAPSHOT_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    difference = "".join(
        difflib.unified_diff(
            committed,
            as_text(snapshot(loaded)).splitlines(keepends=True),
            "definitions_snapshot.json",
            "loaded definitions",
        )
    )
    assert not difference, (
        "the definitions differ from tests/pipeline/definitions_snapshot.json; if intended, run "
        f"`.venv/bin/python -m tests.pipeline.update_definitions_snapshot` and review its diff:\n{difference}"
    )


def test_readme_lists_the_asset_groups_of_the_snapshot():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"The UI lists the assets \(groups ([^)]*)\)", readme)
    assert listed, "README: the sentence listing the asset groups is gone"
    groups = json.loads(SNAPSHOT_FILE.read_text(encoding="utf-8"))["groups"]
    assert sorted(re.findall(r"`([^`]+)`", listed.group(1))) == groups


def test_sensor_requests_one_run_for_all_complete_files_keyed_by_their_names_times_and_sizes(tmp_path, monkeypatch):
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    landing = tmp_path / "landing"
    landing.mkdir()
    settled = time.time() - 60
    (landing / ".events-2025-01-03.ndjson.tmp").write_text("{}\n")  # still being written
    assert isinstance(landing_files_sensor(build_sensor_context()), SkipReason)
    (landing / "events-2025-01-04.ndjson").write_text("{}\n")  # modified just now: not yet settled
    assert isinstance(landing_files_sensor(build_sensor_context()), SkipReason)

    for name in ("events-2025-01-01.ndjson", "events-2025-01-02.ndjson.gz"):
        (landing / name).write_bytes(b"")
        os.utime(landing / name, (settled, settled))
    request = landing_files_sensor(build_sensor_context())
    assert isinstance(request, RunRequest)
    assert landing_files_sensor(build_sensor_context()).run_key == request.run_key  # the same files: one run

    # A new file under a used name, or one more file (even one whose name is not UTF-8), is a new run.
    (landing / "events-2025-01-01.ndjson").write_bytes(b"{}\n")
    os.utime(landing / "events-2025-01-01.ndjson", (settled, settled))
    rewritten = landing_files_sensor(build_sensor_context())
    with open(os.path.join(os.fsencode(landing), b"bad-\xff.ndjson"), "wb"):
        os.utime(os.path.join(os.fsencode(landing), b"bad-\xff.ndjson"), (settled, settled))
    added = landing_files_sensor(build_sensor_context())
    assert len({request.run_key, rewritten.run_key, added.run_key}) == 3


def test_every_step_of_the_job_runs_in_the_warehouse_pool(loaded):
    # Each step reads or writes the warehouse: DuckDB admits one writer or readers, never both.
    job = loaded.resolve_job_def("kritinfo_everything")
    assert {node.name: node.pool for node in job.graph.node_defs} == {node.name: POOL for node in job.graph.node_defs}
