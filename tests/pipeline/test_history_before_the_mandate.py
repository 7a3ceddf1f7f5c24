"""A first delivery whose months all lie before the mandate's budget years (a producer sending its
history from before 2024) runs and publishes: every metric has figures except the cost per new
person, which has a budget to divide only in the budget years (seed mandate_budget).

The delivery is the contract edge cases' (tests/pipeline/test_contract_v11_edge_cases.py), every
date moved back two years, to January and February 2023.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.helpers import line
from tests.pipeline.test_contract_v11_edge_cases import delivery
from tests.pipeline.test_incremental_equals_full import first_budget_year

YEARS_BACK = 2
DATE = re.compile(r"^(\d{4})(-\d{2}-\d{2})")


def moved_back(value):
    """``value`` with every date or date-time string in it YEARS_BACK years earlier."""
    if isinstance(value, dict):
        return {key: moved_back(item) for key, item in value.items()}
    if isinstance(value, list):
        return [moved_back(item) for item in value]
    if isinstance(value, str) and DATE.match(value):
        return DATE.sub(lambda found: f"{int(found.group(1)) - YEARS_BACK}{found.group(2)}", value)
    return value


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("before-the-mandate")
    events = [moved_back(event) for event in delivery()]
    assert max(event["occurred_at"][:4] for event in events) == "2023"
    (home / "landing").mkdir()
    path = home / "landing" / "history-2023.ndjson"
    path.write_bytes(b"\n".join(line(event) for event in events) + b"\n")
    arrived = datetime(2023, 3, 3, 9, 0, tzinfo=UTC).timestamp()
    os.utime(path, (arrived, arrived))
    run = run_cli(home, "run")
    assert run.returncode == 0, run.stdout + run.stderr
    return home


def test_a_history_before_the_budget_years_publishes_every_metric_that_has_a_meaning_then(home: Path):
    assert 2023 < first_budget_year()
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        defined = dict(con.execute("SELECT metric_id, latest_period_end FROM metric_definitions").fetchall())
        with_figures = {metric for (metric,) in con.execute("SELECT DISTINCT metric_id FROM metrics").fetchall()}
        months = {month for (month,) in con.execute("SELECT DISTINCT period_end FROM metrics").fetchall()}
    assert months == {date(2023, 1, 31), date(2023, 2, 28)}
    assert with_figures == set(defined) - {"cost_per_new_person"}
    assert defined["cost_per_new_person"] is None
    assert {defined[metric] for metric in with_figures} == {date(2023, 2, 28)}
