"""Accounts and the security a user relies on without seeing it: argon2 hashes, database
sessions in signed HttpOnly cookies, CSRF on every form, sign-in rate limits, headers,
settings that refuse a placeholder secret, export and deletion of everything."""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_of, page_token, sign_up, web_settings
from dosewise.errors import InputError
from dosewise.store.models import AuditRow, PatientRow, UserRow, WebSessionRow
from dosewise.web.app import create_app, route_table
from dosewise.web.context import SESSION_COOKIE
from dosewise.web.settings import Settings

PASSWORD = "correct horse battery"


def _count(engine: Any, model: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)))


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    form = client.get("/sign-in")
    return client.post(
        "/sign-in", data={"csrf_token": csrf_of(form.text), "email": email, "password": password}
    )


def test_passwords_are_argon2_and_sessions_are_stored_as_hashes(web: TestClient) -> None:
    sign_up(web, "ana@example.org")
    engine = web.app.state.context.engine
    with engine.connect() as connection:
        stored = connection.scalar(select(UserRow.password_hash))
        session_hash = connection.scalar(select(WebSessionRow.token_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    cookie = web.cookies[SESSION_COOKIE]
    token = cookie.strip('"').rsplit(".", 1)[0]
    assert token not in session_hash and len(session_hash) == 64


def test_the_session_cookie_is_signed_http_only_and_same_site(web_app: Any) -> None:
    with TestClient(web_app, follow_redirects=False) as client:
        form = client.get("/sign-up")
        response = client.post(
            "/sign-up",
            data={
                "csrf_token": csrf_of(form.text),
                "email": "bo@example.org",
                "password": PASSWORD,
                "display_name": "Bo",
                "role": "patient",
                "time_zone": "UTC",
            },
        )
        header = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
        )
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
        # a tampered cookie is nobody
        value = client.cookies[SESSION_COOKIE].strip('"')
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
        assert client.get("/account").status_code == 303


def test_sessions_live_in_the_database_so_another_worker_serves_the_user(tmp_path: Any) -> None:
    """Two app instances (two workers) on one database: signed in on one, known on the other."""
    settings = web_settings(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    with TestClient(create_app(settings), follow_redirects=False) as one:
        sign_up(one, "cy@example.org")
        cookie = one.cookies[SESSION_COOKIE]
    with TestClient(create_app(settings), follow_redirects=False) as two:
        two.cookies.set(SESSION_COOKIE, cookie)
        assert two.get("/api/me").json()["email"] == "cy@example.org"


def test_signing_out_ends_the_session_on_the_server(web: TestClient) -> None:
    sign_up(web, "di@example.org")
    cookie = web.cookies[SESSION_COOKIE]
    assert web.post("/sign-out", data={"csrf_token": page_token(web)}).status_code == 303
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, cookie)  # a copy of the old cookie no longer works
    assert web.get("/api/me").status_code == 401


def test_every_form_needs_its_csrf_token_and_nothing_is_stored_without_it(web: TestClient) -> None:
    user = sign_up(web, "ed@example.org")
    engine = web.app.state.context.engine
    patient = web.get("/").headers["location"].split("/")[2]
    audit_before = _count(engine, AuditRow)
    for token in ("", "not-the-token"):
        response = web.post(f"/patients/{patient}/diary/notes", data={"csrf_token": token, "text": "hello"})
        assert response.status_code == 403 and "reload the page" in response.text
        api = web.post(
            f"/api/patients/{patient}/notes", json={"text": "hello"}, headers={"x-csrf-token": token}
        )
        assert api.status_code == 403
    assert _count(engine, AuditRow) == audit_before
    anonymous = TestClient(web.app, follow_redirects=False)
    refused = anonymous.post("/sign-in", data={"email": "ed@example.org", "password": PASSWORD})
    assert refused.status_code == 403
    assert user


def test_every_page_form_carries_the_token(web: TestClient) -> None:
    """Every <form method="post"> the pages render has the hidden CSRF field."""
    sign_up(web, "fa@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    pages = [
        f"/patients/{patient}/{p}"
        for p in ("today", "plans", "diary", "triage", "medicines", "missed", "access")
    ] + ["/account", "/join"]
    forms = 0
    for page in pages:
        html = web.get(page).text
        for form in re.findall(r'<form method="post".*?</form>', html, flags=re.S):
            forms += 1
            assert 'name="csrf_token"' in form, (page, form[:120])
    assert forms >= 10


def test_sign_in_is_rate_limited_across_workers(tmp_path: Any) -> None:
    settings = web_settings(f"sqlite:///{tmp_path / 'limit.sqlite3'}")
    limit = settings.sign_in_limits.max_failures_per_email_and_client
    with TestClient(create_app(settings), follow_redirects=False) as one:
        sign_up(one, "gi@example.org")
    with (
        TestClient(create_app(settings), follow_redirects=False) as one,
        TestClient(create_app(settings), follow_redirects=False) as two,
    ):
        for attempt in range(limit):
            wrong = _sign_in(one if attempt % 2 else two, "gi@example.org", "wrong password!")
            assert wrong.status_code == 400 and "wrong email or password" in wrong.text
        blocked = _sign_in(two, "GI@example.org")  # the right password, now too late
        assert blocked.status_code == 429 and "too many failed sign-ins" in blocked.text
        assert "wait 30 seconds" in blocked.text and blocked.headers["retry-after"] == "30"


def test_a_stranger_cannot_lock_a_person_out(tmp_path: Any) -> None:
    """Five wrong passwords from one address block that address for that account, not the
    account's owner signing in from elsewhere."""
    settings = web_settings(f"sqlite:///{tmp_path / 'lockout.sqlite3'}")
    app = create_app(settings)
    with (
        TestClient(app, follow_redirects=False, client=("203.0.113.9", 4000)) as stranger,
        TestClient(app, follow_redirects=False, client=("198.51.100.7", 5000)) as owner,
    ):
        sign_up(owner, "victim@example.org")
        owner.post("/sign-out", data={"csrf_token": page_token(owner)})
        for _ in range(settings.sign_in_limits.max_failures_per_email_and_client):
            assert _sign_in(stranger, "victim@example.org", "guess guess guess").status_code == 400
        assert _sign_in(stranger, "victim@example.org").status_code == 429
        assert _sign_in(owner, "victim@example.org").status_code == 303


def test_a_good_sign_in_clears_the_failures(web: TestClient) -> None:
    sign_up(web, "ha@example.org")
    web.post("/sign-out", data={"csrf_token": page_token(web)})
    for _ in range(4):
        assert _sign_in(web, "ha@example.org", "nope nope nope").status_code == 400
    assert _sign_in(web, "ha@example.org").status_code == 303
    web.post("/sign-out", data={"csrf_token": page_token(web)})
    for _ in range(5):  # five again, not one
        assert _sign_in(web, "ha@example.org", "nope nope nope").status_code == 400
    assert _sign_in(web, "ha@example.org").status_code == 429


def test_an_unknown_email_and_a_wrong_password_read_the_same(web: TestClient) -> None:
    sign_up(web, "ib@example.org")
    web.post("/sign-out", data={"csrf_token": page_token(web)})
    unknown = _sign_in(web, "nobody@example.org")
    wrong = _sign_in(web, "ib@example.org", "not my password")
    assert unknown.status_code == wrong.status_code == 400
    assert "wrong email or password" in unknown.text and "wrong email or password" in wrong.text


def test_changing_the_password_signs_out_other_devices(web_app: Any) -> None:
    with (
        TestClient(web_app, follow_redirects=False) as phone,
        TestClient(web_app, follow_redirects=False) as laptop,
    ):
        sign_up(phone, "jo@example.org")
        assert _sign_in(laptop, "jo@example.org").status_code == 303
        changed = phone.post(
            "/account/password",
            data={"csrf_token": page_token(phone), "current": PASSWORD, "new": "a brand new secret"},
        )
        assert changed.status_code == 303
        assert phone.get("/api/me").status_code == 200  # this device stays signed in
        assert laptop.get("/api/me").status_code == 401
        laptop.cookies.clear()
        assert _sign_in(laptop, "jo@example.org").status_code == 400
        assert _sign_in(laptop, "jo@example.org", "a brand new secret").status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "enter an email address"),
        ({"password": "short"}, "at least 10 characters"),
        ({"role": "admin"}, "choose patient, caregiver or clinician"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"display_name": "   "}, "enter your name"),
    ],
)
def test_sign_up_says_what_to_fix_and_stores_nothing(
    web: TestClient, fields: dict[str, str], message: str
) -> None:
    form = web.get("/sign-up")
    data = {
        "csrf_token": csrf_of(form.text),
        "email": "ka@example.org",
        "password": PASSWORD,
        "display_name": "Ka",
        "role": "patient",
        "time_zone": "UTC",
        **fields,
    }
    response = web.post("/sign-up", data=data)
    assert response.status_code == 400 and message in response.text
    assert 'value="Ka"' in response.text or fields.get("display_name")  # the form comes back filled in
    assert _count(web.app.state.context.engine, UserRow) == 0


def test_the_same_email_cannot_sign_up_twice(web_app: Any) -> None:
    with (
        TestClient(web_app, follow_redirects=False) as first,
        TestClient(web_app, follow_redirects=False) as again,
    ):
        sign_up(first, "la@example.org")
        form = again.get("/sign-up")
        response = again.post(
            "/sign-up",
            data={
                "csrf_token": csrf_of(form.text),
                "email": "LA@example.org ",
                "password": PASSWORD,
                "display_name": "La",
                "role": "patient",
                "time_zone": "UTC",
            },
        )
        assert response.status_code == 400 and "sign in instead" in response.text


def test_security_headers_on_pages_api_and_errors(web: TestClient) -> None:
    sign_up(web, "ma@example.org")
    for response in (web.get("/account"), web.get("/api/me"), web.get("/no/such/page"), web.get("/sign-in")):
        headers = response.headers
        csp = headers["content-security-policy"]
        script = next(part for part in csp.split(";") if "script-src" in part)
        assert "'unsafe-inline'" not in script and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"


def test_no_page_has_an_inline_script_or_style(web: TestClient) -> None:
    sign_up(web, "na@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    for page in ("today", "plans", "diary", "triage", "medicines", "missed", "report", "access"):
        html = web.get(f"/patients/{patient}/{page}").text
        # one script, from the site's own file (issue 14: app.js), never a script in the page
        assert re.findall(r"<script\b[^>]*>[^<]*</script>", html) == [
            '<script src="/static/app.js"></script>'
        ]
        assert html.count("<script") == 1 and "<style" not in html and " style=" not in html, page
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, page


def test_static_assets_are_served_locally(web: TestClient) -> None:
    css = web.get("/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("secret", ["", "change-me", "short"])
def test_a_placeholder_secret_is_refused_outside_development(secret: str) -> None:
    with pytest.raises(InputError, match="DOSEWISE_SECRET_KEY"):
        Settings(database_url="sqlite://", secret_key=secret, environment="production")
    assert (
        Settings(database_url="sqlite://", secret_key=secret, environment="development").secret_key == secret
    )


def test_settings_from_the_environment(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    env = {"DOSEWISE_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "DOSEWISE_ENV": "development"}
    dev = Settings.from_environment(env)
    assert len(dev.secret_key) >= 32 and dev.secure_cookies is False
    assert Settings.from_environment(env).secret_key == dev.secret_key  # kept across restarts
    kept = next((tmp_path / "data").rglob("development-secret-key"))
    assert kept.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InputError, match="DOSEWISE_SECRET_KEY"):
        Settings.from_environment({**env, "DOSEWISE_ENV": "production"})
    key = secrets.token_urlsafe(48)  # "s" * 48 is refused since issue 15 (test_web_limits.py)
    prod = Settings.from_environment({**env, "DOSEWISE_ENV": "production", "DOSEWISE_SECRET_KEY": key})
    assert prod.secure_cookies is True


def test_a_patient_exports_everything_without_secrets(web: TestClient) -> None:
    sign_up(web, "oa@example.org", name="Oa Patient")
    patient = web.get("/").headers["location"].split("/")[2]
    web.post(
        f"/patients/{patient}/diary/notes", data={"csrf_token": page_token(web), "text": "a note for Dr"}
    )
    response = web.get("/account/export.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"csv/manifest.json", "csv/notes.csv", "csv/users.csv", "fhir-bundle.json"} <= names
    assert "a note for Dr" in archive.read("csv/notes.csv").decode()
    users = archive.read("csv/users.csv").decode()
    assert "oa@example.org" in users and "$argon2" not in users
    assert not any("web_sessions" in name or "sign_in_counters" in name for name in names)
    assert json.loads(archive.read("fhir-bundle.json"))["resourceType"] == "Bundle"


def test_deleting_the_account_deletes_the_diary_and_signs_out(web: TestClient) -> None:
    sign_up(web, "pa@example.org")
    engine = web.app.state.context.engine
    patient = web.get("/").headers["location"].split("/")[2]
    web.post(f"/patients/{patient}/diary/notes", data={"csrf_token": page_token(web), "text": "note"})
    wrong = web.post(
        "/account/delete", data={"csrf_token": page_token(web), "password": "nope", "confirm": "DELETE"}
    )
    assert wrong.status_code == 400 and _count(engine, PatientRow) == 1
    unconfirmed = web.post("/account/delete", data={"csrf_token": page_token(web), "password": PASSWORD})
    assert unconfirmed.status_code == 400 and "type DELETE" in unconfirmed.text
    deleted = web.post(
        "/account/delete", data={"csrf_token": page_token(web), "password": PASSWORD, "confirm": "delete"}
    )
    assert deleted.status_code == 303
    assert (_count(engine, PatientRow), _count(engine, UserRow), _count(engine, WebSessionRow)) == (0, 0, 0)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(AuditRow.patient_id == int(patient))) == 0
    assert web.get("/api/me").status_code == 401


def test_every_page_route_is_a_real_page(web: TestClient) -> None:
    """A smoke walk of the GET pages a patient sees: each renders, with the disclaimer."""
    sign_up(web, "qa@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    form = {
        "csrf_token": page_token(web),
        "kind": "titration",
        "target_mg_day": "30",
        "start": "2026-11-01",
        "started_earlier": "yes",  # already on it: its doses are planned from now on
        "kidney_way": "crcl",
        "crcl_ml_min": "45",
    }
    preview = web.post(f"/patients/{patient}/plans", data={**form, "action": "preview"})
    assert preview.status_code == 200, preview.text
    draft = dict(
        re.findall(r'<input type="hidden" name="(draft|previewed_takeover)" value="([^"]+)">', preview.text)
    )
    saved = web.post(f"/patients/{patient}/plans", data={**form, **draft, "action": "save"})
    assert saved.status_code == 303
    walked = 0
    for route in route_table():
        if (
            "GET" not in route.methods
            or route.path.startswith("/api/")
            or route.path.startswith("/admin/")  # administrators' (tests/web/test_web_verified_clinicians.py)
            or "{" in route.path.replace("{patient_id}", "")
        ):
            continue
        path = route.path.format(patient_id=patient)
        response = web.get(path)
        walked += 1
        if response.status_code == 303:
            continue
        assert response.status_code == 200, (path, response.status_code)
        if response.headers["content-type"].startswith("text/html"):
            assert "agree" in response.text.lower(), path
    assert walked >= 12


def test_pages_that_only_read_do_not_wait_for_a_writer(tmp_path: Any) -> None:
    """SQLite: while another process holds the write lock (a long import, a burst of sign-ins),
    Today still answers; before, every request queued behind it and failed after the busy
    timeout with "database is locked"."""
    import sqlite3

    path = tmp_path / "busy.sqlite3"
    with TestClient(create_app(web_settings(f"sqlite:///{path}")), follow_redirects=False) as client:
        sign_up(client, "ra@example.org")
        patient = client.get("/").headers["location"].split("/")[2]
        writer = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # held for the whole request below
            for page in ("today", "diary", "report"):
                assert client.get(f"/patients/{patient}/{page}").status_code == 200, page
            assert client.get(f"/api/patients/{patient}/today").status_code == 200
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_what_people_type_is_shown_as_text_never_as_markup(web: TestClient) -> None:
    """A name, a note or a medicine with HTML in it comes back escaped on every page."""
    sign_up(web, "sa@example.org", name="<b>Sam</b>")
    patient = web.get("/").headers["location"].split("/")[2]
    token = page_token(web)
    web.post(
        f"/patients/{patient}/diary/notes", data={"csrf_token": token, "text": "<img src=x onerror=alert(1)>"}
    )
    web.post(f"/patients/{patient}/medicines", data={"csrf_token": token, "name": "<i>tramadol</i>"})
    for page in ("today", "diary", "medicines", "report"):
        html = web.get(f"/patients/{patient}/{page}").text
        assert "<b>Sam</b>" not in html and "&lt;b&gt;Sam&lt;/b&gt;" in html, page
        assert "<img src=x" not in html and "<i>tramadol" not in html, page
    assert "&lt;img src=x onerror=alert(1)&gt;" in web.get(f"/patients/{patient}/diary").text
    assert "&lt;i&gt;tramadol&lt;/i&gt;" in web.get(f"/patients/{patient}/medicines").text


def test_a_form_sent_after_the_session_ended_returns_to_its_page_after_sign_in(web: TestClient) -> None:
    sign_up(web, "ta@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    web.cookies.clear()
    response = web.post(
        f"/patients/{patient}/doses/1",
        data={"status": "taken"},
        headers={"referer": f"http://testserver/patients/{patient}/today"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=%2Fpatients%2F{patient}%2Ftoday"
    elsewhere = web.post(f"/patients/{patient}/doses/1", headers={"referer": "https://evil.example/x"})
    assert elsewhere.headers["location"] == "/sign-in?next=%2F"


def test_https_deployments_send_strict_transport_security(tmp_path: Any) -> None:
    from dataclasses import replace

    settings = replace(web_settings(f"sqlite:///{tmp_path / 'tls.sqlite3'}"), secure_cookies=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/sign-in").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(create_app(web_settings(f"sqlite:///{tmp_path / 'plain.sqlite3'}"))) as client:
        assert "strict-transport-security" not in client.get("/sign-in").headers


def test_the_not_found_page_keeps_the_signed_in_header(web: TestClient) -> None:
    sign_up(web, "va@example.org")
    page = web.get("/no/such/page")
    assert page.status_code == 404 and "Not found" in page.text and "Sign out" in page.text
