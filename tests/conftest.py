"""Shared fixtures: the real monograph, products as a patient would name them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from dosewise.domain.monograph import Monograph
from dosewise.monographs import load_monograph
from dosewise.store.database import build_engine, upgrade_database

DATA = Path(__file__).parent / "data"


def load_data(name: str) -> dict[str, Any]:
    with (DATA / name).open("rb") as file:
        return tomllib.load(file)


@pytest.fixture(scope="session")
def monograph() -> Monograph:
    return load_monograph("baclofen")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `dosewise ARGV` in-process: (exit code, stdout, stderr)."""
    from dosewise.cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def run_cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """Run `dosewise ARGV --json`; it must succeed silently on stderr."""
    import json

    code, out, err = run_cli(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Any:
    """A private PostgreSQL server for this test process (tests/postgres.py)."""
    from postgres import running_server

    with running_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """A fresh database: SQLite, then a private PostgreSQL server (every user runs twice)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'diary.sqlite3'}"
        return
    from postgres import create_database, drop_database

    admin = request.getfixturevalue("postgres_admin_url")
    url, name = create_database(admin)
    yield url
    drop_database(admin, name)


@pytest.fixture
def engine(database_url: str) -> Any:
    """The diary database at the head of the migrations."""
    engine = build_engine(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()
