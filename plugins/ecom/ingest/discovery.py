"""Find the landed files of every contract table and fingerprint them (streamed sha256, physical lines).

Nothing outside the landing folder is read: a symbolic link under a table folder (or a table folder
that is a link) whose target lies outside the landing folder is refused by name before anything is
loaded (`OutsideLandingError`). A link to a folder inside it is not followed (its files are read
where they lie, if that is a table folder); a link to a file inside it is read from its target.

A file the manifest already recorded keeps its recorded checksum without being read again when its
size, inode, modification and change times are the ones recorded (`fingerprint`): a daily run reads
the new files, not the history, and a file rewritten in place (even with its modification time
restored, as `cp -p` or `rsync -t` do) is read again, because its change time moved.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
import zlib
from collections.abc import Iterator, Mapping
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
TEXT_FORMATS = ("csv", "jsonl")  # formats read line by line: their physical lines are counted
_HASH_CHUNK_BYTES = 1 << 20
# A file changed this shortly before it was fingerprinted could change again within the file system's
# time resolution without its times moving: such a stat is not kept for the fast path.
SETTLED_NS = 2_000_000_000


class OutsideLandingError(Exception):
    """Links in the landing folder that lead outside it: nothing outside the landing folder is read."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(
            f"landing entries that are symbolic links to outside the landing folder: {', '.join(paths)}. "
            "Nothing outside the landing folder is read: copy the files into it, or remove the links."
        )


@dataclass(frozen=True)
class FileStat:
    """What the file system says about a file's version: any rewrite changes ctime (or the inode)."""

    size_bytes: int
    inode: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStat:
        stat = path.stat()
        return cls(stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)


@dataclass(frozen=True)
class Fingerprint:
    size_bytes: int
    sha256: str
    physical_lines: int | None  # lines of a CSV or JSON-lines file (decompressed); None for Parquet,
    # or when they cannot be counted (a broken .gz)
    stat: FileStat | None  # None: the file changed while, or just before, it was read


@dataclass(frozen=True)
class LandedFile:
    table: str
    path: Path  # where it is read: the file itself (a link's target), inside the landing folder
    relative_path: str  # POSIX path relative to the landing folder, as recorded in the manifest
    file_format: str
    size_bytes: int
    sha256: str
    physical_lines: int | None = None  # see Fingerprint
    stat: FileStat | None = None

    @property
    def file_id(self) -> str:
        """sha256 of path + checksum: one id per version of a landed file."""
        return hashlib.sha256((self.relative_path + self.sha256).encode()).hexdigest()


@dataclass(frozen=True)
class RecordedFile:
    """What audit.load_manifest holds about the live version of a landed path."""

    sha256: str
    physical_lines: int | None
    stat: FileStat | None  # None when not recorded (an older manifest row, or a file still changing)


@dataclass(frozen=True)
class Discovery:
    files: list[LandedFile]
    warnings: list[str]


def file_format(file_name: str) -> str | None:
    lowered = file_name.lower()
    return next((fmt for ending, fmt in FILE_FORMATS if lowered.endswith(ending)), None)


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


class _LineCounter:
    """Counts physical lines as the CSV readers split them: at \\n, \\r\\n or a lone \\r; a last line
    without a line break counts too."""

    def __init__(self) -> None:
        self.breaks = 0
        self._last = b""

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.breaks += chunk.count(b"\n")
        if carriage_returns := chunk.count(b"\r"):  # most files have none: two passes over the chunk
            self.breaks += carriage_returns - chunk.count(b"\r\n")
        if self._last == b"\r" and chunk.startswith(b"\n"):  # a \r\n split between two chunks
            self.breaks -= 1
        self._last = chunk[-1:]

    @property
    def lines(self) -> int:
        return self.breaks + (self._last not in (b"", b"\n", b"\r"))


def digest_file(path: Path, fmt: str) -> tuple[str, int | None]:
    """The file's sha256 and, for a text format, its physical lines (of the decompressed text)."""
    digest = hashlib.sha256()
    counter = _LineCounter()
    count_here = fmt in TEXT_FORMATS and not is_gzip(path)
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            if count_here:
                counter.add(chunk)
    if fmt in TEXT_FORMATS and is_gzip(path):
        try:
            with gzip.open(path, "rb") as text:
                while chunk := text.read(_HASH_CHUNK_BYTES):
                    counter.add(chunk)
        except (EOFError, OSError, zlib.error):  # not gzip, or cut short: reading it will say so
            return digest.hexdigest(), None
    return digest.hexdigest(), counter.lines if fmt in TEXT_FORMATS else None


def fingerprint(path: Path, fmt: str, recorded: RecordedFile | None) -> Fingerprint:
    """The file's checksum and lines: the recorded ones while the file system shows the recorded
    version (same size, inode, mtime and ctime), else read from its bytes.

    The stat kept is the one taken before reading, when it is the same after reading and the file had
    not changed within SETTLED_NS before: then any later rewrite moves ctime (or the inode).
    """
    before = FileStat.of(path)
    if recorded is not None and recorded.stat == before:
        return Fingerprint(before.size_bytes, recorded.sha256, recorded.physical_lines, before)
    sha256, lines = digest_file(path, fmt)
    settled = FileStat.of(path) == before and time.time_ns() - before.ctime_ns >= SETTLED_NS
    return Fingerprint(before.size_bytes, sha256, lines, before if settled else None)


def discover_landing(landing_dir: Path, table_names: list[str],
                     recorded: Mapping[str, RecordedFile] | None = None) -> Discovery:
    """Every readable file under `<landing>/<table>/**`, sorted by path; anything else becomes a warning.

    `recorded` (relative path -> manifest record) lets unchanged files skip hashing (see `fingerprint`).
    Raises OutsideLandingError naming every link under a table folder that leads outside the landing folder.
    """
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist (ECOM_LANDING_DIR)")
    scan = _Scan(landing_dir.resolve(), recorded or {})
    for entry in _entries(scan.root):
        if entry.name in table_names:
            scan.table_folder(entry)
        elif entry.is_dir():
            scan.warnings.append(f"folder {entry.name}/ is not a raw contract table: its files were not read")
        else:
            scan.warnings.append(f"file {entry.name} is not inside a <table>/ folder: it was not read")
    if scan.outside:
        raise OutsideLandingError(scan.outside)
    return Discovery(files=sorted(scan.files, key=lambda f: Path(f.relative_path)), warnings=scan.warnings)


class _Scan:
    """What walking the table folders found: files to read, links leading outside, warnings."""

    def __init__(self, root: Path, recorded: Mapping[str, RecordedFile]) -> None:
        self.root = root
        self.recorded = recorded
        self.files: list[LandedFile] = []
        self.outside: list[str] = []
        self.warnings: list[str] = []

    def table_folder(self, folder: os.DirEntry[str]) -> None:
        if folder.is_symlink():
            if not self._inside(folder):
                return
            self.warnings.append(f"{folder.name} is a link to a folder, which is not followed: "
                                 "its files were not read")
        elif not folder.is_dir():
            self.warnings.append(f"file {folder.name} is not inside a <table>/ folder: it was not read")
        else:
            for entry in _walk(folder.path):
                self._entry(folder.name, entry)

    def _entry(self, table: str, entry: os.DirEntry[str]) -> None:
        path = Path(entry.path)
        relative_path = path.relative_to(self.root).as_posix()
        if entry.is_dir(follow_symlinks=False):
            return  # walked into
        if entry.is_symlink():
            if not self._inside(entry):
                return
            path = path.resolve()
            if not path.exists():
                self.warnings.append(f"{relative_path} is a broken link: it was not read")
                return
            if path.is_dir():
                self.warnings.append(f"{relative_path} is a link to a folder, which is not followed: "
                                     "its files were not read")
                return
        if not path.is_file():
            self.warnings.append(f"{relative_path} is not a regular file: it was not read")
        elif (fmt := file_format(entry.name)) is None:
            self.warnings.append(f"{relative_path}: unsupported file type (expected .csv, .csv.gz, .parquet, "
                                 ".jsonl, .ndjson or .json): it was not read")
        else:
            found = fingerprint(path, fmt, self.recorded.get(relative_path))
            self.files.append(LandedFile(
                table=table, path=path, relative_path=relative_path, file_format=fmt,
                size_bytes=found.size_bytes, sha256=found.sha256, physical_lines=found.physical_lines,
                stat=found.stat,
            ))

    def _inside(self, link: os.DirEntry[str]) -> bool:
        """Whether a link's target lies inside the landing folder; one that does not is recorded."""
        if Path(link.path).resolve().is_relative_to(self.root):
            return True
        self.outside.append(Path(link.path).relative_to(self.root).as_posix())
        return False


def _entries(folder: str | Path) -> list[os.DirEntry[str]]:
    """The entries of `folder` in name order, hidden ones (names starting with . or _) left out."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith((".", "_"))), key=lambda e: e.name)


def _walk(folder: str) -> Iterator[os.DirEntry[str]]:
    """Every entry under `folder` except hidden ones, depth first, not descending into links to folders."""
    for entry in _entries(folder):
        yield entry
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path)
