"""The defect catalogue generator: what `ecom generate --defects` writes, checked on the files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from ecom.cli import main
from ecom.generate import generate_shop
from ecom.generate.defects import MANIFEST_PATH, DefectError, inject_defects

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("landing")
    generate_shop(out=out, customers=200, days=60, seed=11, end_date=AS_OF)
    inject_defects(out, AS_OF, seed=11)
    return out, json.loads((out / MANIFEST_PATH).read_text(encoding="utf-8"))


def test_every_defect_has_its_own_file_and_an_outcome(landing: tuple[Path, dict]) -> None:
    out, manifest = landing
    defects = manifest["defects"]
    assert len({d["kind"] for d in defects}) == len(defects) == 23
    assert len({d["path"] for d in defects}) == len(defects)
    for defect in defects:
        assert (out / defect["path"]).is_file(), defect
        assert {
            "quarantine": bool(defect["lines"]) and defect["reason"],
            "stop": bool(defect["checks"]),
            "load": bool(defect["expect"]),
        }[defect["outcome"]], defect


def test_the_encoding_defects_are_in_the_bytes(landing: tuple[Path, dict]) -> None:
    out, manifest = landing
    by_kind = {d["kind"]: d for d in manifest["defects"]}
    gbk = (out / by_kind["gbk_encoding"]["path"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert gbk.decode("gbk").startswith("customer_id,")
    assert (out / by_kind["utf8_byte_order_mark"]["path"]).read_bytes().startswith(b"\xef\xbb\xbf")
    assert (out / by_kind["empty_file"]["path"]).stat().st_size == 0
    assert (out / by_kind["header_only_file"]["path"]).read_text(encoding="utf-8").count("\n") == 1
    assert not (out / by_kind["truncated_last_line"]["path"]).read_bytes().endswith(b"\n")


def test_defects_need_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", str(tmp_path), "--format", "parquet", "--defects"]) == 2
    assert "--defects needs --format csv" in capsys.readouterr().err


def test_a_short_span_carries_the_whole_catalogue(tmp_path: Path) -> None:
    """3,000 customers over 45 days: every customers file near a month back holds customers who ordered,
    which once left no file for the GBK defect ("no customers file fits near 27 days before ...")."""
    summary = generate_shop(out=tmp_path, customers=3000, days=45, seed=42, end_date=AS_OF)

    manifest = inject_defects(tmp_path, summary.last_day, seed=42)

    assert len(manifest.defects) == 23
    [gbk] = [d for d in manifest.defects if d.kind == "gbk_encoding"]
    resend = list(csv.reader(io.StringIO((tmp_path / gbk.path).read_bytes().decode("gbk"))))
    assert gbk.lines == list(range(2, len(resend) + 1))  # every re-sent line breaks: each has Chinese text
    assert all(not ",".join(record).isascii() for record in resend[1:])
    original = list(csv.reader((tmp_path / gbk.path.replace("_resend", "")).open(encoding="utf-8")))
    assert resend[0] == original[0]
    assert {tuple(r) for r in resend[1:]} <= {tuple(r) for r in original[1:]}  # a re-send of that day's file


def test_a_span_shorter_than_the_catalogue_needs_is_refused_by_name(tmp_path: Path) -> None:
    generate_shop(out=tmp_path / "shop", customers=50, days=30, seed=1, end_date=AS_OF)

    with pytest.raises(DefectError, match=r"needs at least 31 days of history, the shop in .* has 30$"):
        inject_defects(tmp_path / "shop", AS_OF, seed=1)
