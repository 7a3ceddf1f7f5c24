"""The rollout-effect estimator on panels with a known effect: exact recovery, calibration, limits."""

from __future__ import annotations

import calendar
from datetime import date

import duckdb
import numpy as np
import pytest

from pipelines.evaluation.effect import (
    NotEstimable,
    Panel,
    effect_rows,
    estimate_rollout_effect,
    fit_untreated,
    load_panel,
)
from pipelines.evaluation.tables import COLUMNS, replace_tables

REGIONS = ("helse-sor-ost", "helse-vest", "helse-midt-norge", "helse-nord")
# Sep 2021 - Oct 2026: from March 2026 every region is live, and those months cannot be used.
MONTHS = tuple(date(2021 + (8 + i) // 12, (8 + i) % 12 + 1, 1) for i in range(62))
# The simulator's rollout: Vest first, Sør-Øst last.
GO_LIVE = {
    "helse-sor-ost": date(2026, 3, 1),
    "helse-vest": date(2024, 9, 1),
    "helse-midt-norge": date(2025, 9, 1),
    "helse-nord": date(2026, 1, 1),
}
POPULATION = np.array([3_000_000, 1_130_000, 740_000, 480_000], dtype=float)[:, None] * np.ones(len(MONTHS))
SEASON = np.array([1.05, 1.05, 1.05, 1.0, 1.0, 1.0, 0.6, 0.95, 1.1, 1.1, 1.1, 1.0])


def months_since_go_live(go_live=GO_LIVE) -> np.ndarray:
    index = np.array([m.year * 12 + m.month - 1 for m in MONTHS])
    return np.array(
        [index - (g.year * 12 + g.month - 1) if g else np.full(len(MONTHS), -999) for g in go_live.values()]
    )


def expected_without_effect(per_100k_month: float = 3.5) -> np.ndarray:
    trend = 1 + 0.004 * np.arange(len(MONTHS))
    season = SEASON[[m.month - 1 for m in MONTHS]]
    return POPULATION / 100_000 * per_100k_month * trend * season


def ramp_effect(uplift: float, go_live=GO_LIVE) -> np.ndarray:
    """1 + uplift * ramp, the ramp rising over the first 12 months (mid-month), as the simulator's."""
    k = months_since_go_live(go_live)
    return 1 + uplift * np.where(k >= 0, np.minimum(1.0, (k + 0.5) / 12), 0.0)


def test_the_fixed_effects_fit_recovers_a_multiplicative_model_exactly():
    region_level = np.array([1.0, 1.3, 0.8, 1.1])
    month_level = np.linspace(0.5, 1.5, 10)
    exposure = np.array([10.0, 4.0, 3.0, 2.0])[:, None] * np.ones(10)
    counts = exposure * region_level[:, None] * month_level[None, :]
    untreated = np.ones_like(counts, dtype=bool)
    untreated[1, 6:] = False  # what the fit does not see, it imputes
    counts_seen = np.where(untreated, counts, 1e6)
    assert fit_untreated(counts_seen, exposure, untreated) == pytest.approx(counts)


def test_the_fit_matches_region_and_month_totals_of_untreated_cells():
    rng = np.random.default_rng(3)
    counts = rng.poisson(20, size=(4, 12)).astype(float)
    untreated = np.ones_like(counts, dtype=bool)
    untreated[0, 8:] = False
    fitted = fit_untreated(counts, np.ones_like(counts), untreated)
    observed = np.where(untreated, counts, 0)
    fitted_seen = np.where(untreated, fitted, 0)
    assert fitted_seen.sum(axis=1) == pytest.approx(observed.sum(axis=1))
    assert fitted_seen.sum(axis=0) == pytest.approx(observed.sum(axis=0))


@pytest.mark.parametrize(
    ("go_live", "usable_until", "last_event_month"),
    [
        # Once Sør-Øst is live (March 2026) no region is left to compare with: later months drop out.
        (GO_LIVE, date(2026, 2, 1), 17),
        # With Sør-Øst never live, it is the control to the end.
        ({**GO_LIVE, "helse-sor-ost": None}, date(2026, 10, 1), 25),
    ],
)
def test_without_noise_the_injected_effect_is_recovered_exactly(go_live, usable_until, last_event_month):
    without = expected_without_effect()
    effect = ramp_effect(0.6, go_live)
    estimate = estimate_rollout_effect(Panel(REGIONS, MONTHS, without * effect, POPULATION, go_live), draws=49)

    k = months_since_go_live(go_live)
    usable = np.array([m <= usable_until for m in MONTHS])[None, :] & np.ones((4, 1), dtype=bool)
    full = (k >= 12) & usable
    assert estimate.effect("relative_change_from_month_12").estimate == pytest.approx(0.6)
    assert estimate.effect("relative_change_from_month_12").n_months == full.sum()
    ramp = (k >= 0) & (k < 12) & usable
    truth_ramp = (without * effect)[ramp].sum() / without[ramp].sum() - 1
    assert estimate.effect("relative_change_months_0_to_11").estimate == pytest.approx(truth_ramp)
    assert estimate.effect("relative_change_months_0_to_11").n_months == ramp.sum()
    by_month = {e.event_month: e for e in estimate.event_study}
    assert sorted(by_month) == list(range(-12, last_event_month + 1))
    for month, e in by_month.items():
        assert e.estimate == pytest.approx(0.6 * min(1.0, (month + 0.5) / 12) if month >= 0 else 0.0, abs=1e-9)
        # No noise to resample: the interval is the estimate.
        assert (e.ci_low, e.ci_high) == pytest.approx((e.estimate, e.estimate), abs=1e-9)


def test_intervals_cover_the_truth_about_as_often_as_they_claim():
    rng = np.random.default_rng(2024)
    without = expected_without_effect(per_100k_month=3.0)
    mean = without * ramp_effect(0.6)
    covered = []
    for panel_number in range(40):
        counts = rng.poisson(mean).astype(float)
        estimate = estimate_rollout_effect(
            Panel(REGIONS, MONTHS, counts, POPULATION, GO_LIVE), draws=149, seed=panel_number
        )
        e = estimate.effect("relative_change_from_month_12")
        covered.append(e.ci_low <= 0.6 <= e.ci_high)
        assert e.ci_low > 0  # the effect is large enough to be told from none
    # 95 % intervals: at least 34 of 40 (fewer would happen by chance with probability 1 %).
    assert sum(covered) >= 34


def test_a_region_live_too_soon_after_the_window_starts_is_left_out():
    go_live = {**GO_LIVE, "helse-nord": date(2021, 12, 1)}  # three months of history before it
    counts = expected_without_effect() * 1.0
    estimate = estimate_rollout_effect(Panel(REGIONS, MONTHS, counts, POPULATION, go_live), draws=19)
    assert estimate.pre_months["helse-nord"] == 3
    # Nord would be the only region 12+ months after go-live in the first months of 2023.
    assert estimate.effect("relative_change_from_month_12").n_regions == 1


def test_not_estimable_without_a_go_live_or_without_a_control():
    counts = expected_without_effect()
    with pytest.raises(NotEstimable, match="no region has sent anything through the API"):
        estimate_rollout_effect(Panel(REGIONS, MONTHS, counts, POPULATION, dict.fromkeys(REGIONS)))
    everyone_at_once = dict.fromkeys(REGIONS, date(2024, 9, 1))
    with pytest.raises(NotEstimable, match="not-yet-treated region"):
        estimate_rollout_effect(Panel(REGIONS, MONTHS, counts, POPULATION, everyone_at_once))


def test_panel_and_tables_in_duckdb(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(
        "create table api_first_use_by_region (health_region varchar, first_api_event_on date, go_live_month date)"
    )
    con.executemany(
        "insert into api_first_use_by_region values (?, ?, ?)",
        [(r, g.replace(day=9) if g else None, g) for r, g in GO_LIVE.items()],
    )
    con.execute(
        "create table new_persons_by_region_month "
        "(period_end date, health_region varchar, new_persons bigint, population bigint)"
    )
    counts = np.rint(expected_without_effect() * ramp_effect(0.6))
    rows = [
        (
            date(m.year, m.month, calendar.monthrange(m.year, m.month)[1]),
            region,
            int(counts[i, t]),
            int(POPULATION[i, t]),
        )
        for i, region in enumerate(REGIONS)
        for t, m in enumerate(MONTHS)
    ]
    con.executemany("insert into new_persons_by_region_month values (?, ?, ?, ?)", rows)

    panel = load_panel(con)
    assert panel.month_starts == MONTHS and panel.regions == REGIONS
    assert panel.go_live == GO_LIVE
    assert panel.new_persons == pytest.approx(counts)
    given = load_panel(con, go_live={"helse-vest": date(2024, 10, 15)})
    assert given.go_live == {
        "helse-sor-ost": None,
        "helse-vest": date(2024, 10, 1),
        "helse-midt-norge": None,
        "helse-nord": None,
    }

    estimate = estimate_rollout_effect(panel, draws=99)
    replace_tables(con, effect_rows(estimate))
    effects = con.execute("select * from evaluation.rollout_effect order by estimand").fetchall()
    assert [row[0] for row in effects] == ["relative_change_from_month_12", "relative_change_months_0_to_11"]
    assert all(len(row) == len(COLUMNS["rollout_effect"]) for row in effects)
    assert effects[0][2] == pytest.approx(estimate.effect("relative_change_from_month_12").estimate)
    assert con.execute("select count(*) from evaluation.rollout_event_study").fetchone() == (30,)

    con.execute(
        "delete from new_persons_by_region_month where health_region = 'helse-nord' and period_end = '2023-01-31'"
    )
    with pytest.raises(NotEstimable, match="lacks a region or a month"):
        load_panel(con)
    # Nothing to estimate leaves the tables empty, with their columns.
    replace_tables(con, effect_rows(None))
    assert con.execute("select count(*) from evaluation.rollout_effect").fetchone() == (0,)
