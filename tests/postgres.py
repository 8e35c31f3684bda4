"""A private PostgreSQL server for the store tests (../shared/design/testing-recipes.md).

Started once per test process on a free loopback port in a fresh directory, as the `postgres`
user when the tests run as root (PostgreSQL refuses root), and stopped and removed at exit.
Each test gets its own database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def server_binaries() -> str | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found else None


def _binaries() -> str:
    found = server_binaries()
    if found is None:
        raise RuntimeError("PostgreSQL server binaries are missing: `make test` installs Debian's postgresql")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_server() -> Iterator[str]:
    """Yield an admin URL (`postgresql+psycopg://app@127.0.0.1:PORT/postgres`)."""
    binaries = _binaries()
    folder = tempfile.mkdtemp(prefix="dosewise-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    port = _free_port()
    pg_ctl = os.path.join(binaries, "pg_ctl")
    try:
        subprocess.run(
            _as_server_user([os.path.join(binaries, "initdb"), "-D", data, "-U", "app", "-A", "trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
        subprocess.run(
            _as_server_user([pg_ctl, "-D", data, "-l", os.path.join(folder, "server.log"), "-w", "-t", "30",
                             "-o", options, "start"]),
            check=True, capture_output=True,
        )  # fmt: skip
        yield f"postgresql+psycopg://app@127.0.0.1:{port}/postgres"
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                _as_server_user([pg_ctl, "-D", data, "-m", "fast", "stop"]), check=False, capture_output=True
            )
        shutil.rmtree(folder, ignore_errors=True)


def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh database: (its URL, its name)."""
    from sqlalchemy import create_engine, text

    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
