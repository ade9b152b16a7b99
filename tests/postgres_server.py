"""A throwaway PostgreSQL server for the tests: Debian's server binaries, on loopback, in a temp dir.

`make test` installs the binaries when they are missing (`make postgres`). The server runs as the
current user, or as the `postgres` system user when the tests run as root (PostgreSQL refuses root),
listens on 127.0.0.1 at a free port with trust authentication for its superuser `ecom`, and trades
durability for speed (no fsync): it lives for one test session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "ecom"
SERVER_SETTINGS = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                   "-c", "unix_socket_directories=", "-c", "listen_addresses=127.0.0.1"]


@dataclass(frozen=True)
class PostgresServer:
    port: int
    root: Path

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"


def bin_dir() -> Path:
    """pg_ctl's folder: on PATH, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not debian:
        pytest.fail("PostgreSQL server binaries are missing: `make test` installs them "
                    "(apt-get install -y postgresql)")
    return debian[-1].parent


def _server_user() -> str | None:
    """Who runs the server: None (the current user), or `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("tests run as root and there is no `postgres` user to run PostgreSQL as "
                    "(Debian's postgresql package creates it)")
    return "postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], user: str | None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, user=user, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def start() -> PostgresServer:
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="ecom-postgres-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    binaries = bin_dir()
    data = root / "data"
    _run([str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
          "-E", "UTF8", "--locale=C"], user)
    port = _free_port()
    options = " ".join([*SERVER_SETTINGS, "-p", str(port)])
    _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options,
          "-w", "start"], user)
    return PostgresServer(port, root)


def stop(server: PostgresServer) -> None:
    try:
        _run([str(bin_dir() / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"],
             _server_user())
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
