"""Verified clinicians (issue 15): anyone can sign up as a clinician, so the clinician powers
(the override, confirming a plan) wait until an administrator verifies the account; patients
see an unverified clinician as such. On SQLite and PostgreSQL.

The attack run: a patient invited their own second account, signed up as a clinician, which then
saved a 110 mg/day plan with the clinician override (201)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import page_token, run_cli, sign_up, web_settings
from dosewise.store.models import AuditRow, NotificationRow
from dosewise.web.app import create_app

ZONE = "UTC"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
HIGH_DOSE = {"kind": "maintenance", "mg_day": 110, "start": "2026-12-01", "doses_per_day": 3}


@pytest.fixture
def app(database_url: str) -> Any:
    return create_app(web_settings(database_url), clock=lambda: NOW)


@pytest.fixture
def browsers(app: Any) -> Iterator[Any]:
    with ExitStack() as stack:

        def new() -> TestClient:
            return stack.enter_context(TestClient(app, follow_redirects=False))

        yield new


@pytest.fixture
def patient(browsers: Any) -> tuple[TestClient, int]:
    client = browsers()
    sign_up(client, "pat@example.org", zone=ZONE)
    return client, int(client.get("/").headers["location"].split("/")[2])


@pytest.fixture
def doctor(browsers: Any, patient: tuple[TestClient, int]) -> TestClient:
    """The patient's second account, signed up as a clinician (not verified) and invited."""
    client, patient_id = patient
    page = client.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/access"), "role": "clinician"},
    )
    code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert code, page.text
    other = browsers()
    sign_up(other, "doc@example.org", role="clinician", name="Dr Self", zone=ZONE, verified=False)
    joined = other.post("/join", data={"csrf_token": page_token(other, "/join"), "code": code[1]})
    assert joined.status_code == 303
    return other


def _headers(client: TestClient) -> dict[str, str]:
    return {"x-csrf-token": page_token(client)}


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _cli(capsys: Any, database_url: str, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "admin", *argv, "--database-url", database_url)


def test_an_unverified_clinician_cannot_override_until_an_administrator_verifies_them(
    doctor: TestClient, patient: tuple[TestClient, int], database_url: str, capsys: Any
) -> None:
    _, patient_id = patient
    url = f"/api/patients/{patient_id}/plans"
    plain = doctor.post(url, json=HIGH_DOSE, headers=_headers(doctor))
    assert plain.status_code == 422  # above 80 mg/day: the override is needed
    attack = doctor.post(url, json={**HIGH_DOSE, "clinician_override": True}, headers=_headers(doctor))
    assert attack.status_code == 400, attack.text  # was 201
    assert attack.json()["field"] == "/clinician_override"
    assert "not verified yet" in attack.json()["detail"]
    assert "administrator" in attack.json()["detail"]
    assert doctor.get(f"/api/patients/{patient_id}/plan").status_code == 404  # nothing stored
    form = doctor.post(
        f"/patients/{patient_id}/plans",
        data={"csrf_token": page_token(doctor), "action": "preview", "kind": "maintenance",
              "mg_day": "110", "start": "2026-12-01", "clinician_override": "yes"},
    )  # fmt: skip
    assert form.status_code == 400 and "your clinician account is not verified yet" in _text(form.text)

    code, out, err = _cli(capsys, database_url, "verify-clinician", "DOC@example.org")
    assert (code, err) == (0, "") and "verified doc@example.org" in out

    done = doctor.post(url, json={**HIGH_DOSE, "clinician_override": True}, headers=_headers(doctor))
    assert done.status_code == 201, done.text
    assert done.json()["entered_as"] == "clinician"
    code, out, _ = _cli(capsys, database_url, "unverify-clinician", "doc@example.org")
    assert code == 0 and "no longer verified" in out
    again = doctor.post(url, json={**HIGH_DOSE, "clinician_override": True}, headers=_headers(doctor))
    assert again.status_code == 400  # revoked: from the next request on


def test_an_unverified_clinician_cannot_confirm_and_their_plan_waits_for_confirmation(
    doctor: TestClient, patient: tuple[TestClient, int], database_url: str, capsys: Any
) -> None:
    client, patient_id = patient
    mine = client.post(
        f"/api/patients/{patient_id}/plans",
        json={"kind": "maintenance", "mg_day": 30, "start": "2026-12-01"},
        headers=_headers(client),
    )
    assert mine.status_code == 201 and mine.json()["entered_as"] == "patient"
    plan_id = mine.json()["plan_id"]
    refused = doctor.post(f"/api/patients/{patient_id}/plans/{plan_id}/confirm", headers=_headers(doctor))
    assert refused.status_code == 403
    assert "not verified yet" in refused.json()["detail"]
    page = doctor.get(f"/patients/{patient_id}/plans")
    assert "Confirm this plan" not in page.text
    assert "Your clinician account is not verified yet." in _text(page.text)  # the banner

    theirs = doctor.post(
        f"/api/patients/{patient_id}/plans",
        json={"kind": "maintenance", "mg_day": 45, "start": "2026-12-01"},
        headers=_headers(doctor),
    )
    assert theirs.status_code == 201 and theirs.json()["entered_as"] == "unverified"
    assert theirs.json()["confirmed_at"] is None
    seen = _text(client.get(f"/patients/{patient_id}/plans").text)
    assert "Entered by a clinician whose account was not verified" in seen
    assert "not yet confirmed by a verified clinician" in seen
    with client.app.state.context.engine.connect() as connection:  # type: ignore[attr-defined]
        told = connection.execute(select(NotificationRow.title).where(NotificationRow.kind == "plan_changed"))
        assert set(told.scalars()) == {"Your baclofen plan was changed by Dr Self (clinician, not verified)"}

    assert _cli(capsys, database_url, "verify-clinician", "doc@example.org")[0] == 0
    confirmed = doctor.post(
        f"/api/patients/{patient_id}/plans/{theirs.json()['plan_id']}/confirm", headers=_headers(doctor)
    )
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"] is not None
    assert "Your clinician account is not verified yet." not in _text(doctor.get("/clinic").text)


def test_patients_see_an_unverified_clinician_as_such(
    doctor: TestClient, patient: tuple[TestClient, int], database_url: str, capsys: Any
) -> None:
    client, patient_id = patient
    assert doctor.get("/api/me").json()["verified"] is False
    assert client.get("/api/me").json()["verified"] is None  # not a clinician
    assert doctor.get("/api/patients").json()[0]["verified"] is False
    listed = client.get(f"/api/patients/{patient_id}/access")
    assert [(p["email"], p["role"], p["verified"]) for p in listed.json()] == [
        ("doc@example.org", "clinician", False)
    ]
    assert doctor.get(f"/api/patients/{patient_id}/access").status_code == 403  # the patient's list
    page = _text(client.get(f"/patients/{patient_id}/access").text)
    assert "your clinician (not verified)" in page
    banner = _text(doctor.get("/clinic").text)
    assert "Your clinician account is not verified yet." in banner
    assert "An administrator of this Dosewise installation verifies clinician accounts" in banner

    assert _cli(capsys, database_url, "verify-clinician", "doc@example.org")[0] == 0
    assert doctor.get("/api/me").json()["verified"] is True
    assert client.get(f"/api/patients/{patient_id}/access").json()[0]["verified"] is True
    assert "your clinician, verified" in _text(client.get(f"/patients/{patient_id}/access").text)


def test_the_clinician_page_is_for_administrators_only(
    browsers: Any,
    doctor: TestClient,
    patient: tuple[TestClient, int],
    database_url: str,
    capsys: Any,
    monkeypatch: Any,
) -> None:
    client, _ = patient
    for someone in (client, doctor):
        assert someone.get("/admin/clinicians").status_code == 404
        assert "/admin/clinicians" not in someone.get("/account").text  # no link in the header
        token = page_token(someone)
        assert someone.post("/admin/clinicians/2/verify", data={"csrf_token": token}).status_code == 404
    assert browsers().get("/admin/clinicians").status_code == 303  # sign in first

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = _cli(capsys, database_url, "create", "root@example.org", "--password-stdin")
    assert (code, err) == (0, "") and "administrator root@example.org created" in out
    admin = browsers()
    page = admin.get("/sign-in")
    signed = admin.post(
        "/sign-in",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1],  # type: ignore[index]
              "email": "root@example.org", "password": PASSWORD},
    )  # fmt: skip
    assert signed.status_code == 303
    assert admin.get("/").headers["location"] == "/admin/clinicians"
    listing = admin.get("/admin/clinicians")
    assert listing.status_code == 200
    assert 'href="/admin/clinicians"' in listing.text  # the header link, for administrators
    assert "Not verified" in _text(listing.text) and "doc@example.org" in listing.text
    doctor_id = doctor.get("/api/me").json()["id"]
    forged = admin.post(f"/admin/clinicians/{doctor_id}/verify", data={})
    assert forged.status_code == 403  # no CSRF token
    assert doctor.get("/api/me").json()["verified"] is False
    done = admin.post(f"/admin/clinicians/{doctor_id}/verify", data={"csrf_token": page_token(admin)})
    assert done.status_code == 303 and done.headers["location"] == "/admin/clinicians?done=verified"
    assert doctor.get("/api/me").json()["verified"] is True
    assert "Revoke" in admin.get("/admin/clinicians").text
    revoked = admin.post(f"/admin/clinicians/{doctor_id}/revoke", data={"csrf_token": page_token(admin)})
    assert revoked.headers["location"] == "/admin/clinicians?done=revoked"
    assert doctor.get("/api/me").json()["verified"] is False
    patient_id = client.get("/api/me").json()["id"]
    assert (
        admin.post(
            f"/admin/clinicians/{patient_id}/verify", data={"csrf_token": page_token(admin)}
        ).status_code
        == 404
    )

    engine = admin.app.state.context.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        trail = connection.execute(
            select(AuditRow.actor, AuditRow.action, AuditRow.entity_id)
            .where(AuditRow.action.in_(("create_admin", "verify_clinician", "unverify_clinician")))
            .order_by(AuditRow.id)
        ).all()
    admin_actor = f"user:{admin.get('/api/me').json()['id']}"
    assert [tuple(row) for row in trail] == [
        ("cli", "create_admin", int(admin_actor.removeprefix("user:"))),
        (admin_actor, "verify_clinician", doctor_id),
        (admin_actor, "unverify_clinician", doctor_id),
    ]


def test_the_admin_commands_say_what_is_wrong_with_exit_2(
    doctor: TestClient, database_url: str, capsys: Any, monkeypatch: Any
) -> None:
    code, _, err = _cli(capsys, database_url, "verify-clinician", "nobody@example.org")
    assert code == 2 and err == "dosewise: error: no account has the email nobody@example.org\n"
    code, _, err = _cli(capsys, database_url, "verify-clinician", "pat@example.org")
    assert code == 2 and "is a patient account, not a clinician" in err and err.count("\n") == 1
    code, _, err = _cli(capsys, database_url, "verify-clinician")
    assert code == 2 and err.count("\n") == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = _cli(capsys, database_url, "create", "root@example.org", "--password-stdin")
    assert code == 2 and "password" in err and err.count("\n") == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = _cli(capsys, database_url, "create", "doc@example.org", "--password-stdin")
    assert code == 2 and "exists" in err  # an administrator is a dedicated account
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = _cli(capsys, database_url, "create", "root@example.org")
    assert code == 2 and "--password-stdin" in err  # no terminal to ask on
    code, _, err = _cli(capsys, database_url, "create", "not-an-email", "--password-stdin")
    assert code == 2

    code, out, err = _cli(capsys, database_url, "clinicians")
    assert (code, err) == (0, "") and "NOT VERIFIED" in out and "doc@example.org" in out
    assert _cli(capsys, database_url, "verify-clinician", "doc@example.org")[0] == 0
    code, out, _ = _cli(capsys, database_url, "verify-clinician", "doc@example.org")
    assert code == 0 and "already verified: nothing changed" in out
    import json

    code, out, err = _cli(capsys, database_url, "clinicians", "--json")
    listed = json.loads(out)["clinicians"]
    assert (code, err) == (0, "")
    assert [(c["email"], c["verified"], c["verified_by"]) for c in listed] == [
        ("doc@example.org", True, "cli")
    ]


def test_nobody_signs_up_as_an_administrator_and_an_administrator_has_no_diary(
    browsers: Any, database_url: str, capsys: Any, monkeypatch: Any
) -> None:
    client = browsers()
    page = client.get("/sign-up")
    refused = client.post(
        "/sign-up",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1],  # type: ignore[index]
              "email": "root@example.org", "password": PASSWORD, "display_name": "Root", "role": "admin",
              "time_zone": ZONE},
    )  # fmt: skip
    assert refused.status_code == 400 and "choose patient, caregiver or clinician" in _text(refused.text)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        _cli(capsys, database_url, "create", "root@example.org", "--password-stdin", "--name", "Ops")[0] == 0
    )
    signed = client.post("/api/session", json={"email": "root@example.org", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json()["user"]["role"] == "admin"
    for path in ("/account", "/notifications", "/patients", "/admin/clinicians"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Use an invitation code" not in response.text and 'href="/clinic"' not in response.text
    assert "an administrator of this installation" in _text(client.get("/account").text)
    assert client.get("/api/patients").json() == []


def test_an_unverified_clinician_cannot_loosen_the_withdrawal_alerts(
    doctor: TestClient, patient: tuple[TestClient, int], database_url: str, capsys: Any
) -> None:
    """Found in review: the thresholds were a clinician's to set, verified or not, and the
    weakest ones were then shown as "set by a clinician"."""
    owner, patient_id = patient
    weakest = {"missed_in_row": 6, "late_hours": 24, "no_dose_hours": 72, "supply_warn_days": 1,
               "supply_caregivers_days": 1, "supply_urgent_days": 1}  # fmt: skip
    url = f"/api/patients/{patient_id}/alert-settings"
    refused = doctor.put(url, json=weakest, headers=_headers(doctor))
    assert refused.status_code == 403, refused.text
    assert "verified by an administrator" in refused.json()["detail"]
    page = doctor.get(f"/patients/{patient_id}/alerts")
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "once an administrator has verified the clinician account" in _text(page.text)
    form = doctor.post(f"/patients/{patient_id}/alerts", data={"csrf_token": page_token(doctor), **weakest})
    assert form.status_code == 403
    assert "product defaults" in _text(owner.get(f"/patients/{patient_id}/alerts").text)

    code, _, _ = _cli(capsys, database_url, "verify-clinician", "doc@example.org")
    assert code == 0
    assert doctor.put(url, json=weakest, headers=_headers(doctor)).status_code == 200
    assert "set by a clinician" in _text(owner.get(f"/patients/{patient_id}/alerts").text)
