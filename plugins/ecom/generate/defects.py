"""The defect catalogue: inject real-export defects into a generated CSV landing, with a manifest.

`inject_defects` edits a landing written by `generate_shop` (CSV) and writes
`<landing>/_defects/manifest.json` (the `_` folder is never ingested): for each defect its kind, the
file, and the outcome the pipeline must produce (docs/data_quality.md lists them):
- `quarantine`: the listed lines go to audit.rejects with a reason containing `reason`; the rest of
  the file loads;
- `stop`: the raw gate checks `checks` (suite names) fail with severity error for the table (and the
  file, when the check is about one), so nothing is promoted or published;
- `load`: every row loads as intended (the `expect` entry says what to verify), at most a warning.
Every defect lands in a different file, and no defect makes another row fail: the outcomes add up.
"""

from __future__ import annotations

import csv
import filecmp
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from ecom.contract import Column, load_contract
from ecom.ingest import casting

MANIFEST_PATH = Path("_defects") / "manifest.json"
QUARANTINE, STOP, LOAD = "quarantine", "stop", "load"
LOW_VOLUME_SHARE = 0.1
# The oldest file a defect edits: late_rows moves rows of the file of this many days before the as-of.
LATE_ROWS_DAYS_BACK = 30
# Days of history the catalogue needs: that file's day and every day after it (the volume check's
# trailing weeks tolerate a few days before the history began).
DAYS_NEEDED = LATE_ROWS_DAYS_BACK + 1


class DefectError(ValueError):
    """The generated shop cannot carry the catalogue; the message says what it lacks."""


@dataclass
class Defect:
    kind: str
    description: str
    table: str
    path: str
    outcome: str
    lines: list[int] = field(default_factory=list)  # quarantine: the lines that must be quarantined
    reason: str | None = None  # quarantine: a substring of the reject reason
    checks: list[str] = field(default_factory=list)  # stop: the raw gate suites whose error checks fail
    expect: dict[str, Any] = field(default_factory=dict)  # load: what to verify


@dataclass
class DefectManifest:
    as_of: date
    business_tz: str
    defects: list[Defect]

    def to_json(self) -> str:
        return json.dumps(
            {
                "as_of": self.as_of.isoformat(),
                "business_tz": self.business_tz,
                "defects": [asdict(d) for d in self.defects],
            },
            indent=2,
            ensure_ascii=False,
        )

    def describe(self) -> str:
        lines = [f"Injected {len(self.defects)} defects (as of {self.as_of}):"]
        lines += [f"  {d.kind:<24} {d.outcome:<10} {d.path}" for d in self.defects]
        return "\n".join(lines)


class CsvFile:
    """A generated CSV file as header + records (every record on one physical line: line = index + 2)."""

    def __init__(self, landing: Path, relative: str) -> None:
        self.landing, self.relative = landing, relative
        with open(landing / relative, encoding="utf-8", newline="") as f:
            self.header, *self.records = list(csv.reader(f))

    @property
    def path(self) -> Path:
        return self.landing / self.relative

    def column(self, name: str) -> int:
        return self.header.index(name)

    def line(self, index: int) -> int:
        return index + 2

    def text(self) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([self.header, *self.records])
        return out.getvalue()

    def save(self, encoding: str = "utf-8", prefix: bytes = b"") -> None:
        self.path.write_bytes(prefix + self.text().encode(encoding))


def inject_defects(
    landing: Path, as_of: date, seed: int, business_tz: str = "Asia/Shanghai"
) -> DefectManifest:
    """Inject every catalogue defect into the generated CSV landing; write and return the manifest.

    DefectError when the shop spans fewer than DAYS_NEEDED days or its files are too small.
    """
    injector = _Injector(landing, as_of, np.random.default_rng([seed, 99]), business_tz)
    if injector.span_days < DAYS_NEEDED:
        raise DefectError(f"the defect catalogue needs at least {DAYS_NEEDED} days of history, "
                          f"the shop in {landing} has {injector.span_days}")
    for inject in CATALOGUE:
        inject(injector)
    manifest = DefectManifest(as_of=as_of, business_tz=business_tz, defects=injector.defects)
    (landing / MANIFEST_PATH).parent.mkdir(parents=True, exist_ok=True)
    (landing / MANIFEST_PATH).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def reland_corrected(landing: Path, correct: Path) -> None:
    """The steward's release: every defective CSV of `landing` is replaced in place by its version in
    `correct` (the same shop generated without defects), and every file the catalogue added is removed."""
    for path in sorted(p for p in landing.rglob("*.csv") if MANIFEST_PATH.parent.name not in p.parts):
        fixed = correct / path.relative_to(landing)
        if not fixed.exists():
            path.unlink()  # an added file (empty, header only, the GBK re-send): withdrawn
        elif not filecmp.cmp(path, fixed, shallow=False):
            shutil.copyfile(fixed, path)  # a pending file replaced in place


class _Injector:
    """Picks a distinct, untouched file per defect and records what was done."""

    def __init__(self, landing: Path, as_of: date, rng: np.random.Generator, business_tz: str) -> None:
        self.landing, self.as_of, self.rng, self.zone = landing, as_of, rng, ZoneInfo(business_tz)
        self.defects: list[Defect] = []
        self.used: set[str] = set()
        self.span_days = 1 + max(
            ((as_of - date.fromisoformat(folder.name.removeprefix("dt="))).days
             for folder in landing.glob("*/dt=*") if folder.is_dir()),
            default=0,
        )

    def file(self, table: str, days_back: int, minimum_records: int = 3) -> CsvFile:
        """The table's unused file of the day `days_back` before as-of, else the nearest fitting one before
        it, else the nearest after it (a short history has few days before it)."""
        for back in [*range(days_back, self.span_days), *range(days_back - 1, -1, -1)]:
            day = self.as_of - timedelta(days=back)
            relative = f"{table}/dt={day.isoformat()}/{table}_{day:%Y%m%d}.csv"
            if relative in self.used or not (self.landing / relative).is_file():
                continue
            candidate = CsvFile(self.landing, relative)
            if len(candidate.records) >= minimum_records:
                self.used.add(relative)
                return candidate
        raise DefectError(
            f"no {table} file of the generated shop has the {minimum_records} or more rows a defect needs: "
            "generate more customers"
        )

    def new_file(self, table: str, days_back: int, name: str) -> str:
        day = self.as_of - timedelta(days=days_back)
        relative = f"{table}/dt={day.isoformat()}/{name}"
        self.used.add(relative)
        (self.landing / relative).parent.mkdir(parents=True, exist_ok=True)
        return relative

    def pick(self, file: CsvFile) -> int:
        return int(self.rng.integers(len(file.records)))

    def add(self, **defect: Any) -> None:
        self.defects.append(Defect(**defect))


def _set_value(
    injector: _Injector,
    kind: str,
    description: str,
    table: str,
    days_back: int,
    column: str,
    value: str,
    reason: str,
    minimum_records: int = 3,
) -> None:
    """One record of one file gets `value` in `column`."""
    file = injector.file(table, days_back, minimum_records)
    index = injector.pick(file)
    file.records[index][file.column(column)] = value
    file.save()
    injector.add(
        kind=kind,
        description=description,
        table=table,
        path=file.relative,
        outcome=QUARANTINE,
        lines=[file.line(index)],
        reason=reason,
    )


def duplicate_key(injector: _Injector) -> None:
    file = injector.file("touchpoints", 5)
    index = injector.pick(file)
    copy = list(file.records[index])
    channel = file.column("channel")
    copy[channel] = "search" if copy[channel] != "search" else "social"
    file.records.append(copy)
    file.save()
    injector.add(
        kind="duplicate_key",
        description="a touchpoint_id twice in one file, with different channels",
        table="touchpoints",
        path=file.relative,
        outcome=QUARANTINE,
        lines=[file.line(index), file.line(len(file.records) - 1)],
        reason="appears with different values",
    )


def exact_duplicate_row(injector: _Injector) -> None:
    file = injector.file("events", 6)
    index = injector.pick(file)
    file.records.append(list(file.records[index]))
    file.save()
    injector.add(
        kind="exact_duplicate_row",
        description="an event row repeated verbatim in its file",
        table="events",
        path=file.relative,
        outcome=QUARANTINE,
        lines=[file.line(len(file.records) - 1)],
        reason=f"exact duplicate of line {file.line(index)}",
    )


def _column(table: str, name: str) -> Column:
    return load_contract().table(table).column(name)


def null_required(injector: _Injector) -> None:
    column = _column("events", "event_type")
    assert not column.nullable
    _set_value(
        injector,
        "null_required_value",
        "an event without event_type (required)",
        "events",
        8,
        column.name,
        "",
        casting.REQUIRED_EMPTY,
    )


def unparseable_timestamp(injector: _Injector) -> None:
    _set_value(
        injector,
        "unparseable_timestamp",
        "an event time written 31/06/2026 10:00",
        "events",
        9,
        "occurred_at",
        "31/06/2026 10:00",
        casting.invalid(_column("events", "occurred_at")),
    )


def future_timestamp(injector: _Injector) -> None:
    """A stray far-future touchpoint, past the plausible range: a defect. A row merely after the as-of
    date is none: it waits for a run whose as-of date covers it."""
    occurred_at = _column("touchpoints", "occurred_at")
    _set_value(
        injector,
        "future_timestamp",
        "a touchpoint dated 2199, past the plausible range",
        "touchpoints",
        10,
        occurred_at.name,
        "2199-06-30 12:00:00",
        casting.above_maximum(occurred_at),
    )


def negative_amount(injector: _Injector) -> None:
    spend = _column("marketing_spend", "spend")
    _set_value(
        injector,
        "negative_amount",
        "a negative marketing spend",
        "marketing_spend",
        11,
        spend.name,
        f"{spend.min - 120:.2f}",
        casting.below_minimum(spend),
    )


def comma_decimal(injector: _Injector) -> None:
    _set_value(
        injector,
        "comma_decimal_separator",
        "a spend written with a decimal comma: 120,50",
        "marketing_spend",
        12,
        "spend",
        "120,50",
        casting.invalid(_column("marketing_spend", "spend")),
    )


def unknown_status(injector: _Injector) -> None:
    _set_value(
        injector,
        "unknown_status",
        "an order status the vocabulary seed does not map: on_hold",
        "orders",
        13,
        "status",
        "on_hold",
        "orders.status value not mapped in",
    )


def unknown_channel(injector: _Injector) -> None:
    """A channel the seed does not map loads under its own name, with a warning naming it."""
    file = injector.file("touchpoints", 14)
    index = injector.pick(file)
    file.records[index][file.column("channel")] = "tv"
    file.save()
    injector.add(
        kind="unknown_channel",
        description="a touchpoint channel the vocabulary seed does not map: tv",
        table="touchpoints",
        path=file.relative,
        outcome=LOAD,
        expect={
            "touchpoint_id": file.records[index][file.column("touchpoint_id")],
            "channel": "tv",
            "warning_check": "raw_gate.unmapped_values",
        },
    )


def out_of_range(injector: _Injector) -> None:
    rating = _column("reviews", "rating")
    _set_value(
        injector,
        "out_of_range_value",
        f"a review rating of {rating.max + 2:g} ({rating.min:g} to {rating.max:g})",
        "reviews",
        5,
        rating.name,
        f"{rating.max + 2:g}",
        casting.above_maximum(rating),
        minimum_records=1,
    )


def unknown_customer(injector: _Injector) -> None:
    _set_value(
        injector,
        "unknown_customer",
        "an order of a customer_id no customers file holds",
        "orders",
        15,
        "customer_id",
        "999999",
        "is in no landed customers row",
    )


def items_total_mismatch(injector: _Injector) -> None:
    file = injector.file("orders", 16)
    index = injector.pick(file)
    total = file.column("total_amount")
    file.records[index][total] = f"{float(file.records[index][total]) + 10:.2f}"
    file.save()
    injector.add(
        kind="items_total_mismatch",
        description="an order total 10.00 above the sum of its items",
        table="orders",
        path=file.relative,
        outcome=QUARANTINE,
        lines=[file.line(index)],
        reason="order_items add up to",
    )


def mixed_timezone_offsets(injector: _Injector) -> None:
    """Three events of one file written in other time-zone notations: the instant must not change."""
    file = injector.file("events", 17)
    occurred, event_id = file.column("occurred_at"), file.column("event_id")
    expected = {}
    notations = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+08:00", "%Y-%m-%dT%H:%M:%S-05:00")
    offsets = (ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Bogota"))
    for index, (notation, zone) in enumerate(zip(notations, offsets, strict=True)):
        local = datetime.fromisoformat(file.records[index][occurred]).replace(tzinfo=injector.zone)
        file.records[index][occurred] = local.astimezone(zone).strftime(notation)
        expected[file.records[index][event_id]] = f"{local.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M:%S}"
    file.save()
    injector.add(
        kind="mixed_timezone_offsets",
        description="event times with Z, +08:00 and -05:00 offsets",
        table="events",
        path=file.relative,
        outcome=LOAD,
        expect={"utc_occurred_at": expected},
    )


def extra_column(injector: _Injector) -> None:
    file = injector.file("reviews", 20, minimum_records=1)
    file.header.append("sentiment")
    for record in file.records:
        record.append("positive")
    file.save()
    injector.add(
        kind="extra_column",
        description="a reviews file with an extra column 'sentiment'",
        table="reviews",
        path=file.relative,
        outcome=STOP,
        checks=["raw_gate.schema_change"],
    )


def missing_column(injector: _Injector) -> None:
    assert not _column("order_items", "unit_price").nullable  # a required column: the file cannot load
    file = injector.file("order_items", 21)
    drop = file.column("unit_price")
    file.header.pop(drop)
    for record in file.records:
        record.pop(drop)
    file.save()
    injector.add(
        kind="missing_column",
        description="an order_items file without its unit_price column",
        table="order_items",
        path=file.relative,
        outcome=STOP,
        checks=["raw_gate.file_schema"],
    )


def renamed_column(injector: _Injector) -> None:
    # a required column goes missing, a column the contract does not know appears
    assert not _column("marketing_spend", "spend").nullable
    assert "amount" not in load_contract().table("marketing_spend").column_names
    file = injector.file("marketing_spend", 22)
    file.header[file.column("spend")] = "amount"
    file.save()
    injector.add(
        kind="renamed_column",
        description="a marketing_spend file calling spend 'amount'",
        table="marketing_spend",
        path=file.relative,
        outcome=STOP,
        checks=["raw_gate.file_schema", "raw_gate.schema_change"],
    )


def empty_file(injector: _Injector) -> None:
    relative = injector.new_file("touchpoints", 3, "touchpoints_resend.csv")
    (injector.landing / relative).write_bytes(b"")
    injector.add(
        kind="empty_file",
        description="a 0-byte touchpoints file",
        table="touchpoints",
        path=relative,
        outcome=STOP,
        checks=["raw_gate.file_rows", "raw_gate.file_schema"],
    )


def header_only_file(injector: _Injector) -> None:
    header = CsvFile(injector.landing, injector.file("events", 25).relative).header
    relative = injector.new_file("events", 4, "events_resend.csv")
    (injector.landing / relative).write_text(",".join(header) + "\n", encoding="utf-8")
    injector.add(
        kind="header_only_file",
        description="an events file with a header and no row",
        table="events",
        path=relative,
        outcome=STOP,
        checks=["raw_gate.file_rows"],
    )


def truncated_last_line(injector: _Injector) -> None:
    file = injector.file("events", 26)
    text = file.text().rstrip("\n")
    cut = text.rfind("\n") + 1 + len(text[text.rfind("\n") + 1 :]) // 3
    file.path.write_text(text[:cut], encoding="utf-8")
    injector.add(
        kind="truncated_last_line",
        description="an events file cut off a third into its last line",
        table="events",
        path=file.relative,
        outcome=QUARANTINE,
        lines=[file.line(len(file.records) - 1)],
        reason="malformed CSV line",
    )


def gbk_encoding(injector: _Injector) -> None:
    """Customers re-sent in a file saved as GBK: its lines with Chinese text (all of them: only those are
    re-sent) break, so the re-send loads nothing and its customers keep their UTF-8 rows."""
    source = injector.file("customers", 27, minimum_records=1)
    resend = CsvFile(injector.landing, source.relative)
    resend.records = [record for record in resend.records if not ",".join(record).isascii()]
    if not resend.records:
        raise DefectError(f"{source.relative} has no customer with Chinese text to re-send in GBK")
    day = date.fromisoformat(source.relative.split("dt=")[1][:10])
    name = f"customers_{day:%Y%m%d}_resend.csv"
    resend.relative = injector.new_file("customers", (injector.as_of - day).days, name)
    resend.save(encoding="gbk")
    injector.add(
        kind="gbk_encoding",
        description="customers re-sent in a file encoded in GBK instead of UTF-8",
        table="customers",
        path=resend.relative,
        outcome=QUARANTINE,
        lines=[resend.line(i) for i in range(len(resend.records))],
        reason="not utf-8 encoded",
    )


def byte_order_mark(injector: _Injector) -> None:
    file = injector.file("customers", 28, minimum_records=1)
    file.save(prefix="\ufeff".encode())
    injector.add(
        kind="utf8_byte_order_mark",
        description="a customers file starting with a UTF-8 BOM",
        table="customers",
        path=file.relative,
        outcome=LOAD,
        expect={"rows_loaded": len(file.records), "customer_ids": [r[0] for r in file.records]},
    )


def low_volume_day(injector: _Injector) -> None:
    file = injector.file("events", 2)
    kept = max(1, round(len(file.records) * LOW_VOLUME_SHARE))
    file.records = file.records[:kept]
    file.save()
    day = file.relative.split("dt=")[1][:10]
    injector.add(
        kind="low_volume_day",
        description=f"events of {day}: a tenth of the usual volume",
        table="events",
        path=file.relative,
        outcome=STOP,
        checks=["raw_gate.daily_volume"],
        expect={"day": day},
    )


def late_rows(injector: _Injector) -> None:
    """Three events of a day 30 days back arrive in the file of the day before the as-of date."""
    old, recent = injector.file("events", LATE_ROWS_DAYS_BACK), injector.file("events", 1)
    moved = old.records[-3:]
    old.records, recent.records = old.records[:-3], recent.records + moved
    old.save()
    recent.save()
    injector.add(
        kind="late_arriving_rows",
        description="three events of a month-old day in yesterday's file",
        table="events",
        path=recent.relative,
        outcome=LOAD,
        expect={"event_ids": [r[0] for r in moved], "warning_check": "raw_gate.late_rows"},
    )


CATALOGUE: tuple[Callable[[_Injector], None], ...] = (
    duplicate_key,
    exact_duplicate_row,
    null_required,
    unparseable_timestamp,
    future_timestamp,
    negative_amount,
    comma_decimal,
    unknown_status,
    unknown_channel,
    out_of_range,
    unknown_customer,
    items_total_mismatch,
    mixed_timezone_offsets,
    extra_column,
    missing_column,
    renamed_column,
    empty_file,
    header_only_file,
    truncated_last_line,
    gbk_encoding,
    byte_order_mark,
    low_volume_day,
    late_rows,
)
