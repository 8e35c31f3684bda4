"""Shared fixtures: the real monograph, databases, the web app.

The tests mirror the layers (tests/domain, store, services, exporters, cli, web; tests/e2e
drives the browser). Two markers say what a test needs beyond Python:

- ``postgres``: a private PostgreSQL server (every test on ``database_url`` runs on SQLite and
  on PostgreSQL; tests/postgres.py starts the server);
- ``browser``: Debian's Chromium (tests/e2e).

Locally a missing server or browser is a clear skip, saying how to get it; ``make test`` sets
``DOSEWISE_REQUIRE_ALL=1``, so there (and in CI) a missing one fails the run instead.
``pytest -m "not postgres and not browser"`` is the quick run.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from dosewise.domain.monograph import Monograph
from dosewise.monographs import load_monograph
from dosewise.store.database import build_engine, upgrade_database

DATA = Path(__file__).parent / "data"
REQUIRE_ALL = os.environ.get("DOSEWISE_REQUIRE_ALL") == "1"


def missing(what: str) -> None:
    """Skip locally, fail under ``make test``: a test that needs ``what`` cannot run here."""
    message = f"{what} (`make test` installs it)"
    if REQUIRE_ALL:
        pytest.fail(message + " - DOSEWISE_REQUIRE_ALL is set, so this is an error, not a skip")
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if "e2e" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.browser)


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
    from postgres import running_server, server_binaries

    if server_binaries() is None:
        missing("PostgreSQL's server is not installed")
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


# --- the web app (issue 6) -------------------------------------------------------------------


def web_settings(database_url: str) -> Any:
    """Test settings: a real secret, cheap argon2 (the hash is still argon2id)."""
    from dosewise.web.settings import Argon2Cost, Settings

    return Settings(
        database_url=database_url,
        secret_key="test-secret-" + "k" * 40,
        environment="test",
        secure_cookies=False,
        argon2=Argon2Cost(time_cost=1, memory_kib=8, parallelism=1),
    )


def web_settings_for_months(database_url: str) -> Any:
    """Test settings for tests that follow a plan over weeks or months with one sign-in: their
    sessions do not end (the session limits are tested in tests/web/test_web_sign_in_limits.py)."""
    from dataclasses import replace
    from datetime import timedelta

    from dosewise.services.auth import SessionPolicy

    years = timedelta(days=3650)
    policy = SessionPolicy(absolute_lifetime=years, idle_limit=years)
    return replace(web_settings(database_url), session_policy=policy)


@pytest.fixture
def web_app(tmp_path: Path) -> Any:
    from dosewise.web.app import create_app

    return create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"))


@pytest.fixture
def web(web_app: Any) -> Any:
    """A browser-like client of the app (cookies kept), started and stopped with it."""
    from fastapi.testclient import TestClient

    with TestClient(web_app, follow_redirects=False) as client:
        yield client


def csrf_of(page_html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


def sign_up(
    client: Any,
    email: str,
    role: str = "patient",
    *,
    name: str = "",
    zone: str = "Europe/London",
    verified: bool = True,
) -> int:
    """Sign up through the form (as a browser would); returns the user id. Stays signed in.

    A clinician is then verified by an administrator (issue 15: the clinician powers need it),
    unless ``verified`` is False."""
    page = client.get("/sign-up")
    response = client.post(
        "/sign-up",
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "password": "correct horse battery",
            "display_name": name or email.split("@", maxsplit=1)[0].title(),
            "role": role,
            "time_zone": zone,
        },
    )
    assert response.status_code == 303, response.text
    if role == "clinician" and verified:
        verify_clinician(client.app.state.context.engine, email)
    return int(client.get("/api/me").json()["id"])


def verify_clinician(engine: Any, email: str) -> None:
    """An administrator verifies the clinician account (as ``dosewise admin verify-clinician``)."""
    from datetime import UTC, datetime

    from dosewise.services.admin import set_verified

    set_verified(engine, email=email, verified=True, now=datetime.now(tz=UTC), actor="test")


def page_token(client: Any, path: str = "/account") -> str:
    """The signed-in user's CSRF token, read from a page as a browser would."""
    return csrf_of(client.get(path).text)


# --- notifications (issue 14): a local push service and SMTP server -------------------------


@pytest.fixture
def push_service() -> Any:
    """A browser's push service on 127.0.0.1 that decrypts what it gets (tests/push_service.py)."""
    from push_service import PushService

    with PushService() as service:
        yield service


@pytest.fixture
def smtp_server() -> Any:
    """An SMTP server on 127.0.0.1 that keeps every message (tests/smtp_server.py)."""
    from smtp_server import SmtpServer

    with SmtpServer() as server:
        yield server
