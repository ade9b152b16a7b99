"""Raw layer ingestion: landed files → raw_pending.<table> exactly once (rejects kept) → raw.<table>.

See docs/architecture.md, "Raw layer".
"""

from ecom.ingest.discovery import OutsideLandingError
from ecom.ingest.loader import UnreadableFileError
from ecom.ingest.manifest import ChangedFileError
from ecom.ingest.promotion import latest_order_date, promote_pending
from ecom.ingest.result import IngestResult, TableCounts, batch_warnings
from ecom.ingest.runner import ingest

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
]
