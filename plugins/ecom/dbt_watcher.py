"""The watcher group's `dbt build` task, telling the model tasks how each node ended and no more.

cosmos' producer (`DbtProducerWatcherOperator`) turns dbt's events into XComs the model tasks read:
every node's result, and also each "began running / compiling / executing" step of every node and
test. Each XCom is a round trip to Airflow's API and its database (about a quarter of the build's
time at our size, measured), yet the model tasks read only how their node ended. `DbtBuildProducer`
leaves those progress steps out; every event that ends a node or reports an error still goes through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cosmos.operators.watcher import DbtProducerWatcherOperator

# dbt events of a node that has not ended yet (dbt's structured logging names).
PROGRESS_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})


def event_name(line: str) -> str | None:
    """The dbt event name of a JSON log line; None for a line that is not a dbt JSON event."""
    try:
        return json.loads(line).get("info", {}).get("name")
    except (json.JSONDecodeError, AttributeError):
        return None


def without_progress_events(parse: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """`parse` for every dbt log line but a node's progress steps."""

    def parse_unless_progress(line: str, extra_kwargs: Any) -> None:
        if event_name(line) not in PROGRESS_EVENTS:
            parse(line, extra_kwargs)

    return parse_unless_progress


class DbtBuildProducer(DbtProducerWatcherOperator):
    def _make_parse_callable(self) -> Callable[[str, Any], None]:
        return without_progress_events(super()._make_parse_callable())


def use_build_producer(tasks: list[Any]) -> None:
    """Make the cosmos producer among `tasks` a DbtBuildProducer (cosmos instantiates its own class)."""
    for task in tasks:
        if type(task) is DbtProducerWatcherOperator:
            task.__class__ = DbtBuildProducer
