"""The dbt build task passes every dbt log line to cosmos but a node's progress steps."""

from __future__ import annotations

import json

from ecom.dbt_watcher import event_name, without_progress_events


def line(name: str) -> str:
    return json.dumps({"info": {"name": name, "msg": "m"}, "data": {}})


def test_progress_steps_are_left_out_and_everything_else_goes_through() -> None:
    parsed = []
    parse = without_progress_events(lambda text, extra: parsed.append((event_name(text) or text, extra)))

    for text in [line("NodeStart"), line("NodeCompiling"), line("NodeExecuting"), line("NodeFinished"),
                 line("RunResultError"), line("MainReportVersion"), "Going to open: a plain line"]:
        parse(text, {"context": 1})

    assert parsed == [("NodeFinished", {"context": 1}), ("RunResultError", {"context": 1}),
                      ("MainReportVersion", {"context": 1}), ("Going to open: a plain line", {"context": 1})]


def test_event_name() -> None:
    assert event_name(line("NodeFinished")) == "NodeFinished"
    assert event_name("not json") is None
    assert event_name("[1, 2]") is None
