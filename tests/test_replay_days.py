"""`ecom run --from --to` replays days in order, each as of that day, and stops at the first failure;
`ecom generate --scale` names a size."""

from __future__ import annotations

from datetime import date

import pytest

from ecom import cli
from ecom.generate import SCALES, scale_named
from ecom.orchestrate import replay_days


def recording_run(results: dict[date, int]):
    calls: list[date] = []

    def run(as_of: date) -> int:
        calls.append(as_of)
        return results.get(as_of, 0)

    return run, calls


def test_days_are_replayed_in_order_each_as_of_itself() -> None:
    run, calls = recording_run({})
    assert replay_days(date(2024, 2, 27), date(2024, 3, 2), run) == 0
    assert calls == [date(2024, 2, 27), date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1),
                     date(2024, 3, 2)]


def test_a_failed_day_stops_the_replay_with_its_exit_code(capsys) -> None:
    run, calls = recording_run({date(2024, 3, 2): 1})
    assert replay_days(date(2024, 3, 1), date(2024, 3, 5), run) == 1
    assert calls == [date(2024, 3, 1), date(2024, 3, 2)]
    assert "resume with --from 2024-03-02" in capsys.readouterr().out


def test_scale_presets() -> None:
    assert tuple(SCALES) == cli.SCALE_NAMES
    assert [SCALES[name].customers for name in cli.SCALE_NAMES] == [10_000, 200_000, 1_000_000]
    assert {scale.days for scale in SCALES.values()} == {365}
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        scale_named("huge")


def test_full_refresh_is_passed_to_the_dag_run(monkeypatch, tmp_path) -> None:
    import subprocess
    import sys

    from ecom import orchestrate
    from ecom.config import Settings

    seen: list[list[str]] = []

    def fake_run(command: list[str], env: dict[str, str], check: bool,
                 pass_fds: tuple[int, ...]) -> subprocess.CompletedProcess:
        seen.append(command)
        return subprocess.CompletedProcess(command, returncode=0)

    monkeypatch.setattr(orchestrate.subprocess, "run", fake_run)
    settings = Settings(landing_dir=tmp_path / "l", warehouse_dir=tmp_path / "wh", as_of=date(2024, 3, 1))
    orchestrate.run_pipeline(settings, full_refresh=True)
    assert seen == [[sys.executable, "-m", "ecom.orchestrate", "2024-03-01", "--full-refresh"]]
