"""Great Expectations quality gates: raw (before promotion) and marts (before publish).

Importing this package imports Great Expectations (seconds): DAG files import it inside tasks.
"""

from ecom.quality.mart_gate import run_mart_gate
from ecom.quality.raw_gate import run_raw_gate
from ecom.quality.results import CheckResult, GateResult

__all__ = ["CheckResult", "GateResult", "run_mart_gate", "run_raw_gate"]
