"""The watcher group's `dbt build` task, telling the model tasks how each node ended and no more.

cosmos' producer (`DbtProducerWatcherOperator`) turns dbt's events into XComs the model tasks read.
Each XCom is a round trip to Airflow's API and its database: under `ecom run` they were most of the
build's time (measured). Besides each node's result it pushes every "began running / compiling /
executing" step of every node, and a copy of each test's last event, which no task reads (a test
task reads its model's aggregated test result). `DbtBuildProducer` leaves both out; every result and
every error still goes through cosmos' own parser.

A test task reports the tests cosmos lists under its model. A test of two models, one built on the
other (a relationship), is listed under both, so a failure of the later model (the test then does not
run) would fail the earlier model's test task too. `tests_on_last_parents` lists it under the later
one only, where dbt runs it, as the project's earlier one-task-per-model builds did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from cosmos.operators._watcher.state import get_dbt_event_xcom_key
from cosmos.operators.watcher import DbtProducerWatcherOperator

# dbt events of a node that has not ended yet (dbt's structured logging names).
PROGRESS_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})

Parse = Callable[[str, Any], None]


def dbt_event(line: str) -> dict:
    """A dbt JSON log line as a dict; {} for a line that is not a dbt JSON event."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return event if isinstance(event, dict) else {}


class _WithoutEventXCom:
    """A task instance that does not push `node_id`'s last-event XCom (nobody reads a test's)."""

    def __init__(self, task_instance: Any, node_id: str) -> None:
        self._task_instance = task_instance
        self._event_key = get_dbt_event_xcom_key(node_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task_instance, name)

    def xcom_push(self, key: str, value: Any) -> None:
        if key != self._event_key:
            self._task_instance.xcom_push(key=key, value=value)


def results_only(parse: Parse) -> Parse:
    """`parse` for every dbt log line but a node's progress steps; a test's own event is not pushed."""

    def parse_results(line: str, extra_kwargs: Any) -> None:
        event = dbt_event(line)
        if event.get("info", {}).get("name") in PROGRESS_EVENTS:
            return
        node = event.get("data", {}).get("node_info") or {}
        context = (extra_kwargs or {}).get("context")
        if node.get("resource_type") == "test" and context is not None:
            ti = _WithoutEventXCom(context["ti"], node["unique_id"])
            extra_kwargs = {**extra_kwargs, "context": {**context, "ti": ti, "task_instance": ti}}
        parse(line, extra_kwargs)

    return parse_results


class DbtBuildProducer(DbtProducerWatcherOperator):
    def _make_parse_callable(self) -> Parse:
        return results_only(super()._make_parse_callable())


def tests_on_last_parents(tests_per_model: Mapping[str, list[str]],
                          depends_on: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """`tests_per_model` with each test kept only under its models that none of its other models is built
    on (`depends_on`: node → the nodes it is built from). A model left with none keeps its list: cosmos
    gave it a test task, which must have results to wait for."""

    @cache
    def ancestors(node: str) -> frozenset[str]:
        parents = frozenset(depends_on.get(node, ()))
        return parents.union(*(ancestors(parent) for parent in parents))

    models_of: dict[str, set[str]] = {}
    for model, tests in tests_per_model.items():
        for test in tests:
            models_of.setdefault(test, set()).add(model)
    return {model: [test for test in tests if not any(model in ancestors(other) for other in models_of[test])]
            or tests for model, tests in tests_per_model.items()}


def use_build_producer(group: Any) -> None:
    """Make the producer of cosmos task group `group` a DbtBuildProducer (cosmos instantiates its own
    class) and list each test under its last models only."""
    depends_on = {uid: node.depends_on for uid, node in group.dbt_graph.nodes.items()}
    for task in group.children.values():
        if type(task) is DbtProducerWatcherOperator:
            task.__class__ = DbtBuildProducer
            task.tests_per_model = tests_on_last_parents(task.tests_per_model, depends_on)
