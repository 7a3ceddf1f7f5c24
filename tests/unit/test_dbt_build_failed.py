"""What a failed dbt build says: a broken contract rule by its table and rule, any other error by
dbt's first line only, since DuckDB may quote the value it failed on."""

import pytest

from pipelines.faults import dbt_build_failed

HEADER = "Runtime Error in model stg_registration_events (models/staging/stg_registration_events.sql)"
BROKEN_RULE = (
    'Constraint Error: CHECK constraint failed on table "stg_registration_events" with expression '
    "CHECK((channel IN ('api', 'portal')))"
)


@pytest.mark.parametrize(
    "cause, said",
    [
        (BROKEN_RULE, BROKEN_RULE),
        ("Conversion Error: Could not convert string 'Kari Nordmann' to INT32", HEADER),
        ('Constraint Error: Duplicate key "event_id: e-1" violates primary key constraint', HEADER),
    ],
)
def test_a_failed_model_says_the_broken_rule_or_dbts_first_line(cause: str, said: str):
    run_results = {
        "results": [
            {
                "unique_id": "model.kritinfo.stg_registration_events.x",
                "status": "error",
                "message": f"{HEADER}\n  {cause}",
            }
        ]
    }
    fault = str(dbt_build_failed(run_results, {}, "warehouse.duckdb", "dbt.log"))
    assert fault == f"dbt model stg_registration_events: {said}"
    assert "Kari" not in fault and "e-1" not in fault
