"""The defect catalogue generator: what `ecom generate --defects` writes, checked on the files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ecom.cli import main
from ecom.generate import generate_shop
from ecom.generate.defects import MANIFEST_PATH, inject_defects

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
