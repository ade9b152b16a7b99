"""The watcher group's `dbt build` task, telling the model tasks how each node ended and no more.

cosmos' producer (`DbtProducerWatcherOperator`) turns dbt's events into XComs the model tasks read.
Each XCom is a round trip to Airflow's API and its database: under `ecom run` they were most of the
build's time (measured). Besides each node's result it pushes every "began running / compiling /
executing" step of every node, and a copy of each test's last event, which no task reads (a test
task reads its model's aggregated test result). `DbtBuildProducer` leaves both out; every result and
every error still goes through cosmos' own parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


def use_build_producer(tasks: list[Any]) -> None:
    """Make the cosmos producer among `tasks` a DbtBuildProducer (cosmos instantiates its own class)."""
    for task in tasks:
        if type(task) is DbtProducerWatcherOperator:
            task.__class__ = DbtBuildProducer
