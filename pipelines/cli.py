"""kritinfo: simulate events, run the pipeline, serve the dashboard.

    kritinfo simulate [--start DATE] [--end DATE] [--scale X] [--seed N]
    kritinfo run
    kritinfo dashboard [--port N]
    kritinfo demo [--scale X] [--port N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date

from pipelines.settings import DASHBOARD_APP, Paths, export_home

DAGSTER_INSTANCE_YAML = """\
# Written by kritinfo: one run writes the warehouse at a time; no telemetry (no network here).
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 1
"""


def _prepare(paths: Paths) -> None:
    paths.ensure()
    instance_yaml = paths.dagster_home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text(DAGSTER_INSTANCE_YAML, encoding="utf-8")


def cmd_simulate(args: argparse.Namespace) -> int:
    from pipelines.simulate import SimulationConfig, simulate

    paths = export_home()
    _prepare(paths)
    overrides = {name: getattr(args, name) for name in ("start", "end", "scale", "seed") if getattr(args, name) is not None}
    summary = simulate(paths.landing, SimulationConfig(**overrides))
    print(
        f"wrote {summary.files_written} files, {summary.lines_written} lines "
        f"({summary.events} events, {summary.duplicates_written} duplicates, {summary.malformed_written} malformed) "
        f"for {summary.persons} persons to {paths.landing}"
    )
    return 0


def cmd_run(_args: argparse.Namespace) -> int:
    paths = export_home()
    _prepare(paths)
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    started = time.perf_counter()
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("kritinfo_everything").execute_in_process(instance=instance, raise_on_error=False)
    seconds = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        print(f"run {result.run_id} failed in {seconds:.0f} s (steps: {', '.join(failed)}); "
              f"the last published copy, if any, is unchanged", file=sys.stderr)
        return 1
    print(f"run {result.run_id} succeeded in {seconds:.0f} s; published {paths.serving}")
    return 0


def _serve(paths: Paths, port: int) -> int:
    url = f"http://localhost:{port}"
    print(f"dashboard: {url}  (Ctrl+C stops it)", flush=True)
    command = [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
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
    if not any(paths.landing.iterdir()):
        simulate_args = argparse.Namespace(start=None, end=None, scale=args.scale, seed=None)
        cmd_simulate(simulate_args)
    else:
        print(f"{paths.landing} already has files: running on them")
    if cmd_run(args) != 0:
        return 1
    return _serve(paths, args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kritinfo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write simulated events into landing/")
    simulate.add_argument("--start", type=date.fromisoformat, help="first day (default 2014-01-01)")
    simulate.add_argument("--end", type=date.fromisoformat, help="last day (default 2026-10-31)")
    simulate.add_argument("--scale", type=float, help="1.0 is national volume (default)")
    simulate.add_argument("--seed", type=int, help="random seed (default 2024)")
    simulate.set_defaults(handler=cmd_simulate)

    run = commands.add_parser("run", help="ingest landing/, build and test the marts, publish the serving copy")
    run.set_defaults(handler=cmd_run)

    dashboard = commands.add_parser("dashboard", help="serve the dashboard from the serving copy")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(handler=cmd_dashboard)

    demo = commands.add_parser("demo", help="simulate (if landing/ is empty), run, and serve the dashboard")
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--port", type=int, default=8501)
    demo.set_defaults(handler=cmd_demo)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
