"""dbt's run_results.json as checks of audit.validation_results (ecom.quality.dbt_results), on hand-made
artifacts: what a real build records is checked in tests/test_dbt_project.py."""

from __future__ import annotations

import json
from datetime import date

import duckdb

from ecom import pipeline_tasks
from ecom.config import Settings

AS_OF = date(2024, 3, 31)
MANIFEST = {
    "nodes": {
        "model.ecom.orders_mart": {"name": "orders_mart", "resource_type": "model"},
        "model.ecom.items_mart": {"name": "items_mart", "resource_type": "model"},
        "test.ecom.not_null_orders_mart_order_id.1": {
            "unique_id": "test.ecom.not_null_orders_mart_order_id.1", "name": "not_null_orders_mart_order_id",
            "resource_type": "test", "attached_node": "model.ecom.orders_mart", "column_name": "order_id",
            "test_metadata": {"name": "not_null", "kwargs": {"column_name": "order_id", "model": "x"}},
            "config": {"severity": "ERROR"},
        },
        "test.ecom.accepted_range_orders_mart_amount.2": {
            "unique_id": "test.ecom.accepted_range_orders_mart_amount.2",
            "name": "accepted_range_orders_mart_amount",
            "resource_type": "test", "attached_node": "model.ecom.orders_mart", "column_name": "amount",
            "test_metadata": {"name": "accepted_range", "kwargs": {"column_name": "amount", "min_value": 0}},
            "config": {"severity": "warn", "where": "amount is not null"},
        },
        "test.ecom.assert_items_add_up": {
            "unique_id": "test.ecom.assert_items_add_up", "name": "assert_items_add_up",
            "resource_type": "test",
            "attached_node": None, "column_name": None,
            "depends_on": {"nodes": ["model.ecom.orders_mart", "model.ecom.items_mart"]},
            "config": {"severity": "ERROR"},
        },
        "test.ecom.unique_items_mart_item_id.3": {
            "unique_id": "test.ecom.unique_items_mart_item_id.3", "name": "unique_items_mart_item_id",
            "resource_type": "test", "attached_node": "model.ecom.items_mart", "column_name": "item_id",
            "test_metadata": {"name": "unique", "kwargs": {"column_name": "item_id"}}, "config": {},
        },
    },
    "unit_tests": {
        "unit_test.ecom.orders_mart.keeps_paid": {
            "unique_id": "unit_test.ecom.orders_mart.keeps_paid", "name": "keeps_paid",
            "resource_type": "unit_test", "model": "orders_mart", "config": {},
        },
    },
}


def outcome(unique_id: str, status: str, failures: int | None = None, message: str | None = None) -> dict:
    return {"unique_id": unique_id, "status": status, "failures": failures, "message": message}


RUN_RESULTS = {"results": [
    outcome("model.ecom.orders_mart", "success"),
    outcome("test.ecom.not_null_orders_mart_order_id.1", "pass", 0),
    outcome("test.ecom.accepted_range_orders_mart_amount.2", "warn", 3,
            "Got 3 results, configured to warn if != 0"),
    outcome("test.ecom.assert_items_add_up", "error", None, "Binder Error:\n  column   total does not exist"),
    outcome("test.ecom.unique_items_mart_item_id.3", "skipped"),
    outcome("unit_test.ecom.orders_mart.keeps_paid", "fail", None,
            "actual differs from expected:\n\n  | id |"),
]}
RECORDED = """
    select run_id, suite, table_name, expectation, column_name, severity, success, message, observed, as_of
    from audit.validation_results where gate = 'dbt' order by suite"""


def write_target(settings: Settings, run_results: dict) -> None:
    target = settings.warehouse_dir / "target"
    target.mkdir(exist_ok=True)
    (target / "run_results.json").write_text(json.dumps(run_results), encoding="utf-8")
    (target / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")


def recorded(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        return con.execute(RECORDED).fetchall()


def test_each_test_that_ran_is_one_check_with_its_outcome_as_severity(settings: Settings) -> None:
    write_target(settings, RUN_RESULTS)

    assert pipeline_tasks.record_dbt_results(settings, "run-1", AS_OF, settings.warehouse_dir / "target") == 4

    assert recorded(settings) == [
        ("run-1", "test.ecom.accepted_range_orders_mart_amount.2", "orders_mart", "accepted_range", "amount",
         "warning", False,
         "orders_mart, column amount: dbt test accepted_range(min_value=0) where amount is not null fails on "
         "3 row(s)", '{"status": "warn", "failures": 3}', AS_OF),
        ("run-1", "test.ecom.assert_items_add_up", "orders_mart, items_mart", "assert_items_add_up", None,
         "error", False,
         "orders_mart, items_mart: dbt test assert_items_add_up could not run: Binder Error: column total "
         "does not exist", '{"status": "error", "failures": null}', AS_OF),
        ("run-1", "test.ecom.not_null_orders_mart_order_id.1", "orders_mart", "not_null", "order_id", "error",
         True, "dbt test not_null holds", '{"status": "pass", "failures": 0}', AS_OF),
        ("run-1", "unit_test.ecom.orders_mart.keeps_paid", "orders_mart", "unit_test", None, "error", False,
         "orders_mart: dbt unit test keeps_paid fails: actual differs from expected: | id |",
         '{"status": "fail", "failures": null}', AS_OF),
    ]


def test_a_test_run_again_replaces_its_result_and_leaves_the_others(settings: Settings) -> None:
    write_target(settings, RUN_RESULTS)
    pipeline_tasks.record_dbt_results(settings, "run-1", AS_OF, settings.warehouse_dir / "target")
    pipeline_tasks.record_dbt_results(settings, "run-0", AS_OF, settings.warehouse_dir / "target")
    # the retried task: the unit test passes now
    write_target(settings, {"results": [outcome("unit_test.ecom.orders_mart.keeps_paid", "pass")]})

    assert pipeline_tasks.record_dbt_results(settings, "run-1", AS_OF, settings.warehouse_dir / "target") == 1

    rows = [(run_id, suite, success) for run_id, suite, *_, success, _, _, _ in recorded(settings)]
    assert sorted(rows) == sorted([
        *((run_id, suite, success) for run_id in ("run-0", "run-1") for suite, success in (
            ("test.ecom.accepted_range_orders_mart_amount.2", False),
            ("test.ecom.assert_items_add_up", False),
            ("test.ecom.not_null_orders_mart_order_id.1", True),
        )),
        ("run-0", "unit_test.ecom.orders_mart.keeps_paid", False),
        ("run-1", "unit_test.ecom.orders_mart.keeps_paid", True),
    ])


def test_an_invocation_without_run_results_records_nothing(settings: Settings) -> None:
    assert pipeline_tasks.record_dbt_results(settings, "run-1", AS_OF, settings.warehouse_dir / "target") == 0
    assert not settings.warehouse_db.exists()
