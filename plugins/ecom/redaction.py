"""What may be shown of a value or a message: personal data masked, secrets in URLs hidden.

Personal data is recognised by its column (a contract column marked `personal`) and by its content
(`PERSONAL_PATTERNS`: e-mail addresses, phone numbers, identity card numbers), so a phone number
that lands in another column of a shifted export is masked too. Each pattern is written once and
rendered for Python's `re` (where values are shown: the report, logs, alerts) and for DuckDB's RE2
(where they are stored: audit.rejects.raw_value), which has no lookaround.
A secret is anything in a URL after its host (credentials, path tokens, query): webhook URLs carry
their token there.
"""

from __future__ import annotations

import re

from ecom.contract import load_contract
from ecom.sql import literal

MASKED = "•••• (masked: personal data)"
_MASK = "••••"

# name -> (pattern, whether it must not touch a digit or a Latin letter on either side: not part of a
# longer number or of an identifier such as O13977770003)
PERSONAL_PATTERNS: dict[str, tuple[str, bool]] = {
    "e-mail address": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", False),
    "mobile phone number": (r"1[3-9][0-9]{9}", True),
    "phone number with separators": (r"[0-9]{3,4}[ .-][0-9]{3,4}[ .-][0-9]{4}", True),
    "international phone number": (r"\+[0-9]{1,3}[ -]?[0-9][0-9 -]{6,}[0-9]", True),
    "identity card number": (r"[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
                             r"[0-9]{3}[0-9Xx]", True),
}


def _python_pattern() -> re.Pattern[str]:
    parts = [f"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])" if alone else pattern
             for pattern, alone in PERSONAL_PATTERNS.values()]
    return re.compile("|".join(f"(?:{part})" for part in parts))


def _re2_pattern() -> str:
    parts = [f"(^|[^0-9A-Za-z]){pattern}([^0-9A-Za-z]|$)" if alone else pattern
             for pattern, alone in PERSONAL_PATTERNS.values()]
    return "|".join(f"({part})" for part in parts)


_PERSONAL = _python_pattern()
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<netloc>[^\s/?#'\"<>]*)(?P<rest>[^\s'\"<>]*)")


def looks_personal(text: str) -> bool:
    """Whether `text` holds an e-mail address, a phone number or an identity card number."""
    return _PERSONAL.search(text) is not None


def mask_personal_content(text: str) -> str:
    """`text` with every e-mail address, phone number and identity card number replaced by ••••."""
    return _PERSONAL.sub(_MASK, text)


def redact_urls(text: str) -> str:
    """`text` with every URL cut to its scheme and host: credentials, path and query hidden."""

    def redact(match: re.Match[str]) -> str:
        host = match["netloc"].rpartition("@")[2]
        return f"{match['scheme']}{host}" + (f"/{_MASK}" if match["rest"] or "@" in match["netloc"] else "")

    return _URL.sub(redact, text)


def safe_text(text: str) -> str:
    """A message as a log, an alert or a report may show it: no secret, no personal value."""
    return mask_personal_content(redact_urls(text))


def masks_value(table: str, column: str | None, raw_value: str) -> bool:
    """Whether a landed value must be masked wherever it is shown.

    A value of a personal contract column is; so is a value not tied to a known column of the table
    (a whole malformed line, say) when that table has personal columns, and any value that looks
    personal by its content.
    """
    contract_table = load_contract().tables.get(table)
    personal = set(contract_table.personal_columns) if contract_table else set()
    known = set(contract_table.column_names) if contract_table else set()
    by_column = column in personal or (column not in known and (bool(personal) or contract_table is None))
    return by_column or looks_personal(raw_value)


def looks_personal_sql(value_sql: str) -> str:
    """SQL: whether a text holds an e-mail address, a phone number or an identity card number."""
    return f"regexp_matches({value_sql}, {literal(_re2_pattern())})"


def stored_value_sql(value_sql: str, column_sql: str, personal_columns: list[str]) -> str:
    """SQL for a landed value as audit.rejects keeps it: masked when it is in a personal column or
    looks personal by its content (a whole record is kept unless its content looks personal)."""
    personal = ", ".join(literal(c) for c in personal_columns)
    by_column = f"{column_sql} IN ({personal}) OR " if personal_columns else ""
    return (f"CASE WHEN {value_sql} IS NOT NULL AND ({by_column}{looks_personal_sql(value_sql)}) "
            f"THEN {literal(MASKED)} ELSE {value_sql} END")
