"""The Chromium harness of the steward-report test catches what it must: console errors, the text."""

from __future__ import annotations

from pathlib import Path

from chromium_page import render


def test_a_script_error_and_a_console_error_are_reported(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text('<p>shown <b>42</b></p><script>console.error("boom"); missing();</script>')
    rendered = render(page, tmp_path / "broken.png", height=400)
    assert len(rendered.console) == 2
    assert '"boom"' in rendered.console[0] and "missing is not defined" in rendered.console[1]
    assert rendered.text == "shown 42"
    assert rendered.screenshot.stat().st_size > 0


def test_a_clean_page_has_no_console_message(tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text("<p>all good</p>")
    assert render(page, tmp_path / "clean.png", height=400).console == []
