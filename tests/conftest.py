"""Fixtures shared by the unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import postgres_server as postgres_server_module
from ecom.config import Settings
from postgres_server import PostgresServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked slow run first, the longest first; the others keep their order.

    xdist hands whole modules to the two workers in this order (--dist loadfile, --no-loadscope-reorder
    in pyproject), so the long pipeline runs start at once, one per worker, and the short modules fill
    in around them. By default xdist would start the modules with the most tests first, and the slowest
    modules, which have few tests, would start last and end alone on one worker.
    """
    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return marker.args[0] if marker else 0.0

    items.sort(key=seconds, reverse=True)  # stable: a module's tests stay together and in order


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a run on empty landing and warehouse folders under tmp_path (default time zone).

    Modules that need a seeded warehouse override this fixture by name and build on it.
    """
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "warehouse")
    settings.landing_dir.mkdir()
    settings.warehouse_dir.mkdir()
    return settings


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own for the session (started on first use, stopped at the end)."""
    server = postgres_server_module.start()
    try:
        yield server
    finally:
        postgres_server_module.stop(server)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped afterwards."""
    import psycopg

    database = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    yield postgres_server.url(database)
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
