"""What a generator run wrote, for the CLI to print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class GenerateSummary:
    out: Path
    fmt: str
    seed: int
    customers: int
    first_day: date
    last_day: date
    files: dict[str, int]  # table -> files written
    rows: dict[str, int]  # table -> rows written
    seconds: float

    def describe(self) -> str:
        width = max(len(t) for t in self.rows)
        lines = [
            f"Generated a demo shop in {self.out} ({self.fmt}, seed {self.seed}, {self.customers} customers, "
            f"{self.first_day} to {self.last_day}) in {self.seconds:.1f} s:",
            f"  {'table':<{width}}  {'files':>6}  {'rows':>10}",
        ]
        lines += [f"  {t:<{width}}  {self.files.get(t, 0):>6}  {n:>10}" for t, n in self.rows.items()]
        return "\n".join(lines)
