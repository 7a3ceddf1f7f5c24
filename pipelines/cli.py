"""kritinfo: simulate events, run the pipeline, serve the dashboard.

kritinfo simulate [--start DATE] [--end DATE] [--scale X] [--seed N]
kritinfo prepare
kritinfo run [--verbose] [--force]
kritinfo dashboard [--port N]
kritinfo demo [--scale X] [--port N] [--verbose] [--force]
kritinfo quarantine [list] [--reason R] [--file F] [--limit N]
kritinfo quarantine summary
kritinfo quarantine replay [--reason R] [--file F]
kritinfo doctor
kritinfo report [--as-of DATE]
kritinfo report verify DIR
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from pipelines.faults import RunFault
from pipelines.settings import DASHBOARD_APP, Paths, Retention, export_home

# `kritinfo run` exit codes (README, "Commands"): 1 the run failed (the last published copy is
# unchanged); 3 the run published, but landing files were rejected (moved to rejected/).
RUN_FAILED = 1
FILES_REJECTED = 3

_INSTANCE_YAML_HEADER = "# Written by kritinfo"


def _dagster_instance_yaml(paths: Paths) -> str:
    return f"""\
{_INSTANCE_YAML_HEADER}: one run at a time, and one step at a time in the pool `warehouse`
# (every step that opens the warehouse); no telemetry (no network here); Dagster's SQLite
# event log where Dagster keeps it, but kept open (pipelines/event_log_storage.py).
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
event_log_storage:
  module: pipelines.event_log_storage
  class: KeptOpenSqliteEventLogStorage
  config:
    base_dir: {paths.dagster_event_logs}
"""


VERBOSE_HELP = (
    "show Dagster's debug log and dbt's output as they come, rather than one line per stage "
    "(they are otherwise in dagster/logs/run-<run id>.log)"
)

FORCE_HELP = (
    "run even when nothing changed since the last publication (e.g. after the warehouse was edited by hand); "
    "without it, a run with no new file and no changed input does nothing"
)


def _prepare(paths: Paths) -> None:
    paths.ensure()
    instance_yaml = paths.dagster_home / "dagster.yaml"
    # An instance file kritinfo wrote earlier is brought up to date; one edited by hand is kept.
    if not instance_yaml.exists() or instance_yaml.read_text(encoding="utf-8").startswith(_INSTANCE_YAML_HEADER):
        instance_yaml.write_text(_dagster_instance_yaml(paths), encoding="utf-8")


def cmd_simulate(args: argparse.Namespace) -> int:
    from pipelines.simulate import SimulationConfig, simulate

    paths = export_home()
    _prepare(paths)
    overrides = {
        name: getattr(args, name) for name in ("start", "end", "scale", "seed") if getattr(args, name) is not None
    }
    summary = simulate(paths.landing, SimulationConfig(**overrides))
    print(
        f"wrote {summary.files_written} files, {summary.lines_written} lines "
        f"({summary.events} events, {summary.duplicates_written} duplicates, {summary.malformed_written} malformed) "
        f"for {summary.persons} persons to {paths.landing}"
    )
    return 0


def cmd_prepare(_args: argparse.Namespace) -> int:
    from pipelines.transform.project import prepare_dbt_manifest

    prepare_dbt_manifest()
    return 0


def _execute(job, instance, run_id: str, tags: dict[str, str], log_file: Path, verbose: bool):
    """Runs the job with one line per stage on the console; Dagster's debug log and dbt's output
    go to the log file, or, with --verbose, to the console as they come."""
    from dagster import colored_console_logger

    from pipelines.progress import RunConsole, output_to

    # A run config naming loggers starts only those: Dagster's console logger is named too, at the
    # level it has by default.
    run_config = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}, "kritinfo_console": {}}}

    def execute(console: RunConsole):
        with console:
            with_console = job.with_logger_defs(
                {"console": colored_console_logger, "kritinfo_console": console.logger_def()}
            )
            return with_console.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False, run_id=run_id, tags=tags
            )

    if verbose:
        return execute(RunConsole(sys.stdout, live=False))
    with output_to(log_file) as console_stream:
        return execute(RunConsole(console_stream, live=console_stream.isatty()))


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.publication_inputs import decide
    from pipelines.single_writer import warehouse_lock

    started = time.perf_counter()
    paths = export_home()
    _prepare(paths)
    try:
        # Held from the decision to the run's end: a second `kritinfo run` waits here, then
        # decides on what this one left.
        with warehouse_lock(paths):
            decision = decide(paths)
            if not decision.needed and not args.force:
                _archive_sent_again(paths, decision.sent_again)
                _apply_retention_while_idle(paths)
                print(f"{decision.reason}: no run, {paths.serving} unchanged ({time.perf_counter() - started:.1f} s)")
                return 0
            return _run(paths, args, started)
    except RunFault as fault:
        print(f"kritinfo run: {fault}", file=sys.stderr)
        return RUN_FAILED


def _archive_sent_again(paths: Paths, sent_again: dict[str, str]) -> None:
    """Landing files whose deliveries are ingested already leave landing/ as ingestion takes them
    out: nothing to run."""
    if not sent_again:
        return
    import duckdb

    from pipelines.ingest.archive import archive_delivered_again

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        archive_delivered_again(con, paths, sent_again)


def _apply_retention_while_idle(paths: Paths) -> None:
    """The retention of archived files (due with time alone) and of dbt's run folders; an idle run
    adds no Dagster run, so Dagster's history (and importing Dagster) waits for the next run."""
    from pipelines import housekeeping

    housekeeping.apply(paths, housekeeping.planned_removals(paths, Retention.from_environment()))


def _run(paths: Paths, args: argparse.Namespace, started: float) -> int:
    """Runs the pipeline's job once; called by cmd_run, which holds the warehouse lock."""
    from pipelines.settings import dbt_project_dir
    from pipelines.transform.dbt_forks import serving
    from pipelines.transform.metric_registry import write_metric_model_dependencies

    project = dbt_project_dir()
    # The generated macro first: the server parses the project while Dagster is imported (a
    # fork would otherwise find the project changed since, and parse it again).
    write_metric_model_dependencies(project)
    with serving(project, paths.dbt_partial_parse, paths.dbt_compiled_templates):
        return _run_job(paths, args, started)


@contextmanager
def _loading_for_the_whole_run() -> Iterator[None]:
    """Dagster, dbt's types and the definitions are some 400,000 objects that live as long as the
    run's process, and every full garbage collection walks them all: about 3 s of a day's
    increment (bench/). None runs while they load; then they are frozen (gc.freeze), so that the
    run's collections, and the interpreter's last one at exit, walk only what the run makes."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _run_job(paths: Paths, args: argparse.Namespace, started: float) -> int:
    with _loading_for_the_whole_run():
        from pipelines.transform.project import prepare_dbt_manifest

        prepare_dbt_manifest()  # before the definitions are loaded: they are made from it
        from dagster import AssetKey, DagsterInstance

        from pipelines import housekeeping
        from pipelines.definitions import defs
        from pipelines.faults import no_room_to_write, step_failures
        from pipelines.ingest.assets import REJECTED_FILES
        from pipelines.partitions import all_days_tags, recent_days_tags
        from pipelines.single_writer import CLI_RUN_TAG, CLI_RUN_TAG_VALUE, release_abandoned_runs
        from pipelines.transform.assets import EVENT_DAY_MODELS

        job = defs().resolve_job_def("kritinfo_everything")
    run_id = str(uuid.uuid4())  # chosen here, so that the log file is named after its run
    log_file = paths.run_log(run_id)
    log_named = "" if args.verbose else f"; its log: {log_file}"
    try:
        with DagsterInstance.get() as instance:
            for abandoned in release_abandoned_runs(instance):
                print(f"run {abandoned} had died without ending: marked failed, its pool slot freed", file=sys.stderr)
            # The first run covers every event-day partition. Later ones cover the late-arrival
            # window: the staging model adds newly ingested events of any day anyway.
            staged_before = instance.get_latest_materialization_event(AssetKey(EVENT_DAY_MODELS)) is not None
            days = recent_days_tags(date.today()) if staged_before else all_days_tags()
            result = _execute(
                job,
                instance,
                run_id,
                {**days, CLI_RUN_TAG: CLI_RUN_TAG_VALUE},
                log_file,
                args.verbose,
            )
            # Still under the lock: no other run is writing what the retention removes.
            removals = housekeeping.planned_removals(paths, Retention.from_environment(), instance)
            housekeeping.apply(paths, removals, instance)
    except Exception as error:
        # Dagster's own storage may be what has no room left; anything else is a bug: traceback.
        fault = error if isinstance(error, RunFault) else no_room_to_write(error, str(paths.dagster_home))
        if fault is None:
            raise
        print(f"kritinfo run: {fault}", file=sys.stderr)
        return RUN_FAILED
    seconds = time.perf_counter() - started
    rejected = [
        entry
        for materialization in result.asset_materializations_for_node("raw_tables")
        if materialization.asset_key == AssetKey(["raw", "ingested_files"])
        for entry in materialization.metadata[REJECTED_FILES].value
    ]
    for shown_name, _code, reason, stored_as in rejected:
        where = (
            f"moved to rejected/{stored_as}"
            if stored_as
            else "not kept (its bytes were not checked; the producer holds it, raw.rejected_files its sha256)"
        )
        print(f"kritinfo run: rejected landing file {shown_name}: {reason}; {where}", file=sys.stderr)
    if not result.success:
        # The failed steps come last: a person reads the end of the output first.
        print(
            f"run {result.run_id} failed in {seconds:.0f} s; the last published copy, if any, is unchanged{log_named}",
            file=sys.stderr,
        )
        for step, message in step_failures(result):
            print(f"kritinfo run: step {step} failed: {message}", file=sys.stderr)
        return RUN_FAILED
    print(f"run {result.run_id} succeeded in {seconds:.0f} s; published {paths.serving}")
    if not args.verbose:
        print(f"full log (Dagster's debug log, dbt's output): {log_file}")
    if rejected:
        print(
            f"kritinfo run: {len(rejected)} landing files rejected (see above and raw.rejected_files); "
            "the other files were published",
            file=sys.stderr,
        )
        return FILES_REJECTED
    return 0


def _serve(paths: Paths, port: int) -> int:
    url = f"http://localhost:{port}"
    print(f"dashboard: {url}  (Ctrl+C stops it)", flush=True)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]
    try:
        return subprocess.call(command, env=os.environ.copy())
    except KeyboardInterrupt:
        return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    return _serve(export_home(), args.port)


def cmd_demo(args: argparse.Namespace) -> int:
    paths = export_home()
    _prepare(paths)
    # Ingested files move to archive/: a home that has either has had its events.
    if not any(paths.landing.iterdir()) and not any(paths.archive.iterdir()):
        simulate_args = argparse.Namespace(start=None, end=None, scale=args.scale, seed=None)
        cmd_simulate(simulate_args)
    else:
        print(f"{paths.home} already has event files: running on them")
    if cmd_run(args) not in (0, FILES_REJECTED):  # rejected files are reported; the rest was published
        return 1
    return _serve(paths, args.port)


def cmd_quarantine(args: argparse.Namespace) -> int:
    import shutil

    from pipelines import settings
    from pipelines.ingest import quarantine

    if args.reason is not None and args.reason not in quarantine.REASON_CODES:
        print(
            f"kritinfo quarantine: unknown reason {args.reason!r}; the reason codes are "
            f"{', '.join(quarantine.REASON_CODES)}",
            file=sys.stderr,
        )
        return 2
    paths = settings.paths()  # no child process here: nothing to export
    try:
        if args.action == "summary":
            print(quarantine.format_summary(quarantine.summarise(paths)))
        elif args.action == "replay":
            print(quarantine.format_replay(quarantine.replay(paths, args.reason, args.file)))
        else:
            lines, total = quarantine.list_lines(paths, args.reason, args.file, args.limit)
            print(quarantine.format_lines(lines, total, shutil.get_terminal_size().columns))
    except quarantine.QuarantineError as error:
        print(f"kritinfo quarantine: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    from pipelines import housekeeping

    paths = export_home()  # the Dagster instance is found by DAGSTER_HOME
    if not (paths.dagster_home / "history").is_dir():
        print(housekeeping.report(paths, Retention.from_environment()))
        return 0
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        print(housekeeping.report(paths, Retention.from_environment(), instance))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.evaluation.goals import GoalsError
    from pipelines.report import package
    from pipelines.report.calendar import CalendarError
    from pipelines.single_writer import warehouse_lock
    from pipelines.transform.project import prepare_dbt_manifest

    paths = export_home()  # dbt reads KRITINFO_HOME
    if not paths.warehouse.exists():
        print(f"kritinfo report: {paths.warehouse} does not exist: run `kritinfo run` first", file=sys.stderr)
        return 1
    prepare_dbt_manifest()  # a package publishes the marts the manifest names
    folder = Path(args.folder) if args.action == "verify" else package.package_dir(paths, args.as_of)
    try:
        # Read-only access to the warehouse, which no writer may hold meanwhile.
        with warehouse_lock(paths):
            if args.action == "verify" or folder.exists():
                checked = package.verify_package(paths, folder)
                print(
                    f"{folder}: {checked} files match datapackage.json and a rebuild from the deliveries "
                    "known on its day"
                )
                return 0
            result = package.build_package(paths, args.as_of)
    except package.VerificationFailed as failed:
        print(f"kritinfo report verify: {failed}", file=sys.stderr)
        return 1
    except (package.PackageError, CalendarError, GoalsError, RunFault) as error:
        print(f"kritinfo report: {error}", file=sys.stderr)
        return 1
    month = result.reference_month or "no complete month yet"
    print(
        f"wrote {result.path} ({result.resources} files; reference month {month}; "
        f"{result.revisions} figures revised since the previous package)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kritinfo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write simulated events into landing/")
    simulate.add_argument("--start", type=date.fromisoformat, help="first day (default 2014-01-01)")
    simulate.add_argument("--end", type=date.fromisoformat, help="last day (default 2026-10-31)")
    simulate.add_argument("--scale", type=float, help="1.0 is national volume (default)")
    simulate.add_argument("--seed", type=int, help="random seed (default 2024)")
    simulate.set_defaults(handler=cmd_simulate)

    prepare = commands.add_parser(
        "prepare",
        help="parse the dbt project into the manifest the Dagster definitions "
        "are made from (make setup and run do it too)",
    )
    prepare.set_defaults(handler=cmd_prepare)

    run = commands.add_parser("run", help="ingest landing/, build and test the marts, publish the serving copy")
    run.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    run.set_defaults(handler=cmd_run)

    dashboard = commands.add_parser("dashboard", help="serve the dashboard from the serving copy")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(handler=cmd_dashboard)

    demo = commands.add_parser(
        "demo", help="simulate (if landing/ and archive/ are empty), run, and serve the dashboard"
    )
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--port", type=int, default=8501)
    demo.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    demo.add_argument("--force", action="store_true", help=FORCE_HELP)
    demo.set_defaults(handler=cmd_demo)

    quarantine = commands.add_parser("quarantine", help="list, summarise or replay quarantined lines")
    quarantine.add_argument(
        "action",
        nargs="?",
        choices=("list", "summary", "replay"),
        default="list",
        help="list (default) the lines, summarise them per reason and file, or replay "
        "them from their original files after a fix",
    )
    quarantine.add_argument("--reason", help="list or replay only lines quarantined for this reason code")
    quarantine.add_argument("--file", help="list or replay only lines of this landing file (its name)")
    quarantine.add_argument("--limit", type=int, default=50, help="list at most this many lines (default 50)")
    quarantine.set_defaults(handler=cmd_quarantine)

    doctor = commands.add_parser(
        "doctor", help="sizes of each area of KRITINFO_HOME, lock holders, and what the retention would remove"
    )
    doctor.set_defaults(handler=cmd_doctor)

    report = commands.add_parser(
        "report", help="write the evaluation package as of a day (data, revisions, report), or verify one"
    )
    report.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date.today(),
        help="the package's day: deliveries that landed by its end in Norway (default today)",
    )
    report.set_defaults(handler=cmd_report, action="build")
    report_actions = report.add_subparsers(dest="action")
    verify = report_actions.add_parser("verify", help="re-check a package's hashes and rebuild its data files")
    verify.add_argument("folder", help="the package's folder, KRITINFO_HOME/evaluation/<YYYY-MM-DD>")

    args = parser.parse_args(argv)
    return args.handler(args)


def console() -> None:
    """The `kritinfo` command: main(), the exit handlers, then the process ends without tearing
    the interpreter down. A run leaves Dagster, dbt's types and the definitions (some 400,000
    objects) to be freed one by one at exit, about 0.25 s of every run, with nothing left to
    write: each file and database is closed by its own block, and the exit handlers (logging's
    among them) still run."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe: nothing more can be said
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    console()
