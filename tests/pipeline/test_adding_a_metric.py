"""docs/adding-a-metric.md, followed: in a copy of the dbt project, a throw-away metric (new entries
per month, by channel) made from a copy of an existing one, two files and one line of the union,
then a real run. The metric reaches `metrics`, `metric_definitions`, the published copy and the
dashboard's Definisjoner page, and counts what int_entry_creations holds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.settings import DASHBOARD_APP, DBT_PROJECT_DIR
from pipelines.simulate import simulate
from tests.conftest import TEST_SIMULATION, run_cli

METRIC_ID = "test_new_entries_count"
MODEL = f"metric_{METRIC_ID}"
TEMPLATE = "metric_corrections_share"
NAME_NB = "Nye oppføringer (testindikator)"
DECLARATION = """declare_metric({
    'name_nb': '{name}',
    'definition': 'Oppføringer opprettet i måneden.',
    'numerator': 'Nye oppføringer i måneden',
    'denominator': '',
    'unit': 'oppføringer',
    'kind': 'count',
    'up_is_good': true,
    'grains': ['national', 'region'],
    'dimensions': ['channel'],
    'additivity': ['breakdowns_to_total', 'regions_to_nation'],
    'mandate': 'Tiltaket skal bidra til å øke registreringsgraden nasjonalt.',
})""".replace("{name}", NAME_NB)
FACTS_AND_CELLS = """
with facts as (
    select cast(last_day(created_on) as date) as period_end, health_region, channel, count(*) as entries
    from {{ ref('int_entry_creations') }}
    group by all
),

cells as (
    select period_end, {{ metric_cell_columns() }}, sum(facts.entries) as entries
    from {{ metric_cells_of('facts', metric) }}
    group by all
)

{{ metric_table(
    metric, 'cells',
    numerator='coalesce(cells.entries, 0)',
    denominator='null',
    value='coalesce(cells.entries, 0)',
) }}
"""
DESCRIPTION = "New entries of each month (int_entry_creations), by channel; a throw-away metric of a test."
DASHBOARD_TIMEOUT_S = 60


def add_metric(project: Path) -> None:
    metrics = project / "models" / "metrics"
    # 1. Copy the metric closest to it, both files.
    sql = Path(shutil.copy(metrics / f"{TEMPLATE}.sql", metrics / f"{MODEL}.sql"))
    yml = Path(shutil.copy(metrics / f"{TEMPLATE}.yml", metrics / f"{MODEL}.yml"))
    # 2. Change the declaration, the facts and what is counted per cell.
    assert re.search(r"\{%- set metric = declare_metric\(\{.*?\n\}\) %\}\n", sql.read_text(encoding="utf-8"), re.S), (
        f"{TEMPLATE}.sql declares its metric as the guide says"
    )
    sql.write_text(f"-- {DESCRIPTION}\n{{%- set metric = {DECLARATION} %}}\n{FACTS_AND_CELLS}", encoding="utf-8")
    # 3. Change the model's name and description; this metric keeps no unit test.
    text = yml.read_text(encoding="utf-8")
    description = re.search(r"    description: >\n(      .*\n)+", text)
    text = text[: description.start()] + f"    description: {DESCRIPTION}\n" + text[description.end() :]
    yml.write_text(text[: text.index("\nunit_tests:")].replace(TEMPLATE, MODEL), encoding="utf-8")


@pytest.fixture(scope="module")
def home_with_new_metric(tmp_path_factory, monkeypatch_module) -> Path:
    project = tmp_path_factory.mktemp("project") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    add_metric(project)
    home = tmp_path_factory.mktemp("kritinfo-home")
    simulate(home / "landing", TEST_SIMULATION)
    monkeypatch_module.setenv("KRITINFO_DBT_PROJECT_DIR", str(project))
    # 4. Run.
    result = run_cli(home, "run")
    assert result.returncode == 0, result.stderr[-4000:]
    return home


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_new_metric_counts_the_new_entries(home_with_new_metric: Path):
    with duckdb.connect(str(home_with_new_metric / "warehouse.duckdb"), read_only=True) as warehouse:
        counted = dict(
            warehouse.execute(
                f"select period_end, numerator from metrics where metric_id = '{METRIC_ID}' "
                "and grain = 'national' and dimension_name = 'total'"
            ).fetchall()
        )
        created = dict(
            warehouse.execute(
                "select cast(last_day(created_on) as date), count(*) from int_entry_creations "
                "where cast(last_day(created_on) as date) in (select period_end from int_month_ends) group by all"
            ).fetchall()
        )
        defined = warehouse.execute(
            "select name_nb, source_model, latest_period_end from metric_definitions where metric_id = ?", [METRIC_ID]
        ).fetchall()
    assert counted and counted == {period_end: float(entries) for period_end, entries in created.items()}
    assert defined == [(NAME_NB, MODEL, max(counted))]


def test_the_new_metric_is_published(home_with_new_metric: Path):
    with duckdb.connect(str(home_with_new_metric / "serving.duckdb"), read_only=True) as serving:
        published = serving.execute(
            f"select count(*), count(distinct dimension_value) from metrics where metric_id = '{METRIC_ID}'"
        ).fetchone()
        (name,) = serving.execute("select name_nb from metric_definitions where metric_id = ?", [METRIC_ID]).fetchone()
    assert published[0] > 0 and published[1] == 3  # all, api, portal
    assert name == NAME_NB


def test_the_new_metric_is_on_the_definitions_page(home_with_new_metric: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KRITINFO_HOME", str(home_with_new_metric))
    app = AppTest.from_file(str(DASHBOARD_APP), default_timeout=DASHBOARD_TIMEOUT_S)
    app.run()
    app.switch_page("views/definisjoner.py")
    page = app.run()
    assert not page.exception
    assert NAME_NB in [header.value for header in page.header]
