"""The evaluation as Dagster assets: goal forecasts and the rollout effect, in the warehouse schema
`evaluation` (which publishing copies into serving.duckdb).

Each runs after the dbt models it reads and writes its tables in one transaction, holding the
warehouse lock in the pool `warehouse` like every step that opens the warehouse.
"""

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.evaluation.effect import NotEstimable, effect_rows, estimate_rollout_effect, load_panel, panel_inputs
from pipelines.evaluation.forecast import forecast_goals, goal_inputs, goal_series
from pipelines.evaluation.goals import load_goals
from pipelines.evaluation.tables import SCHEMA, inputs_digest, kept_tables, replace_tables
from pipelines.faults import reported_as_no_room
from pipelines.settings import paths
from pipelines.single_writer import POOL, warehouse_lock

GROUP = "evaluation"

GOAL_TABLES = {
    "goal_status": (
        "Per goal of goals.yml: baseline, target, latest value, forecast and interval at the target date, status."
    ),
    "goal_forecasts": "Per goal and month up to its target date: forecast and its 80 % prediction interval.",
    "forecast_backtest": (
        "Per goal and horizon: rolling-origin backtest errors (bias, MAE, MAPE) and interval coverage."
    ),
}
ROLLOUT_TABLES = {
    "rollout_effect": (
        "Effect of API go-live on the monthly number of new persons registered in a region, with a 95 % interval."
    ),
    "rollout_event_study": "The effect by month since go-live (negative months: pre-go-live fit, should be near 0).",
}


def _specs(tables: dict[str, str], deps: list[str]) -> list[AssetSpec]:
    return [
        AssetSpec(AssetKey([SCHEMA, name]), description=text, group_name=GROUP, deps=[AssetKey(d) for d in deps])
        for name, text in tables.items()
    ]


def _results(written: dict[str, int], **metadata) -> list[MaterializeResult]:
    return [
        MaterializeResult(asset_key=AssetKey([SCHEMA, table]), metadata={"rows": rows, **metadata})
        for table, rows in written.items()
    ]


@multi_asset(specs=_specs(GOAL_TABLES, ["metrics"]), can_subset=False, pool=POOL)
def goal_evaluation(context: AssetExecutionContext):
    """Forecast every goal of goals.yml from the metrics mart, backtest the method, set each status;
    the tables in place are kept when their inputs are unchanged (tables.kept_tables)."""
    goals = load_goals()  # before the lock: a mistake in goals.yml fails at once, naming it
    with warehouse_lock(paths()), reported_as_no_room("the warehouse"):
        with duckdb.connect(str(paths().warehouse)) as con:
            series = goal_series(con, goals)
            digest = inputs_digest(*goal_inputs(goals, series))
            written = kept_tables(con, GOAL_TABLES, digest)
            kept = written is not None
            if not kept:
                written = replace_tables(con, forecast_goals(con, goals, series), digest)
            statuses = con.execute(f"select goal_id, status from {SCHEMA}.goal_status").fetchall()
    context.log.info(
        "goals (version %s%s): %s",
        goals.version,
        ", inputs unchanged: tables kept" if kept else "",
        ", ".join(f"{goal} {status}" for goal, status in statuses),
    )
    yield from _results(written, goals_version=goals.version, goals_file=str(goals.path), inputs_unchanged=kept)


@multi_asset(
    specs=_specs(ROLLOUT_TABLES, ["new_persons_by_region_month", "api_first_use_by_region"]),
    can_subset=False,
    pool=POOL,
)
def rollout_evaluation(context: AssetExecutionContext):
    """Estimate the effect of the API rollout on new registrations (pipelines/evaluation/effect.py);
    the tables in place are kept when their inputs are unchanged (tables.kept_tables)."""
    panel, estimate, digest, written, reason = None, None, None, None, ""
    with warehouse_lock(paths()), reported_as_no_room("the warehouse"):
        with duckdb.connect(str(paths().warehouse)) as con:
            try:
                panel = load_panel(con)
                digest = inputs_digest(*panel_inputs(panel))
                written = kept_tables(con, ROLLOUT_TABLES, digest)
                if written is None:
                    estimate = estimate_rollout_effect(panel)
            except NotEstimable as not_estimable:
                # Early data (no region live yet) is not a failure: the tables are left empty.
                reason = str(not_estimable)
            kept = written is not None
            if not kept:
                written = replace_tables(con, effect_rows(estimate), digest)
            effects = con.execute(f"select estimand, estimate, ci_low, ci_high from {SCHEMA}.rollout_effect").fetchall()
    if not effects:
        reason = reason or "its inputs are those of the run that could not estimate it"
        context.log.warning("rollout effect not estimated: %s", reason)
        yield from _results(written, not_estimated=reason, inputs_unchanged=kept)
        return
    summary = _summary(effects)
    context.log.info("rollout effect%s: %s", " (inputs unchanged: tables kept)" if kept else "", summary)
    go_live = {region: str(day) if day else "not live" for region, day in panel.go_live.items()}
    yield from _results(
        written, estimates=MetadataValue.json(summary), go_live=MetadataValue.json(go_live), inputs_unchanged=kept
    )


def _summary(effects: list[tuple[str, float, float, float]]) -> dict[str, str]:
    """Each estimand's estimate and interval, as the log and the materialization show them."""
    return {estimand: f"{value:+.1%} ({low:+.1%} to {high:+.1%})" for estimand, value, low, high in effects}
