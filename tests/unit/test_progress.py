"""The stage lines of `kritinfo run`, from the metadata its assets are materialized with."""

from pipelines.progress import Stage, count, counted, duration, stage_of


def test_numbers_are_grouped_by_spaces_and_times_rounded_to_what_a_person_reads():
    assert count(19887) == "19 887"
    assert count(4100.4) == "4 100"
    assert counted(1, "file") == "1 file" and counted(0, "file") == "0 files"
    assert duration(5.24) == "5.2 s"
    assert duration(61.4) == "61 s"


def test_steps_belong_to_their_stage():
    assert [
        stage_of(step)
        for step in (
            "raw_tables",
            "event_day_dbt_assets",
            "raw__ingested_files_files_reconcile",
            "kritinfo_dbt_assets",
            "rollout_evaluation",
            "serving_copy",
        )
    ] == ["ingest", "dbt", "dbt", "dbt", "evaluation", "publish"]


def test_each_stage_line_counts_what_its_assets_say():
    ingest = Stage("ingest", started=0.0, ended=5.2)
    ingest.materialized["raw/events"] = {
        "files": 212,
        "lines_read": 19887,
        "loaded": 19683,
        "duplicates": 186,
        "quarantined": 18,
        "lines_per_second": 4100,
    }
    assert ingest.line(now=9.0) == (
        "ingest      212 files, 19 887 lines (19 683 loaded, 186 duplicates, 18 quarantined)  4 100 lines/s  5.2 s"
    )

    dbt = Stage("dbt", started=0.0, ended=61.0, failed=True)
    dbt.materialized.update({f"model_{n}": {} for n in range(93)})
    dbt.tests_passed.update(range(240))
    dbt.tests_failed.add("accepted_values")
    assert dbt.line(now=70.0) == "dbt         93 models, 240 tests passed, 1 failed  stopped after 61 s"

    evaluation = Stage("evaluation", started=0.0, ended=3.1)
    evaluation.materialized.update({"evaluation/goal_status": {"rows": 7}, "evaluation/rollout_effect": {"rows": 3}})
    assert evaluation.line(now=4.0) == "evaluation  7 goals, rollout effect  3.1 s"

    publish = Stage("publish", started=0.0)
    publish.materialized["serving_copy"] = {
        "data_until": "2025-02-28",
        "rows/a": 10,
        "rows/b": 20,
        "hidden_small/a": 1200,
        "hidden_complementary/a": 3,
    }
    assert publish.line(now=2.0) == "publish     2 tables, 1 203 cells hidden  2.0 s"
