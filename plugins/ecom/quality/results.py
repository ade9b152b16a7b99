"""What a quality gate reports: one CheckResult per check (per file when a check fails in a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class CheckResult:
    """One expectation's verdict on one table (and, for a failure located in a file, on that file)."""

    suite: str
    table: str
    check: str
    column: str | None
    severity: str
    success: bool
    message: str
    observed: str | None = None
    file: str | None = None

    def describe(self) -> str:
        """One line; failure messages start with the table and name the file and column when known."""
        return f"{self.severity.upper():<7} {self.message}"


@dataclass
class GateResult:
    gate: str
    run_id: str
    as_of: date
    checks: list[CheckResult]
    data_docs_index: Path | None = None
    promoted: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success and c.severity == ERROR]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success and c.severity != ERROR]

    @property
    def passed(self) -> bool:
        """True when no check of severity `error` failed."""
        return not self.errors

    def describe(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"{self.gate} gate {verdict} (run {self.run_id}, as of {self.as_of}): {len(self.checks)} checks, "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings"
        ]
        lines += [f"  {check.describe()}" for check in self.errors + self.warnings]
        lines += [f"  note: {note}" for note in self.notes]
        if self.promoted is not None:
            promoted = ", ".join(f"{table}={rows}" for table, rows in sorted(self.promoted.items()))
            lines.append(f"  promoted rows: {promoted or 'none'}")
        if self.data_docs_index is not None:
            lines.append(f"  Data Docs: {self.data_docs_index}")
        return "\n".join(lines)
