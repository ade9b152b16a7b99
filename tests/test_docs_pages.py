from pathlib import Path

import pytest

from ecom.docs_pages import GENERATED_PAGES, GENERATED_PROJECT_FILES, write_docs_pages
from ecom.mart_docs import render_marts_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED_PAGES))
def test_committed_page_is_generated_from_the_yaml(name):
    assert (DOCS / name).read_text(encoding="utf-8") == GENERATED_PAGES[name](), (
        f"docs/{name} is stale: run `ecom docs`"
    )


@pytest.mark.parametrize("path", sorted(GENERATED_PROJECT_FILES), ids=lambda path: path.name)
def test_committed_project_file_is_generated_from_the_contract(path):
    assert path.read_text(encoding="utf-8") == GENERATED_PROJECT_FILES[path](), (
        f"{path} is stale: run `ecom docs`"
    )


def test_write_docs_pages_writes_every_page(tmp_path):
    written = write_docs_pages(tmp_path)
    assert sorted(p.name for p in written) == sorted(GENERATED_PAGES)


def test_marts_page_has_every_contract_column_and_the_segment_rules():
    page = render_marts_markdown()
    for mart, columns in {
        "user_portrait": ["customer_id", "frequency", "recency_days", "tenure_days", "monetary_value",
                          "r_score", "rfm_segment", "lifecycle_stage"],
        "cohort_retention": ["cohort_grain", "cohort_dimension", "cohort_value", "cohort_start",
                             "period_index", "is_complete", "rolling_retention_rate",
                             "cumulative_revenue_per_customer"],
        "cohort_repeat_purchase": ["cohort_start", "repeat_rate_30d", "repeat_rate_60d", "repeat_rate_90d"],
        "retention_daily": ["signup_date", "day1_retention_rate", "day7_retention_rate",
                            "day30_retention_rate"],
        "growth_accounting": ["activity_month", "new_customers", "retained_customers", "won_back_customers",
                              "churned_customers"],
        "attribution_channel": ["grain", "model", "channel", "campaign_id", "conversions", "revenue", "spend",
                                "roas", "cpa"],
        "attribution_touchpoint": ["model", "order_id", "touchpoint_id", "channel", "credit"],
        "conversion_paths": ["path", "journeys", "conversions", "conversion_rate"],
    }.items():
        section = page.split(f"## `marts.{mart}`")[1].split("\n## ")[0]
        for column in columns:
            assert f"| `{column}` |" in section, (mart, column)
    assert "| Champions | 5–5 | 4–5 |" in page
