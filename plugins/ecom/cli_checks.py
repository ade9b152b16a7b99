"""What the `ecom` command checks before it starts anything: folders, dates and numbers it was given.

A failed check raises UsageError with one line that names the flag or environment variable the value
came from; `ecom.cli.main` prints it and exits 2. Nothing here imports more than the standard library.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ecom.config import DEFAULT_FOLDERS


class UsageError(Exception):
    """A user error in the command line or its environment; the message is the whole explanation."""


@dataclass(frozen=True)
class Folder:
    """A folder the command was pointed at, and where that came from (for messages)."""

    path: Path
    source: str  # e.g. "--landing data/x", "ECOM_LANDING_DIR=/srv/landing"


def folder_from(flag_value: str | None, flag: str, env: str) -> Folder:
    """The flag when given, else the environment variable when set, else its default (DEFAULT_FOLDERS)."""
    if flag_value is not None:
        return Folder(Path(flag_value), f"{flag} {flag_value}")
    from_env = os.environ.get(env, "").strip()
    if from_env:
        return Folder(Path(from_env), f"{env}={from_env}")
    default = DEFAULT_FOLDERS[env]
    return Folder(Path(default), f"the default {default} (neither {flag} nor {env} is set)")


def existing_folder(folder: Folder, what: str) -> Path:
    """The folder, resolved; UsageError when it is missing, not a folder, or unreadable."""
    path = folder.path
    if not path.exists():
        raise UsageError(f"{folder.source}: no such folder (the {what})")
    if not path.is_dir():
        raise UsageError(f"{folder.source} is a file; it must be the {what}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"{folder.source}: the {what} cannot be read (permission denied)")
    return path.resolve()


def writable_folder(folder: Folder, what: str) -> Path:
    """The folder, resolved, when it is a writable folder or can be created; UsageError otherwise."""
    path = folder.path.absolute()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{folder.source} is a file; it must be the {what}")
    ancestor = next(p for p in (path, *path.parents) if p.exists())
    if not ancestor.is_dir():
        raise UsageError(f"{folder.source}: cannot create the {what}, {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        verb = "write to" if ancestor == path else f"create the {what} in"
        raise UsageError(f"{folder.source}: cannot {verb} {ancestor} (permission denied)")
    return path.resolve()


def iso_date(text: str) -> date:
    """argparse type of a date flag."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type of a count flag."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return int(text)


def non_negative_int(text: str) -> int:
    """argparse type of --seed."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of at least 0: {text!r}")
    return int(text)
