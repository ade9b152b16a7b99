"""Combine the GX results of one suite validated in parts into the result of validating it whole.

Parts are row-wise: each expectation judged some of the rows in each part, and every row in exactly one
part (rows no part held can be counted in with `with_rows_left_out`). The combined result of an
expectation holds when it held in every part; counts add up; listed offending rows are those of the
parts in order, the first ROWS_LISTED_AT_MOST of them, as GX lists them on the whole frame ordered the
same way. Expectations come in GX's order (grouped by column, as GX validates them).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from ecom.quality.validate import ROWS_LISTED_AT_MOST

LISTS = ("partial_unexpected_list", "partial_unexpected_index_list")
_NOT_IDENTIFYING = {"batch_id"}


def combine(
    suite: ExpectationSuite, parts: list[ExpectationSuiteValidationResult]
) -> ExpectationSuiteValidationResult:
    """One result of `suite` from the results of its parts (each may hold some of its expectations)."""
    by_expectation: dict[str, list[ExpectationValidationResult]] = {}
    for part in parts:
        for result in part.results:
            by_expectation.setdefault(_identity(result.expectation_config), []).append(result)
    results = [
        combine_expectation(by_expectation[key])
        for key in map(_identity, _gx_order(suite.expectation_configurations))
        if key in by_expectation
    ]
    successes = sum(result.success for result in results)
    return ExpectationSuiteValidationResult(
        results=results,
        success=successes == len(results),
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": successes,
            "unsuccessful_expectations": len(results) - successes,
            "success_percent": successes / len(results) * 100 if results else None,
        },
        meta=dict(parts[0].meta),
        batch_id=parts[0].batch_id,
    )


def combine_expectation(results: list[ExpectationValidationResult]) -> ExpectationValidationResult:
    """One expectation's results on the parts, as one result; an exception in any part is the result."""
    if len(results) == 1:
        return results[0]
    raised = [r for r in results if r.exception_info and r.exception_info.get("raised_exception")]
    if raised:
        return raised[0]
    first = results[0]
    return ExpectationValidationResult(
        success=all(r.success for r in results),
        expectation_config=first.expectation_config,
        result=_combined_details([r.result or {} for r in results]),
        exception_info=first.exception_info,
        meta=first.meta,
    )


def with_rows_left_out(
    result: ExpectationValidationResult, rows: int, missing: int
) -> ExpectationValidationResult:
    """`result` counting in `rows` more rows, none offending, of which `missing` it ignores (nulls)."""
    left_out = {"element_count": rows, "unexpected_count": 0, "missing_count": missing}
    return ExpectationValidationResult(
        success=result.success,
        expectation_config=result.expectation_config,
        result=_combined_details([result.result or {}, left_out]),
        exception_info=result.exception_info,
        meta=result.meta,
    )


def _combined_details(details: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts summed and percentages recomputed as GX computes them (expectation._format_map_output)."""
    combined = dict(details[0])
    elements = sum(d.get("element_count") or 0 for d in details)
    unexpected = sum(d.get("unexpected_count") or 0 for d in details)
    total_percent = unexpected / elements * 100 if elements else None
    combined |= {
        "element_count": elements,
        "unexpected_count": unexpected,
        "unexpected_percent": total_percent,
    }
    if "missing_count" in combined:
        missing = sum(d.get("missing_count") or 0 for d in details)
        present = elements - missing
        nonmissing_percent = unexpected / present * 100 if present else None
        combined |= {
            "missing_count": missing,
            "missing_percent": missing / elements * 100 if elements else None,
            "unexpected_percent_total": total_percent,
            "unexpected_percent_nonmissing": nonmissing_percent,
            "unexpected_percent": nonmissing_percent,
        }
    for name in LISTS:
        if name in combined:
            combined[name] = [item for d in details for item in d.get(name) or []][:ROWS_LISTED_AT_MOST]
    if "partial_unexpected_counts" in combined:
        combined["partial_unexpected_counts"] = _combined_counts(details)
    return combined


def _combined_counts(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The most common offending values over the parts (each part lists its own most common)."""
    counts: Counter = Counter()
    for d in details:
        for entry in d.get("partial_unexpected_counts") or []:
            if "value" not in entry:  # GX's note that the values are not hashable
                return [entry]
            counts[_hashable(entry["value"])] += entry["count"]
    common = counts.most_common(ROWS_LISTED_AT_MOST)
    try:
        common.sort(key=lambda item: (-item[1], item[0]))
    except TypeError:  # values of mixed types (e.g. None among text): by count alone
        common.sort(key=lambda item: -item[1])
    return [{"value": value, "count": count} for value, count in common]


def _hashable(value: Any) -> Any:
    """NaN (each one unequal to any other) as None, so the parts' missing values count as one value."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return tuple(value) if isinstance(value, list) else value


def _identity(config: ExpectationConfiguration) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in _NOT_IDENTIFYING}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


def _gx_order(configs: list[ExpectationConfiguration]) -> list[ExpectationConfiguration]:
    """The order GX validates a suite in: grouped by column (in order of first appearance), those
    without one column as one group (Validator.process_expectations_for_validation)."""
    groups: dict[str | None, list[ExpectationConfiguration]] = {}
    for config in configs:
        column = config.kwargs.get("column")
        groups.setdefault(column if isinstance(column, str) else None, []).append(config)
    return [config for group in groups.values() for config in group]
