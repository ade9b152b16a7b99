"""Render a local HTML page in headless Chromium (Debian's `chromium`): its text, console, screenshot.

`make test` installs chromium when it is missing. Console messages are read from Chromium's own log
(`--enable-logging=stderr`): every `console.*` call and every uncaught error is one CONSOLE line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
CONSOLE_LINE = re.compile(r":CONSOLE[:(].*")


@dataclass(frozen=True)
class RenderedPage:
    text: str  # the visible text of the DOM after load, whitespace collapsed
    console: list[str]  # console messages and uncaught errors
    screenshot: Path


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    return found


def render(page: Path, screenshot: Path, height: int = 6000) -> RenderedPage:
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dump = _run([chromium(), *FLAGS, f"--user-data-dir={profile}/dom", "--dump-dom", url])
        _run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}/shot",
                f"--screenshot={screenshot}",
                f"--window-size=1280,{height}",
                "--hide-scrollbars",
                url,
            ]
        )
    # The console of the DOM dump's load (the screenshot's load logs the same messages again).
    return RenderedPage(text=_visible_text(dump.stdout), console=_console(dump.stderr), screenshot=screenshot)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def _console(stderr: str) -> list[str]:
    return [match.group(0) for line in stderr.splitlines() if (match := CONSOLE_LINE.search(line))]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skipping += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skipping -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
