"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecom.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a run on empty landing and warehouse folders under tmp_path (default time zone).

    Modules that need a seeded warehouse override this fixture by name and build on it.
    """
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse")
    settings.landing_dir.mkdir()
    settings.warehouse_dir.mkdir()
    return settings
