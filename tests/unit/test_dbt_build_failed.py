"""What a failed dbt build says: a broken contract rule by its table and rule, any other error by
dbt's first line only, since DuckDB may quote the value it failed on."""

from pipelines.faults import dbt_build_failed


def _failed_model(message: str) -> dict:
    return {
        "results": [{"unique_id": "model.kritinfo.stg_registration_events.x", "status": "error", "message": message}]
    }


def test_a_broken_contract_rule_is_named():
    message = (
        "Runtime Error in model stg_registration_events (models/staging/stg_registration_events.sql)\n"
        '  Constraint Error: CHECK constraint failed on table "stg_registration_events" with expression '
        "CHECK((channel IN ('api', 'portal')))"
    )
    fault = dbt_build_failed(_failed_model(message), {}, "warehouse.duckdb", "dbt.log")
    assert str(fault) == (
        "dbt model stg_registration_events: Constraint Error: CHECK constraint failed on table "
        '"stg_registration_events" with expression '
        "CHECK((channel IN ('api', 'portal')))"
    )


def test_an_error_that_may_quote_a_value_shows_its_first_line_only():
    message = (
        "Runtime Error in model stg_registration_events (models/staging/stg_registration_events.sql)\n"
        "  Conversion Error: Could not convert string 'Kari Nordmann' to INT32\n"
        '  Constraint Error: Duplicate key "event_id: e-1" violates primary key constraint'
    )
    fault = dbt_build_failed(_failed_model(message), {}, "warehouse.duckdb", "dbt.log")
    assert str(fault) == (
        "dbt model stg_registration_events: Runtime Error in model stg_registration_events "
        "(models/staging/stg_registration_events.sql)"
    )
    assert "Kari" not in str(fault) and "e-1" not in str(fault)
