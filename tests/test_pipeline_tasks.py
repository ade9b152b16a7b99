"""The DAG's task callables, with fake pipeline components in place of ingest, gates, publish and report."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ecom import pipeline_tasks
from ecom.config import Settings
from ecom.pipeline_tasks import NoRetryError, QualityGateFailedError

LOGICAL_DATE = date(2024, 6, 1)


@dataclass
class FakeResult:
    text: str
    passed: bool = True

    def describe(self) -> str:
        return self.text


def install_module(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: object) -> None:
    monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attributes))


def never_called() -> date:
    raise AssertionError("latest_order_date must not be consulted")


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("", LOGICAL_DATE),
        (None, LOGICAL_DATE),
        ("   ", LOGICAL_DATE),
        ("2024-02-29", date(2024, 2, 29)),
        (" 2023-12-31 ", date(2023, 12, 31)),
    ],
)
def test_resolve_as_of_date_or_logical_date(requested: str | None, expected: date) -> None:
    assert pipeline_tasks.resolve_as_of(requested, LOGICAL_DATE, never_called) == expected


@pytest.mark.parametrize("requested", ["latest", "LATEST", " Latest "])
def test_resolve_as_of_latest_uses_last_order_date(requested: str) -> None:
    resolved = pipeline_tasks.resolve_as_of(requested, LOGICAL_DATE, lambda: date(2024, 5, 17))
    assert resolved == date(2024, 5, 17)


def test_resolve_as_of_latest_without_orders_is_a_clear_error() -> None:
    with pytest.raises(NoRetryError, match="no order has been loaded"):
        pipeline_tasks.resolve_as_of("latest", LOGICAL_DATE, lambda: None)


@pytest.mark.parametrize("requested", ["yesterday", "2024-02-30", "2024/05/01"])
def test_resolve_as_of_rejects_other_text(requested: str) -> None:
    with pytest.raises(NoRetryError, match=f"got '{requested}'"):
        pipeline_tasks.resolve_as_of(requested, LOGICAL_DATE, never_called)


def test_ingest_then_latest_as_of(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls: list[tuple] = []

    def ingest(got_settings: Settings, batch_id: str) -> FakeResult:
        calls.append(("ingest", got_settings, batch_id))
        return FakeResult("3 files, 120 rows loaded, 2 rejected")

    def latest_order_date(got_settings: Settings) -> date:
        calls.append(("latest_order_date", got_settings))
        return date(2024, 5, 31)

    install_module(monkeypatch, "ecom.ingest", ingest=ingest, latest_order_date=latest_order_date,
                   **refusals())

    as_of, summary = pipeline_tasks.ingest_and_resolve_as_of(settings, "run-7", "latest", LOGICAL_DATE)

    assert (as_of, summary) == (date(2024, 5, 31), "3 files, 120 rows loaded, 2 rejected")
    # 'latest' is resolved after ingest, so it sees the files this run loaded.
    assert calls == [("ingest", settings, "run-7"), ("latest_order_date", settings)]


def refusals() -> dict[str, type[Exception]]:
    """Stand-ins for the errors ingest refuses a landing with (a changed, outside or unreadable file)."""
    return {name: type(name, (Exception,), {})
            for name in ("ChangedFileError", "OutsideLandingError", "UnreadableFileError")}


@pytest.mark.parametrize("refusal", ["ChangedFileError", "OutsideLandingError", "UnreadableFileError"])
def test_a_refused_landing_fails_without_retry(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                               refusal: str) -> None:
    errors = refusals()

    def ingest(got_settings: Settings, batch_id: str) -> FakeResult:
        raise errors[refusal]("orders/2024-05.csv changed after it was accepted")

    install_module(monkeypatch, "ecom.ingest", ingest=ingest, latest_order_date=never_called, **errors)

    with pytest.raises(NoRetryError, match=r"orders/2024-05\.csv changed after it was accepted"):
        pipeline_tasks.ingest_and_resolve_as_of(settings, "run-7", "", LOGICAL_DATE)


GATES = [
    (pipeline_tasks.raw_quality_gate, "ecom.quality.raw_gate", "run_raw_gate", "raw quality gate"),
    (pipeline_tasks.mart_quality_gate, "ecom.quality.mart_gate", "run_mart_gate", "mart quality gate"),
]


@pytest.mark.parametrize(("task", "module", "function", "gate_name"), GATES)
def test_gate_passes_and_returns_its_description(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                                 task, module: str, function: str, gate_name: str) -> None:
    calls = []

    def gate(got_settings: Settings, run_id: str, as_of: date) -> FakeResult:
        calls.append((got_settings, run_id, as_of))
        return FakeResult("42 expectations, 0 failed", passed=True)

    install_module(monkeypatch, module, **{function: gate})

    assert task(settings, "run-7", date(2024, 5, 31)) == "42 expectations, 0 failed"
    assert calls == [(settings, "run-7", date(2024, 5, 31))]


@pytest.mark.parametrize(("task", "module", "function", "gate_name"), GATES)
def test_failed_gate_raises_with_its_description(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                                 task, module: str, function: str, gate_name: str) -> None:
    description = "orders: amount >= 0 failed for 3 rows (file orders/a.csv lines 4, 9, 12) [error]"
    install_module(monkeypatch, module,
                   **{function: lambda *_: FakeResult(description, passed=False)})

    with pytest.raises(QualityGateFailedError) as failure:
        task(settings, "run-7", date(2024, 5, 31))

    assert str(failure.value) == f"{gate_name} failed:\n{description}"
    assert isinstance(failure.value, NoRetryError)


def test_publish_and_report(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls = []
    report = settings.reports_dir / "run_report.html"

    def publish(got_settings: Settings, run_id: str, as_of: date) -> FakeResult:
        calls.append(("publish", run_id, as_of))
        return FakeResult("published 3 marts")

    def build_report(got_settings: Settings, run_id: str) -> Path:
        calls.append(("report", run_id))
        return report

    def record_published(got_settings: Settings, run_id: str, as_of: date) -> None:
        calls.append(("record inputs", run_id, as_of))

    install_module(monkeypatch, "ecom.publish", publish=publish)
    install_module(monkeypatch, "ecom.run_inputs", record_published=record_published)
    install_module(monkeypatch, "ecom.report", build_report=build_report)

    assert pipeline_tasks.publish_marts(settings, "run-7", date(2024, 5, 31)) == "published 3 marts"
    assert pipeline_tasks.write_report(settings, "run-7") == report
    assert calls == [("publish", "run-7", date(2024, 5, 31)), ("record inputs", "run-7", date(2024, 5, 31)),
                     ("report", "run-7")]


def test_nothing_new_unless_a_full_refresh_is_asked_for(monkeypatch: pytest.MonkeyPatch,
                                                        settings: Settings) -> None:
    reason = "nothing new since run-6"
    install_module(monkeypatch, "ecom.run_inputs", unchanged_since_publish=lambda *_: reason)

    assert pipeline_tasks.nothing_new(settings, date(2024, 5, 31), full_refresh=False) == reason
    assert pipeline_tasks.nothing_new(settings, date(2024, 5, 31), full_refresh=True) is None


@pytest.mark.parametrize(("task", "module", "function", "gate_name"), GATES)
def test_a_gate_description_quoting_a_personal_value_is_masked(
        monkeypatch: pytest.MonkeyPatch, settings: Settings, task, module: str, function: str,
        gate_name: str) -> None:
    description = "customers: file c.csv, column city: fails on 1 row(s): line 2 ('13977770003')"
    install_module(monkeypatch, module, **{function: lambda *_: FakeResult(description, passed=False)})

    with pytest.raises(QualityGateFailedError) as failure:
        task(settings, "run-7", date(2024, 5, 31))

    assert str(failure.value) == (f"{gate_name} failed:\n"
                                  "customers: file c.csv, column city: fails on 1 row(s): line 2 ('••••')")
