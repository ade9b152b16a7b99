"""Failure alerts: the summary names what failed and where to look; the webhook gets it as JSON."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from ecom.alerts import WEBHOOK_ENV, failure_alert, on_task_failure, send_alert
from ecom.config import Settings

GATE_ERROR = (
    "raw quality gate failed:\nraw gate FAILED (run r1): 1 errors\n  ERROR orders: file x.csv has no rows"
)


def context(exception: BaseException) -> dict:
    ti = SimpleNamespace(
        dag_id="ecommerce_marts",
        task_id="raw_quality_gate",
        run_id="manual__r1",
        log_url="http://localhost:8080/log?x=1",
    )
    return {"ti": ti, "run_id": "manual__r1", "exception": exception}


@contextmanager
def serving(status: int, received: list[dict]) -> Iterator[int]:
    """A local HTTP server answering every POST with `status` and recording its JSON body; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local webhook recording the JSON bodies POSTed to it."""
    received: list[dict] = []
    with serving(200, received) as port:
        yield f"http://127.0.0.1:{port}/hook", received


def test_the_summary_says_what_failed_and_where_to_look(settings: Settings) -> None:
    alert = failure_alert(context(RuntimeError(GATE_ERROR)), settings)

    text = alert.text()
    assert (
        text.splitlines()[0]
        == "ecom pipeline: task raw_quality_gate of ecommerce_marts failed (run manual__r1)"
    )
    assert "    ERROR orders: file x.csv has no rows" in text.splitlines()  # indented under the title
    assert f"  run report: {settings.warehouse_dir / 'reports' / 'runs' / 'manual__r1.html'}" in text
    assert f"  Data Docs: {settings.warehouse_dir / 'reports' / 'data_docs' / 'index.html'}" in text
    assert "  task log: http://localhost:8080/log?x=1" in text


def test_a_long_error_is_cut_to_a_short_summary(settings: Settings) -> None:
    error = "\n".join(f"line {n}" for n in range(1, 31))
    alert = failure_alert(context(RuntimeError(error)), settings)
    assert alert.error.splitlines()[-1] == "... and 18 more line(s)"
    assert len(alert.error.splitlines()) == 13


def test_the_alert_is_logged_and_posted_to_the_webhook(settings: Settings, webhook, caplog) -> None:
    url, received = webhook
    alert = failure_alert(context(RuntimeError(GATE_ERROR)), settings)

    with caplog.at_level(logging.ERROR, logger="ecom.alerts"):
        assert send_alert(alert, url) is True

    assert alert.text() in caplog.text
    [body] = received
    assert body["text"] == alert.text()
    assert (body["task_id"], body["run_id"], body["dag_id"]) == (
        "raw_quality_gate",
        "manual__r1",
        "ecommerce_marts",
    )


def test_an_unreachable_webhook_is_logged_not_raised(settings: Settings, caplog) -> None:
    alert = failure_alert(context(RuntimeError("boom")), settings)
    with caplog.at_level(logging.WARNING, logger="ecom.alerts"):
        assert send_alert(alert, "http://127.0.0.1:9/nothing-listens") is False
    assert "could not be reached" in caplog.text


def test_the_callback_posts_only_when_configured(tmp_path: Path, webhook, monkeypatch, caplog) -> None:
    url, received = webhook
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with caplog.at_level(logging.ERROR, logger="ecom.alerts"):
        on_task_failure(context(RuntimeError("first")))
    assert received == [] and "first" in caplog.text

    monkeypatch.setenv(WEBHOOK_ENV, url)
    on_task_failure(context(RuntimeError("second")))
    [body] = received
    assert "second" in body["text"] and str(tmp_path / "warehouse") in body["report"]


@pytest.fixture
def failing_webhook() -> Iterator[str]:
    """A local webhook that answers every POST with HTTP 500; its URL carries a token, as real ones do."""
    with serving(500, []) as port:
        yield f"http://127.0.0.1:{port}/services/T0/B0/tok3n-XYZ?key=k3y"


def test_a_webhook_that_fails_is_logged_without_its_token(settings: Settings, failing_webhook: str,
                                                          caplog) -> None:
    alert = failure_alert(context(RuntimeError("boom")), settings)
    with caplog.at_level(logging.WARNING, logger="ecom.alerts"):
        assert send_alert(alert, failing_webhook) is False

    port = failing_webhook.split("127.0.0.1:")[1].split("/")[0]
    assert f"alert webhook http://127.0.0.1:{port}/•••• could not be reached: HTTP Error 500" in caplog.text
    for secret in ("tok3n-XYZ", "k3y", "services"):
        assert secret not in caplog.text


def test_secrets_and_personal_values_in_the_error_stay_out_of_the_alert(settings: Settings) -> None:
    error = RuntimeError("POST https://hooks.example.com/services/T0/B0/tok3n failed for customer "
                         "13977770003 (li.lei@example.com)")
    alert = failure_alert(context(error), settings)

    assert alert.error == "POST https://hooks.example.com/•••• failed for customer •••• (••••)"
