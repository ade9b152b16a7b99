"""Load the committed expectation suites (expectations/**.json, GX ExpectationSuite JSON).

Severity: GX 1.24 expectations have a native `severity` field (critical | warning | info) and the
suites use it. The spelling of docs/architecture.md, `meta.severity` (error | warning), is accepted
too and translated; every expectation must state its severity one way or the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.metadata_types import FailureSeverity

from ecom.config import EXPECTATIONS_DIR
from ecom.quality.results import ERROR, INFO, WARNING

GX_SEVERITY_BY_META: dict[str, FailureSeverity] = {
    ERROR: FailureSeverity.CRITICAL,
    WARNING: FailureSeverity.WARNING,
}
GATE_SEVERITY_BY_GX: dict[FailureSeverity, str] = {
    FailureSeverity.CRITICAL: ERROR,
    FailureSeverity.WARNING: WARNING,
    FailureSeverity.INFO: INFO,
}


class SuiteError(ValueError):
    """A suite file that cannot be used as it is; the message names the file and the expectation."""


def suite_path(layer: str, name: str, root: Path = EXPECTATIONS_DIR) -> Path:
    return root / layer / f"{name}.json"


def load_suite(path: Path) -> ExpectationSuite:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"expectation suite {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"expectation suite {path} is not valid JSON: {exc}") from None
    for position, expectation in enumerate(document.get("expectations", []), start=1):
        expectation["severity"] = _gx_severity(expectation, f"{path}, expectation #{position}")
    return ExpectationSuite(**document)


def gate_severity(severity: FailureSeverity | str) -> str:
    return GATE_SEVERITY_BY_GX[FailureSeverity(severity)]


def _gx_severity(expectation: dict[str, Any], where: str) -> str:
    label = f"{where} ({expectation.get('type')})"
    native = expectation.get("severity")
    in_meta = (expectation.get("meta") or {}).get("severity")
    if native is None and in_meta is None:
        raise SuiteError(f'{label} has no severity: set "severity" to critical, warning or info')
    if native is not None and native not in {s.value for s in FailureSeverity}:
        raise SuiteError(f"{label}: severity {native!r} is not one of critical, warning, info")
    if in_meta is None:
        return native
    if in_meta not in GX_SEVERITY_BY_META:
        raise SuiteError(f"{label}: meta.severity {in_meta!r} is not one of error, warning")
    translated = GX_SEVERITY_BY_META[in_meta].value
    if native is not None and native != translated:
        raise SuiteError(f"{label}: severity {native!r} contradicts meta.severity {in_meta!r}")
    return translated
