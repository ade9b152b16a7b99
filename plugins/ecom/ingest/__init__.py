"""Raw layer ingestion: landed files → raw_pending.<table> exactly once (rejects kept) → raw.<table>.

See docs/architecture.md, "Raw layer".
"""

from ecom.ingest.loader import UnreadableFileError
from ecom.ingest.manifest import ChangedFileError
from ecom.ingest.promotion import latest_order_date, promote_pending
from ecom.ingest.result import IngestResult, TableCounts
from ecom.ingest.runner import ingest

__all__ = [
    "ChangedFileError",
    "IngestResult",
    "TableCounts",
    "UnreadableFileError",
    "ingest",
    "latest_order_date",
    "promote_pending",
]
