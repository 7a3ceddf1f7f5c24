"""The rollout effect recovers an injected truth, through the real stack.

Simulated events (with a known effect of API go-live on new persons) are ingested into a real
warehouse, dbt builds the effect's inputs, and the Dagster asset estimates the effect and writes
the evaluation tables. The truth comes from the simulator's own bookkeeping (expected new persons
with and without the effect per region and month), over the region-months the estimand covers
(worked out here from the configured go-live dates, not by the code under test).
"""

from __future__ import annotations

import os
import subprocess
from datetime import date

import duckdb
import pytest
from dagster import materialize

from pipelines.evaluation.assets import rollout_evaluation
from pipelines.ingest.loader import ingest_new_files
from pipelines.settings import DBT_PROJECT_DIR, Paths, dbt_executable
from pipelines.simulate import DEFAULT_API_GO_LIVE, SimulationConfig, simulate

# 36 months before Helse Vest goes live (September 2024) to the last month before the last region
# does (Helse Sør-Øst, March 2026): every month has a not-yet-treated region to compare with.
START, END = date(2021, 9, 1), date(2026, 2, 28)
SCALE = 0.1  # about 60 new persons a month in Vest once live: the interval excludes 0 at +60 %
# A 95 % interval misses the truth in one run of twenty by chance. Without an effect, seed 4 gave
# +17.6 % (+1.7 % to +36.9 %) from month 12, one such miss; seeds 21-26 all covered 0 (+9.9 %,
# -9.1 %, -2.7 %, +1.0 %, +2.2 %, -10.0 %). In Poisson panels of this shape the intervals cover
# 93.5-95 % (effect.py).
SEED_WITH_EFFECT = 4
SEED_WITHOUT_EFFECT = 21
FULL_EFFECT_FROM_MONTH = 12


def months_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def run_stack(home, uplift: float, seed: int):
    """Simulate, ingest, build the effect's dbt inputs, materialise the rollout asset."""
    paths = Paths(home).ensure()
    summary = simulate(
        paths.landing,
        SimulationConfig(
            start=START,
            end=END,
            scale=SCALE,
            seed=seed,
            api_rate_uplift=uplift,
            malformed_rate=0.0,
        ),
    )
    ingest_new_files(paths)
    env = {**os.environ, "KRITINFO_HOME": str(paths.home)}
    build = subprocess.run(
        [
            dbt_executable(),
            "build",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--select",
            "+new_persons_by_region_month",
            "+api_first_use_by_region",
            "--indirect-selection",
            "cautious",
            "--target-path",
            str(home / "dbt-target"),
            "--log-path",
            str(home / "dbt-logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:]
    previous = os.environ.get("KRITINFO_HOME")
    os.environ["KRITINFO_HOME"] = str(paths.home)
    try:
        result = materialize([rollout_evaluation])
    finally:
        if previous is None:
            del os.environ["KRITINFO_HOME"]
        else:
            os.environ["KRITINFO_HOME"] = previous
    assert result.success
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        effects = {
            row[0]: row[1:]
            for row in con.execute(
                "select estimand, estimate, ci_low, ci_high, n_regions, n_months from evaluation.rollout_effect"
            ).fetchall()
        }
        event_study = con.execute(
            "select event_month, estimate, ci_low, ci_high from evaluation.rollout_event_study order by 1"
        ).fetchall()
        go_live = dict(con.execute("select health_region, go_live_month from api_first_use_by_region").fetchall())
        new_persons = {
            (r, d.strftime("%Y-%m")): n
            for d, r, n in con.execute(
                "select period_end, health_region, new_persons from new_persons_by_region_month"
            ).fetchall()
        }
    return summary, effects, event_study, go_live, new_persons


def true_effect_from_month_12(summary) -> float:
    """Expected new persons with / without the effect - 1, over the region-months from month 12
    after go-live up to the last simulated month."""
    with_effect = without = 0.0
    for (region, month), (baseline, effect) in summary.expected_new_persons_by_region_month.items():
        go_live = DEFAULT_API_GO_LIVE[region]
        if date.fromisoformat(month + "-01") >= months_after(go_live, FULL_EFFECT_FROM_MONTH):
            with_effect += effect
            without += baseline
    return with_effect / without - 1


@pytest.fixture(scope="module")
def with_effect(tmp_path_factory):
    return run_stack(tmp_path_factory.mktemp("rollout-effect"), uplift=0.6, seed=SEED_WITH_EFFECT)


@pytest.fixture(scope="module")
def without_effect(tmp_path_factory):
    return run_stack(tmp_path_factory.mktemp("rollout-no-effect"), uplift=0.0, seed=SEED_WITHOUT_EFFECT)


def test_go_live_is_found_in_the_data(with_effect):
    _, _, _, go_live, _ = with_effect
    for region, day in DEFAULT_API_GO_LIVE.items():
        if day > END:
            assert go_live[region] is None
        else:
            # The API share ramps up from 0 on go-live day: the first API event may slip a month.
            assert go_live[region] in (day, months_after(day, 1)), region


def test_new_persons_match_the_simulated_arrivals(with_effect):
    # The simulator counts persons when their first entry is created; the model when their first
    # entry is active (an entry withdrawn as entered in error the same day counts later or never).
    summary, _, _, _, new_persons = with_effect
    for region in DEFAULT_API_GO_LIVE:
        simulated = sum(n for (r, _), n in summary.new_persons_by_region_month.items() if r == region)
        counted = sum(n for (r, _), n in new_persons.items() if r == region)
        assert simulated * 0.97 <= counted <= simulated, region


def test_the_interval_covers_the_injected_effect_and_excludes_zero(with_effect):
    summary, effects, _, _, _ = with_effect
    truth = true_effect_from_month_12(summary)
    assert truth == pytest.approx(0.6, abs=0.005)
    estimate, low, high, n_regions, n_months = effects["relative_change_from_month_12"]
    # Only Helse Vest is 12 months past go-live while another region is not yet live: Sep 2025 - Feb 2026.
    assert (n_regions, n_months) == (1, 6)
    assert low <= truth <= high
    assert low > 0
    assert low < estimate < high


def test_the_ramp_up_shows_in_the_event_study(with_effect):
    _, effects, event_study, _, _ = with_effect
    estimate, low, high, *_ = effects["relative_change_months_0_to_11"]
    assert low > 0 and low < estimate < high
    after = {k: estimate for k, estimate, *_ in event_study if k >= 0}
    # The injected uplift rises linearly over twelve months: later months gain more than the first.
    assert sum(after[k] for k in range(9, 12)) > sum(after[k] for k in range(0, 3))


def test_with_no_effect_every_interval_covers_zero(without_effect):
    summary, effects, event_study, _, _ = without_effect
    assert true_effect_from_month_12(summary) == 0.0
    for estimand in ("relative_change_from_month_12", "relative_change_months_0_to_11"):
        _, low, high, *_ = effects[estimand]
        assert low <= 0 <= high, estimand
    # 95 % intervals by month since go-live (before it too): nearly all of them hold 0.
    covering = [low <= 0 <= high for _, _, low, high in event_study]
    assert sum(covering) >= 0.85 * len(covering)
