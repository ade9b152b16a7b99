"""Find the landed files of every contract table and fingerprint them (size, streamed sha256).

A file the manifest already recorded, with the same size and not modified since it was loaded, keeps
its recorded checksum without being read again: a daily run reads the new files, not the history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# File name ending (lower case) -> how the file is read. Longest endings first.
FILE_FORMATS: tuple[tuple[str, str], ...] = (
    (".csv.gz", "csv"),
    (".csv", "csv"),
    (".parquet", "parquet"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json", "jsonl"),
)
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    table: str
    path: Path
    relative_path: str  # POSIX path relative to the landing folder, as recorded in the manifest
    file_format: str
    size_bytes: int
    sha256: str

    @property
    def file_id(self) -> str:
        """sha256 of path + checksum: one id per version of a landed file."""
        return hashlib.sha256((self.relative_path + self.sha256).encode()).hexdigest()


@dataclass(frozen=True)
class RecordedFile:
    """What audit.load_manifest holds about the live version of a landed path."""

    size_bytes: int
    sha256: str
    loaded_at_epoch: float  # when it was loaded, seconds since 1970 (UTC)


@dataclass(frozen=True)
class Discovery:
    files: list[LandedFile]
    warnings: list[str]


def file_format(file_name: str) -> str | None:
    lowered = file_name.lower()
    return next((fmt for ending, fmt in FILE_FORMATS if lowered.endswith(ending)), None)


def is_hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def discover_landing(landing_dir: Path, table_names: list[str],
                     recorded: Mapping[str, RecordedFile] | None = None) -> Discovery:
    """Every readable file under `<landing>/<table>/**`, sorted by path; anything else becomes a warning.

    `recorded` (relative path -> manifest record) lets unchanged files skip hashing (see `fingerprint`).
    """
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist (ECOM_LANDING_DIR)")
    files: list[LandedFile] = []
    warnings: list[str] = []
    for entry in sorted(landing_dir.iterdir()):
        if is_hidden(Path(entry.name)):
            continue
        if entry.is_dir() and entry.name in table_names:
            files.extend(_table_files(landing_dir, entry, warnings, recorded or {}))
        elif entry.is_dir():
            warnings.append(f"folder {entry.name}/ is not a raw contract table: its files were not read")
        else:
            warnings.append(f"file {entry.name} is not inside a <table>/ folder: it was not read")
    return Discovery(files=files, warnings=warnings)


def fingerprint(path: Path, size_bytes: int, recorded: RecordedFile | None) -> str:
    """The file's sha256: the recorded one when the file has the recorded size and was last modified
    before it was loaded (rewriting a file moves its mtime past that), else read from its bytes."""
    if (recorded is not None and recorded.size_bytes == size_bytes
            and path.stat().st_mtime < recorded.loaded_at_epoch):
        return recorded.sha256
    return sha256_of(path)


def _table_files(landing_dir: Path, table_dir: Path, warnings: list[str],
                 recorded: Mapping[str, RecordedFile]) -> list[LandedFile]:
    found = []
    for path in sorted(p for p in table_dir.rglob("*") if p.is_file()):
        if is_hidden(path.relative_to(table_dir)):
            continue
        relative_path = path.relative_to(landing_dir).as_posix()
        fmt = file_format(path.name)
        if fmt is None:
            warnings.append(f"{relative_path}: unsupported file type (expected .csv, .csv.gz, .parquet, "
                            ".jsonl, .ndjson or .json): it was not read")
            continue
        size_bytes = path.stat().st_size
        found.append(LandedFile(
            table=table_dir.name,
            path=path,
            relative_path=relative_path,
            file_format=fmt,
            size_bytes=size_bytes,
            sha256=fingerprint(path, size_bytes, recorded.get(relative_path)),
        ))
    return found
