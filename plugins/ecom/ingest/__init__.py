"""The raw layer: landed files → raw_pending.<table> exactly once (rejects kept) → raw.<table>.

It owns every write to raw_pending, raw, raw_waiting, audit.rejects and audit.load_manifest: stage
(ingest), quarantine what the raw gate found (quarantine_rows), set aside the rows after the as-of date
and release them to the next gate (set_aside_waiting, release_waiting) and promote (promote_pending).
See docs/architecture.md, "Raw layer".
"""

from ecom.ingest.discovery import OutsideLandingError
from ecom.ingest.loader import UnreadableFileError
from ecom.ingest.manifest import ChangedFileError
from ecom.ingest.promotion import latest_order_date, promote_pending
from ecom.ingest.quarantine import quarantine_rows
from ecom.ingest.result import IngestResult, TableCounts, batch_warnings
from ecom.ingest.runner import ingest
from ecom.ingest.waiting import release_waiting, set_aside_waiting

__all__ = [
    "ChangedFileError",
    "IngestResult",
    "OutsideLandingError",
    "TableCounts",
    "UnreadableFileError",
    "batch_warnings",
    "ingest",
    "latest_order_date",
    "promote_pending",
    "quarantine_rows",
    "release_waiting",
    "set_aside_waiting",
]
