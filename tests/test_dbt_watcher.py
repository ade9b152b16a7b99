"""The dbt build task passes dbt's log lines to cosmos' parser but a node's progress steps, and keeps a
test's own last event out of XCom."""

from __future__ import annotations

import json
from types import SimpleNamespace

from ecom.dbt_watcher import dbt_event, results_only


def line(name: str, unique_id: str | None = None) -> str:
    info = {"unique_id": unique_id, "resource_type": unique_id.split(".")[0]} if unique_id else None
    node = {"node_info": info} if info else {}
    return json.dumps({"info": {"name": name, "msg": "m"}, "data": node})


def test_progress_steps_are_left_out_and_everything_else_goes_through() -> None:
    parsed = []
    parse = results_only(lambda text, extra: parsed.append(dbt_event(text).get("info", {}).get("name", text)))

    for text in [line("NodeStart", "model.p.a"), line("NodeCompiling", "model.p.a"),
                 line("NodeExecuting", "test.p.t"), line("NodeFinished", "model.p.a"), line("RunResultError"),
                 line("MainReportVersion"), "Going to open: a plain line"]:
        parse(text, {"context": None})

    assert parsed == ["NodeFinished", "RunResultError", "MainReportVersion", "Going to open: a plain line"]


def test_a_tests_own_event_is_not_pushed_but_what_it_pushes_for_its_model_is() -> None:
    pushed = []
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.append(key), try_number=1)

    def parse(text: str, extra: dict) -> None:
        task_instance = extra["context"]["ti"]
        assert task_instance.try_number == 1  # everything else is the task instance's own
        task_instance.xcom_push(key="test__p__t_dbt_event", value={})
        task_instance.xcom_push(key="model__p__a_tests_status", value="pass")

    results_only(parse)(line("NodeFinished", "test.p.t"), {"context": {"ti": ti}})
    results_only(parse)(line("NodeFinished", "model.p.a"), {"context": {"ti": ti}})

    assert pushed == ["model__p__a_tests_status", "test__p__t_dbt_event", "model__p__a_tests_status"]


def test_dbt_event() -> None:
    assert dbt_event(line("NodeFinished"))["info"]["name"] == "NodeFinished"
    assert dbt_event("not json") == {}
    assert dbt_event("[1, 2]") == {}


def test_a_test_of_a_model_and_of_one_built_on_it_reports_with_the_later() -> None:
    from ecom.dbt_watcher import tests_on_last_parents

    # a ← b ← c and b ← d: c and d are both built on b (on a through it), neither on the other.
    depends_on = {"b": ["a"], "c": ["b"], "d": ["b"]}
    tests_per_model = {"a": ["own_a", "a_to_c"], "b": ["b_to_d"], "c": ["a_to_c", "c_and_d"],
                       "d": ["c_and_d", "b_to_d"]}

    assert tests_on_last_parents(tests_per_model, depends_on) == {
        "a": ["own_a"],  # its relationship with c runs once c is built: c's test task reports it
        "c": ["a_to_c", "c_and_d"],
        "b": ["b_to_d"],  # only a test with d: kept, or b's test task would wait for nothing
        "d": ["c_and_d", "b_to_d"],
    }
