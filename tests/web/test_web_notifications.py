"""Notifications on the pages and the API: the in-app list with its unread count, each person's
preferences and quiet hours (the form again with a message when wrong, nothing stored), a
browser's push subscription (checked against SSRF), a reminder's buttons without a session,
and a patient's alert thresholds, which only their clinician changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import page_token, sign_up, web_settings
from dosewise.services import doses, notifications
from dosewise.services.notification_actions import action_signer
from dosewise.store.models import PatientRow
from dosewise.web.app import create_app

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site(tmp_path: Any) -> Any:
    clock = Clock()
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"), clock=clock)
    clients = [TestClient(app, follow_redirects=False) for _ in range(3)]
    for client in clients:
        client.__enter__()
    patient, carer, doctor = clients
    user = sign_up(patient, "pat@example.org", name="Pat", zone="UTC")
    sign_up(carer, "carer@example.org", role="caregiver", name="Carer")
    sign_up(doctor, "doc@example.org", role="clinician", name="Doc")
    engine = app.state.context.engine
    with engine.connect() as connection:
        patient_id = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user))
    for client, role in ((carer, "caregiver"), (doctor, "clinician")):
        page = patient.post(
            f"/patients/{patient_id}/invitations",
            data={"csrf_token": page_token(patient, f"/patients/{patient_id}/access"), "role": role},
        )
        code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)[1]
        assert (
            client.post("/join", data={"csrf_token": page_token(client, "/join"), "code": code}).status_code
            == 303
        )
    yield {"app": app, "engine": engine, "clock": clock, "patient": patient, "carer": carer, "doctor": doctor,
           "patient_id": patient_id, "user": user}  # fmt: skip
    for client in clients:
        client.__exit__(None, None, None)


def settings_form(client: TestClient, **fields: str) -> dict[str, str]:
    return {"csrf_token": page_token(client, "/notifications/settings"), "follow_up_minutes": "30", **fields}


def test_preferences_and_quiet_hours_are_saved_and_shown_again(site):
    patient = site["patient"]
    page = patient.get("/notifications/settings")
    assert page.status_code == 200
    # the push section the service worker script reads: the server's VAPID key, the API
    section = re.search(r'<section id="push"[^>]*data-vapid-key="([A-Za-z0-9_-]{87})"', page.text)
    assert section, page.text
    assert 'id="dose_reminders" name="dose_reminders" value="yes" checked' in page.text  # a patient's default
    saved = patient.post(
        "/notifications/settings",
        data=settings_form(
            patient,
            push="yes",
            dose_reminders="yes",
            quiet_start="22:00",
            quiet_end="07:00",
            follow_up_minutes="15",
        ),
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/notifications/settings?done=saved"
    again = patient.get("/notifications/settings").text
    assert 'value="22:00"' in again and 'value="07:00"' in again
    assert 'id="heads_up" name="heads_up" value="yes" checked' not in again  # unticked is "no"
    assert '<option value="15" selected>' in again
    prefs = notifications.preferences(site["engine"], user_id=site["user"])
    assert (prefs.quiet_start.hour, prefs.quiet_end.hour, prefs.heads_up, prefs.follow_up_minutes) == (
        22,
        7,
        False,
        15,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quiet_start": "22:00"}, "quiet hours need both a start and an end"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "must be HH:MM"),
        ({"quiet_start": "07:00", "quiet_end": "07:00"}, "start and end at different times"),
        ({"follow_up_minutes": "45"}, "the follow-up is one of 0, 15, 30, 60 minutes"),
        ({"email": "yes"}, "email is not set up on this server"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_a_wrong_preference_shows_the_form_again_and_stores_nothing(site, fields, message):
    patient = site["patient"]
    response = patient.post(
        "/notifications/settings", data=settings_form(patient, dose_reminders="yes", **fields)
    )
    assert response.status_code == 400
    assert message in response.text
    assert 'role="alert"' in response.text
    assert not notifications.preferences(site["engine"], user_id=site["user"]).stored


def test_the_in_app_list_shows_new_messages_and_marks_them_read(site):
    from dosewise.services import triage

    triage.triage_patient(site["engine"], patient_id=site["patient_id"], symptoms=["I had a seizure"],
                          now=NOW, actor=f"user:{site['user']}")  # fmt: skip
    carer = site["carer"]
    page = carer.get("/notifications").text
    assert '<span class="badge" aria-label="1 new">1</span>' in page
    assert "Emergency: Pat was told to call emergency services" in page
    assert (
        carer.post(
            "/notifications/read", data={"csrf_token": page_token(carer, "/notifications")}
        ).status_code
        == 303
    )
    assert 'class="badge"' not in carer.get("/notifications").text
    # the patient ran the check themselves: they are not alerted about it
    assert "Emergency" not in site["patient"].get("/notifications").text


def test_push_subscriptions_accept_https_public_endpoints_only(site):
    patient = site["patient"]
    token = page_token(patient, "/notifications/settings")
    keys = {"p256dh": "B" + "A" * 86, "auth": "A" * 22}
    metadata = "https://169.254.169.254/latest/meta-data"
    refused = patient.post(
        "/api/push/subscriptions", headers={"x-csrf-token": token}, json={"endpoint": metadata, "keys": keys}
    )
    assert refused.status_code == 400
    assert "endpoint" in refused.json()["detail"].lower() or "address" in refused.json()["detail"].lower()
    no_csrf = patient.post(
        "/api/push/subscriptions", json={"endpoint": "https://push.example.com/x", "keys": keys}
    )
    assert no_csrf.status_code == 403
    assert notifications.subscription_count(site["engine"], user_id=site["user"]) == 0


def test_a_reminders_buttons_work_without_a_session(site):
    from dosewise.services import plans
    from dosewise.services.plans import PlanRequest

    engine, patient_id = site["engine"], site["patient_id"]
    built = plans.build_plan(
        PlanRequest(kind="titration", start=NOW.date(), target_mg_day=30), today=NOW.date()
    )
    plans.save_plan(engine, patient_id=patient_id, built=built, time_zone="UTC", now=NOW, actor="test")
    slot = doses.list_day(engine, patient_id=patient_id, day=NOW.date(), now=NOW)[0]
    token = action_signer(site["app"].state.context.settings.secret_key)(
        slot.slot_id, patient_id, site["user"]
    )
    site["clock"].now = NOW + timedelta(hours=1, minutes=3)
    anonymous = TestClient(site["app"])
    done = anonymous.post("/api/notification-actions", json={"token": token, "action": "taken"})
    assert done.status_code == 200, done.text
    assert done.json()["message"] == "Recorded: dose taken at 08:03."
    bad = anonymous.post("/api/notification-actions", json={"token": token[:-2] + "xx", "action": "taken"})
    assert bad.status_code == 400 and "not valid" in bad.json()["detail"]


def test_only_the_patients_clinician_changes_the_alert_thresholds(site):
    patient_id, doctor, patient, carer = site["patient_id"], site["doctor"], site["patient"], site["carer"]
    path = f"/patients/{patient_id}/alerts"
    own = patient.get(path).text
    assert "These are the product defaults [baclofen.md section 10 (product default)]" in own
    assert (
        "Only your clinician can change these." in own
        and "<form" not in own.split("<main")[1].split("</main>")[0]
    )
    values = {"missed_in_row": "3", "late_hours": "8", "no_dose_hours": "24", "supply_warn_days": "10",
              "supply_caregivers_days": "3", "supply_urgent_days": "1"}  # fmt: skip
    assert patient.post(path, data={"csrf_token": page_token(patient, path), **values}).status_code == 403
    assert carer.post(path, data={"csrf_token": page_token(carer, path), **values}).status_code == 403
    wrong = doctor.post(path, data={"csrf_token": page_token(doctor, path), **values, "late_hours": "30"})
    assert wrong.status_code == 400 and "must be between 2 and 24" in wrong.text
    assert doctor.post(path, data={"csrf_token": page_token(doctor, path), **values}).status_code == 303
    chosen = notifications.alert_thresholds(site["engine"], patient_id=patient_id)
    assert (chosen.missed_in_row, chosen.late_hours, chosen.supply_warn_days, chosen.customized) == (
        3,
        8,
        10,
        True,
    )
    assert "These thresholds were set by a clinician for Pat." in patient.get(path).text
    api = doctor.get(f"/api/patients/{patient_id}/alert-settings").json()
    assert api["late_hours"] == 8 and api["source"] == "set by a clinician"
    reset = doctor.post(f"{path}/reset", data={"csrf_token": page_token(doctor, path)})
    assert reset.status_code == 303
    assert not notifications.alert_thresholds(site["engine"], patient_id=patient_id).customized
