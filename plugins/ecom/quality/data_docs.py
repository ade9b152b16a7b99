"""Build Great Expectations Data Docs for one gate run under settings.data_docs_dir."""

from __future__ import annotations

from pathlib import Path

from ecom.quality.validate import DATA_DOCS_SITE, GateValidator

OFFLINE_NOTE = """Great Expectations Data Docs of the quality gates (raw and mart).

Open index.html. The pages load their styles and scripts (Bootstrap, jQuery, Vega) from public
CDNs, so without internet access they render unstyled, but every validation result is there.
The same results are in the warehouse table audit.validation_results.
"""


def build_data_docs(validator: GateValidator, data_docs_dir: Path) -> Path:
    """Render this run's validation results (each page shows every expectation of its suite with
    the outcome) and refresh the index; returns index.html. Earlier runs' pages are kept, not rebuilt."""
    validator.context.build_data_docs(
        site_names=[DATA_DOCS_SITE], resource_identifiers=validator.stored_result_ids()
    )
    (data_docs_dir / "README.txt").write_text(OFFLINE_NOTE, encoding="utf-8")
    return data_docs_dir / "index.html"
