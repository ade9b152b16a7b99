"""Failure alerts: a short summary of a failed task (what failed, where to look) for the log and a webhook.

`on_task_failure` is the DAG's `on_failure_callback` (called once a task has failed for good, retries
spent). It logs the summary and, when ECOM_ALERT_WEBHOOK_URL is set, POSTs it as JSON
(`{"text": ..., "dag_id": ..., ...}`, the shape Slack-style incoming webhooks accept). A webhook that
cannot be reached is logged, never raised: the alert must not hide the failure it reports.
Neither the log nor the alert carries a secret or a personal value: the webhook URL is logged as its
host only (its path or query holds the token), and the error text is shown through
`ecom.redaction.safe_text` (URLs cut to their host, phone numbers and e-mail addresses masked).
No Airflow import: the callback only reads the context it is given.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ecom.config import Settings
from ecom.redaction import redact_urls, safe_text

WEBHOOK_ENV = "ECOM_ALERT_WEBHOOK_URL"
ERROR_LINES_SHOWN = 12
WEBHOOK_TIMEOUT_SECONDS = 10

log = logging.getLogger("ecom.alerts")


@dataclass(frozen=True)
class FailureAlert:
    dag_id: str
    run_id: str
    task_id: str
    error: str
    report: str
    data_docs: str
    task_log: str | None

    def text(self) -> str:
        lines = [f"ecom pipeline: task {self.task_id} of {self.dag_id} failed (run {self.run_id})"]
        lines += [f"  {line}" for line in self.error.splitlines()]
        lines += [
            "where to look:",
            f"  run report: {self.report}",
            f"  Data Docs: {self.data_docs}",
            "  quarantined rows: audit.rejects in the working warehouse (file, line, column, reason)",
        ]
        if self.task_log:
            lines.append(f"  task log: {self.task_log}")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text(), **asdict(self)}


def failure_alert(context: Mapping[str, Any], settings: Settings) -> FailureAlert:
    """The alert for a failed task's Airflow context (`ti`, `dag_run`/`run_id`, `exception`)."""
    ti = context.get("ti") or context.get("task_instance")
    run_id = str(context.get("run_id") or getattr(ti, "run_id", "unknown run"))
    exception = context.get("exception")
    message = safe_text(str(exception)) if exception else "no error message"
    error_lines = message.splitlines() or ["(empty message)"]
    if len(error_lines) > ERROR_LINES_SHOWN:
        hidden = len(error_lines) - ERROR_LINES_SHOWN
        error_lines = [*error_lines[:ERROR_LINES_SHOWN], f"... and {hidden} more line(s)"]
    return FailureAlert(
        dag_id=str(getattr(ti, "dag_id", "unknown dag")),
        run_id=run_id,
        task_id=str(getattr(ti, "task_id", "unknown task")),
        error="\n".join(error_lines),
        report=str(settings.run_report(run_id)),
        data_docs=str(settings.data_docs_dir / "index.html"),
        task_log=getattr(ti, "log_url", None),
    )


def send_alert(alert: FailureAlert, webhook_url: str | None) -> bool:
    """Log the alert; POST it to `webhook_url` when given. True when a webhook accepted it."""
    log.error("%s", alert.text())
    if not webhook_url:
        return False
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(alert.payload()).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            accepted = 200 <= response.status < 300
    except (OSError, ValueError) as error:  # an HTTP error status is an OSError too
        log.warning("alert webhook %s could not be reached: %s", redact_urls(webhook_url),
                    safe_text(str(error)))
        return False
    if not accepted:
        log.warning("alert webhook %s answered HTTP %s", redact_urls(webhook_url), response.status)
    return accepted


def on_task_failure(context: Mapping[str, Any]) -> None:
    """The DAG's on_failure_callback."""
    send_alert(failure_alert(context, Settings.from_env()), os.environ.get(WEBHOOK_ENV, "").strip() or None)
