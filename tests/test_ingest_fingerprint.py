"""Ingestion reads only new or changed files: a recorded file with its size and an mtime before its load
keeps its recorded checksum, so a daily run costs the new day's files, not the history's."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ecom.config import Settings
from ecom.ingest import discovery, ingest
from ecom.ingest.discovery import RecordedFile, fingerprint

CONTENT = b"order_id,customer_id,ordered_at,total_amount\n001,c1,2026-01-05,1\n"


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    path = tmp_path / "day1.csv"
    path.write_bytes(CONTENT)
    os.utime(path, (1_000_000, 1_000_000))
    return path


def test_a_recorded_unchanged_file_keeps_its_recorded_checksum(landed: Path) -> None:
    recorded = RecordedFile(len(CONTENT), "recorded", loaded_at_epoch=1_000_001.0)
    assert fingerprint(landed, len(CONTENT), recorded) == "recorded"


@pytest.mark.parametrize("recorded", [
    RecordedFile(len(CONTENT), "recorded", 999_999.0),  # modified after it was loaded
    RecordedFile(len(CONTENT) + 1, "recorded", 1_000_001.0),  # another size
    None,  # never loaded
])
def test_a_new_or_changed_file_is_hashed(landed: Path, recorded: RecordedFile | None) -> None:
    assert fingerprint(landed, len(CONTENT), recorded) == hashlib.sha256(CONTENT).hexdigest()


def test_a_second_ingest_reads_no_unchanged_file(settings: Settings, monkeypatch) -> None:
    (settings.landing_dir / "orders").mkdir()
    (settings.landing_dir / "orders" / "day1.csv").write_bytes(CONTENT)
    ingest(settings, "b1")
    day2 = settings.landing_dir / "orders" / "day2.csv"
    day2.write_bytes(CONTENT.replace(b"001", b"002"))
    hashed: list[str] = []
    real_sha256 = discovery.sha256_of
    monkeypatch.setattr(discovery, "sha256_of", lambda path: hashed.append(path.name) or real_sha256(path))

    again = ingest(settings, "b2")

    assert hashed == ["day2.csv"]
    assert (again.files_loaded, again.files_skipped) == (1, 1)
