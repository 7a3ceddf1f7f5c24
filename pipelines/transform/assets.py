"""Every dbt model and seed as a Dagster asset; dbt tests become asset checks.

The staging model of events is partitioned by event day: a run replaces the days of its
partition window and adds the events ingested since its last build, of any day. The
intermediate models of entries and persons rebuild only the entries and persons newly ingested
events touch (dbt_project/macros/touched_keys.sql); the marts and metrics cover all history and are rebuilt
whole; the seeds, and what seeds alone make, are built only with a changed project
(built_from_seeds_alone).

The assets are made from the manifest when the definitions are loaded (`dbt_asset_definitions`),
not on import, so importing this module reads no manifest.
"""

import functools
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy
from dagster_dbt import DbtCliEventMessage, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

from pipelines.faults import dbt_build_failed, reported_as_no_room
from pipelines.partitions import EVENT_DAYS, staged_days_environment
from pipelines.publication_inputs import dbt_project_digest
from pipelines.settings import DBT_BUILD_COMMAND, DBT_LOG_FILE_LEVEL, paths
from pipelines.single_writer import POOL, warehouse_lock
from pipelines.transform.dbt_forks import keep_partial_parse
from pipelines.transform.project import KritinfoDbtTranslator, dbt_project

EVENT_DAY_MODELS = "stg_registration_events"
# Each dbt step's nodes as they finished, in run_results.json's shape (unique_id, status, message,
# failures), beside dbt's target files. dbt itself writes no JSON artifacts in a run's build
# (--no-write-json): its manifest.json and run_results.json took some 0.45 s of every build.
NODE_RESULTS_FILE = "node_results.json"


def dbt_asset_definitions() -> list[AssetsDefinition]:
    """The event-day partitioned staging model, and every other node of the manifest."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        dagster_dbt_translator=KritinfoDbtTranslator(),
        project=dbt_project,
        select=EVENT_DAY_MODELS,
        partitions_def=EVENT_DAYS,
        backfill_policy=BackfillPolicy.single_run(),
        name="event_day_dbt_assets",
        pool=POOL,
    )
    def event_day_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from _build(context, dbt)

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        dagster_dbt_translator=KritinfoDbtTranslator(),
        project=dbt_project,
        exclude=EVENT_DAY_MODELS,
        name="kritinfo_dbt_assets",
        pool=POOL,
    )
    def kritinfo_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from _build(context, dbt, seeded)

    manifest, _, _ = get_manifest_and_translator_from_dbt_assets([kritinfo_dbt_assets])
    seeded = built_from_seeds_alone(manifest, built_elsewhere=EVENT_DAY_MODELS)
    return [event_day_dbt_assets, kritinfo_dbt_assets]


@dataclass(frozen=True)
class SeededNodes:
    """The seeds, and the models and tests built from seeds alone: the relations they make
    (schema, name), and the dbt selection that leaves them out of a build of every other node."""

    relations: frozenset[tuple[str, str]] = frozenset()
    exclusion: tuple[str, ...] = ()


def built_from_seeds_alone(manifest: Mapping, built_elsewhere: str) -> SeededNodes:
    """Each seed, and each model or test all of whose parents are such nodes: as long as the dbt
    project is the one last built (its files are their only input), a build would make them the same.

    Left out by name with indirect selection off: dbt's default would leave out, with a seed, every
    test that reads it beside another model (relationships to a seed), which must run. So the tests
    of the model ``built_elsewhere`` (another step's), which the default leaves out with that
    model, are named too."""
    parents = manifest["parent_map"]
    nodes = manifest["nodes"]

    @functools.cache
    def from_seeds(unique_id: str) -> bool:
        if unique_id.startswith("seed."):
            return True
        node_parents = parents.get(unique_id, ())
        return unique_id.startswith(("model.", "test.")) and bool(node_parents) and all(map(from_seeds, node_parents))

    found = sorted(unique_id for unique_id in nodes if from_seeds(unique_id))
    tested_elsewhere = sorted(
        unique_id
        for unique_id in nodes
        if unique_id.startswith("test.")
        and any(nodes.get(parent, {}).get("name") == built_elsewhere for parent in parents.get(unique_id, ()))
    )
    return SeededNodes(
        relations=frozenset(
            (nodes[unique_id]["schema"], nodes[unique_id]["alias"])
            for unique_id in found
            if not unique_id.startswith("test.")
        ),
        exclusion=tuple(nodes[unique_id]["name"] for unique_id in found + tested_elsewhere),
    )


def _target_path(context: AssetExecutionContext) -> Path:
    """dbt's target and log files of this step: under KRITINFO_HOME, one folder per run, so that
    housekeeping can bound them (inside the repository they grew by some 25 MB per run)."""
    return paths().dbt_runs / context.run.run_id / context.op_execution_context.op.name


@contextmanager
def _environment_for_dbt(variables: dict[str, str]) -> Iterator[None]:
    """KRITINFO_HOME and ``variables`` for the dbt invocation, restored after it: profiles.yml
    and the models read them, and DbtCliResource hands dbt this process's environment with no
    way to add to it."""
    variables = {"KRITINFO_HOME": str(paths().home), **variables}
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _build(context: AssetExecutionContext, dbt: DbtCliResource, seeded: SeededNodes = SeededNodes()):
    """Runs dbt under the warehouse lock; a failure names its failed models and tests. Every
    invocation gets the run's staged days (see staged_days_environment) and this home's partial
    parse (see Paths.dbt_partial_parse). The first build after the project changed is a full
    refresh (see _built_project); later ones leave out the ``seeded`` nodes while their relations
    are in the warehouse (24 nodes, about 0.5 s of a day's increment at national scale)."""
    target = _target_path(context)
    kept = paths().dbt_partial_parse
    if kept.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / kept.name)  # dagster-dbt then leaves it in place
    with (
        warehouse_lock(paths()),
        reported_as_no_room("the warehouse"),
        _environment_for_dbt(staged_days_environment(context)),
    ):
        built_project = _built_project(context)
        project = dbt_project_digest()
        if _read_text(built_project) != project:
            selection = ["--full-refresh"]
        elif seeded.exclusion and seeded.relations <= _warehouse_relations():
            selection = ["--exclude", " ".join(seeded.exclusion), "--indirect-selection", "empty"]
        else:
            selection = []
        invocation = dbt.cli(
            [*DBT_BUILD_COMMAND, "--no-write-json", *selection],
            context=context,
            raise_on_error=False,
            target_path=target,
        )
        node_results: dict[str, dict] = {}
        for event in invocation.stream_raw_events():
            _record_node_result(node_results, event)
            yield from event.to_default_asset_events(
                manifest=invocation.manifest,
                dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=context,
                target_path=target,
                project=invocation.project,
            )
        run_results = {"results": list(node_results.values())}
        (target / NODE_RESULTS_FILE).write_text(json.dumps(run_results), encoding="utf-8")
        keep_partial_parse(target / kept.name, kept)
        if not invocation.is_successful():
            failing_rows = _keep_failing_rows(dbt, run_results, target)
            raise dbt_build_failed(run_results, failing_rows, str(paths().warehouse), str(target / "dbt.log"))
        built_project.write_text(project, encoding="utf-8")


# The dbt event that carries a failed node's error message (dagster-dbt's result events carry
# its status, and a test's failing rows in num_failures).
_NODE_ERROR_EVENT = "RunResultError"


def _record_node_result(node_results: dict[str, dict], event: DbtCliEventMessage) -> None:
    """Adds what ``event`` says of a node's result to ``node_results``, by unique id, in
    run_results.json's shape (the fields kritinfo reads)."""
    data = event.raw_event["data"]
    node = data.get("node_info") or {}
    is_error = event.raw_event["info"]["name"] == _NODE_ERROR_EVENT and node.get("unique_id")
    if not (event.is_result_event or is_error):
        return
    result = node_results.setdefault(
        node["unique_id"], {"unique_id": node["unique_id"], "status": None, "message": None, "failures": None}
    )
    if is_error:
        result["message"] = data.get("msg")
    else:
        result["status"] = node.get("node_status") or str(data.get("status", "")).lower()
        result["failures"] = data.get("num_failures")


def _keep_failing_rows(dbt: DbtCliResource, run_results: dict, target: Path) -> dict[str, str]:
    """Runs the build's failed tests again, storing their failing rows as tables in the warehouse
    (schema main_dbt_test__audit): the relation of each, by unique id. A build stores none: every
    test's stored rows cost dbt a drop, a create and a commit, about a second of each run."""
    failed_tests = [
        result["unique_id"]
        for result in run_results["results"]
        if result["unique_id"].startswith("test.") and result["status"] == "fail"
    ]
    if not failed_tests:
        return {}
    names = [unique_id.split(".")[2] for unique_id in failed_tests]
    rerun = dbt.cli(
        # One argument holding every name, as dbt's selection syntax allows: with a name per
        # argument only the last reached dbt's --select (the others stood alone, and dbt refused them).
        ["test", "--store-failures", *DBT_LOG_FILE_LEVEL, "--select", " ".join(names)],
        manifest=dbt_project.manifest_path,
        raise_on_error=False,
        target_path=target / "failing-rows",
    ).wait()
    return {
        result["unique_id"]: result["relation_name"]
        for result in rerun.get_artifact("run_results.json")["results"]
        if result.get("relation_name")
    }


def _built_project(context: AssetExecutionContext) -> Path:
    """The digest of the dbt project this step last built successfully with. Incremental models
    keep what earlier builds made: after the SQL changed, everything is built again (a full
    refresh), or days and entries untouched since would keep the old logic's results."""
    return paths().dbt_runs / f"built-project-{context.op_execution_context.op.name}.sha256"


def _warehouse_relations() -> set[tuple[str, str]]:
    """The tables and views of the warehouse (none while it does not exist), as (schema, name)."""
    if not paths().warehouse.exists():
        return set()
    with duckdb.connect(str(paths().warehouse), read_only=True) as con:
        return set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
