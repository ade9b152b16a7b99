"""Ingestion reads only new or changed files: a recorded file whose size, inode, mtime and ctime are the
recorded ones keeps its recorded checksum, so a daily run costs the new day's files, not the history's;
any rewrite moves ctime (or the inode), even one that puts the old mtime back (`cp -p`, `rsync -t`)."""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from ecom.config import Settings
from ecom.ingest import ChangedFileError, discovery, ingest, promote_pending
from ecom.ingest.discovery import FileStat, RecordedFile, digest_file, fingerprint

CONTENT = b"order_id,customer_id,ordered_at,total_amount\n001,c1,2026-01-05,1\n"
CHANGED = CONTENT.replace(b",1\n", b",2\n")  # same size


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (else their stat is not kept for 2 s)."""
    monkeypatch.setattr(discovery, "SETTLED_NS", 0)


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    path = tmp_path / "day1.csv"
    path.write_bytes(CONTENT)
    return path


def test_a_recorded_unchanged_file_keeps_its_recorded_checksum(landed: Path) -> None:
    recorded = RecordedFile("recorded", 7, FileStat.of(landed))
    assert fingerprint(landed, "csv", recorded) == discovery.Fingerprint(len(CONTENT), "recorded", 7,
                                                                         FileStat.of(landed))


@pytest.mark.parametrize("change", ["size_bytes", "inode", "mtime_ns", "ctime_ns"])
def test_a_file_whose_stat_differs_in_anything_is_read(landed: Path, change: str) -> None:
    stat = FileStat.of(landed)
    recorded = RecordedFile("recorded", 7, replace(stat, **{change: getattr(stat, change) + 1}))
    found = fingerprint(landed, "csv", recorded)
    assert (found.sha256, found.physical_lines) == (hashlib.sha256(CONTENT).hexdigest(), 2)


@pytest.mark.parametrize("recorded", [None, RecordedFile("recorded", 2, None)])
def test_a_new_file_or_one_recorded_without_a_stat_is_read(landed: Path,
                                                           recorded: RecordedFile | None) -> None:
    assert fingerprint(landed, "csv", recorded).sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_a_file_changed_just_before_it_was_read_keeps_no_stat(landed: Path) -> None:
    # written a moment ago: a rewrite within the file system's time resolution might not move ctime
    assert fingerprint(landed, "csv", None).stat is None


def test_a_settled_file_keeps_the_stat_it_was_read_with(landed: Path, settled: None) -> None:
    assert fingerprint(landed, "csv", None).stat == FileStat.of(landed)


@pytest.mark.parametrize(("content", "lines"), [
    (b"", 0), (b"a\n", 1), (b"a\nb", 2), (b"a\r\nb\r\n", 2), (b"a\rb\r", 2), (b"a\n\n\n", 3),
    (b"a\r\r\nb", 3),
])
def test_physical_lines_are_counted_at_every_kind_of_line_break(tmp_path: Path, content: bytes,
                                                                lines: int) -> None:
    plain, zipped = tmp_path / "f.csv", tmp_path / "f.csv.gz"
    plain.write_bytes(content)
    zipped.write_bytes(gzip.compress(content))
    assert digest_file(plain, "csv")[1] == digest_file(zipped, "csv")[1] == lines
    assert digest_file(plain, "parquet")[1] is None


def test_a_line_break_split_across_read_chunks_counts_once(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "_HASH_CHUNK_BYTES", 2)
    path = tmp_path / "f.csv"
    path.write_bytes(b"a\r\nb\r\nc")  # chunks "a\r", "\nb", "\r\n", "c"
    assert digest_file(path, "csv")[1] == 3


def test_a_second_ingest_reads_no_unchanged_file(settings: Settings, settled: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (settings.landing_dir / "orders").mkdir()
    (settings.landing_dir / "orders" / "day1.csv").write_bytes(CONTENT)
    ingest(settings, "b1")
    day2 = settings.landing_dir / "orders" / "day2.csv"
    day2.write_bytes(CONTENT.replace(b"001", b"002"))
    read: list[str] = []
    real_digest = discovery.digest_file
    monkeypatch.setattr(discovery, "digest_file",
                        lambda path, fmt: read.append(path.name) or real_digest(path, fmt))

    again = ingest(settings, "b2")

    assert read == ["day2.csv"]
    assert (again.files_loaded, again.files_skipped) == (1, 1)


def manifest_stat(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_db)) as con:
        return con.execute("SELECT path, physical_lines, inode, mtime_ns, ctime_ns FROM audit.load_manifest "
                           "ORDER BY path").fetchall()


def test_the_manifest_records_each_files_lines_and_stat(settings: Settings, settled: None) -> None:
    path = settings.landing_dir / "orders" / "day1.csv"
    path.parent.mkdir()
    path.write_bytes(CONTENT)

    ingest(settings, "b1")

    stat = FileStat.of(path)
    assert manifest_stat(settings) == [("orders/day1.csv", 2, stat.inode, stat.mtime_ns, stat.ctime_ns)]


def test_a_file_rewritten_with_its_old_mtime_is_refused_by_name(settings: Settings, settled: None) -> None:
    path = settings.landing_dir / "orders" / "day1.csv"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))  # landed long ago
    ingest(settings, "b1")
    promote_pending(settings)
    old = path.stat()
    with open(path, "r+b") as f:  # rewritten in place, same size, mtime put back: `cp -p` over it
        f.write(CHANGED)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)

    with pytest.raises(ChangedFileError, match=r"orders/day1\.csv"):
        ingest(settings, "b2")


def test_a_touched_file_is_read_once_then_skipped_again(settings: Settings, settled: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = settings.landing_dir / "orders" / "day1.csv"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    ingest(settings, "b1")
    os.chmod(path, 0o640)  # a metadata change moves ctime, not the content
    read: list[str] = []
    real_digest = discovery.digest_file
    monkeypatch.setattr(discovery, "digest_file", lambda p, fmt: read.append(p.name) or real_digest(p, fmt))

    assert ingest(settings, "b2").files_skipped == 1
    assert manifest_stat(settings)[0][4] == path.stat().st_ctime_ns  # the fingerprint was refreshed
    assert ingest(settings, "b3").files_skipped == 1

    assert read == ["day1.csv"]
