"""The snapshot of kritinfo's Dagster definitions: every asset (its group, whether it is
partitioned, its upstream assets, its checks and the jobs that materialise it), job, schedule and
sensor.

tests/pipeline/test_definitions.py compares the loaded definitions with the committed
definitions_snapshot.json. After adding or changing an asset, check, job, schedule or sensor
(or a dbt model or test), regenerate it from the repository root and review the diff:

    .venv/bin/python -m tests.pipeline.update_definitions_snapshot
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

SNAPSHOT_FILE = Path(__file__).with_name("definitions_snapshot.json")


def snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    # __ASSET_JOB is Dagster's implicit job over every asset, not one of ours.
    jobs = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitioned": node.is_partitioned,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in node.check_keys),
            "jobs": sorted(job.name for job in jobs if key in job.asset_layer.selected_asset_keys),
        }
    return {
        "groups": sorted({entry["group"] for entry in assets.values()}),
        "assets": assets,
        "jobs": sorted(job.name for job in jobs),
        "schedules": {
            schedule.name: {
                "job": schedule.job_name,
                "cron": schedule.cron_schedule,
                "timezone": schedule.execution_timezone,
                "default_status": schedule.default_status.value,
            }
            for schedule in sorted(repository.schedule_defs, key=lambda schedule: schedule.name)
        },
        "sensors": {
            sensor.name: {
                "jobs": sorted(target.job_name for target in sensor.targets),
                "minimum_interval_seconds": sensor.minimum_interval_seconds,
                "default_status": sensor.default_status.value,
            }
            for sensor in sorted(repository.sensor_defs, key=lambda sensor: sensor.name)
        },
    }


def as_text(snapshot: dict) -> str:
    return json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    from pipelines.definitions import defs
    from pipelines.transform.project import prepare_dbt_manifest

    prepare_dbt_manifest()
    SNAPSHOT_FILE.write_text(as_text(snapshot(defs())), encoding="utf-8")
    print(f"wrote {SNAPSHOT_FILE}")


if __name__ == "__main__":
    main()
