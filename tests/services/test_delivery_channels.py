"""Web Push and email delivered for real (issue 14): a local push service decrypts each message
with the subscription's keys (RFC 8291 aes128gcm) and checks the VAPID signature (RFC 8292); a
local SMTP server (aiosmtpd) receives the email. Retries, gone browsers and the SSRF check at
send time, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from test_notification_engine import DAY, SECRET, at, save  # the same plan and clock

from dosewise.services import notifications, patients
from dosewise.services.delivery import (
    ReachSettings,
    Senders,
    SmtpSettings,
    dispatch,
    load_vapid_key,
    smtp_sender,
    web_push_sender,
)
from dosewise.services.inputs import NotificationPreferencesInput
from dosewise.services.notification_actions import action_signer
from dosewise.services.reminders import plan_messages
from dosewise.store.database import unit_of_work
from dosewise.store.models import NotificationRow, PatientRow, PushSubscriptionRow, UserRow

REACH = ReachSettings(allow_loopback_push=True)


@pytest.fixture
def patient(engine):
    patient_id = patients.create_patient(
        engine, name="Ann", time_zone="Europe/London", now=at(DAY, 6), actor="t"
    )
    with unit_of_work(engine) as session:
        user = UserRow(email="ann@example.org", display_name="Ann", password_hash=None, role="patient",
                       created_at=datetime(2026, 11, 1))  # fmt: skip
        session.add(user)
        session.flush()
        session.get(PatientRow, patient_id).user_id = user.id
    save(engine, patient_id, at(DAY, 6), target_mg_day=30)
    return patient_id, user.id


def subscribe(engine, user_id, push_service):
    key = load_vapid_key(REACH).public_key
    browser = push_service.new_subscription(application_server_key=key)
    keys = browser["keys"]
    chosen = notifications.SubscriptionInput(
        endpoint=browser["endpoint"], p256dh=keys["p256dh"], auth=keys["auth"]
    )
    notifications.subscribe(
        engine, user_id=user_id, now=at(DAY, 6), allow_loopback_http=True, subscription=chosen
    )
    return browser


def senders(**extra):
    push = web_push_sender(load_vapid_key(REACH), "mailto:ops@example.org", allow_loopback_http=True)
    return Senders(push=push, action_token=action_signer(SECRET), **extra)


def send_due(engine, when, chosen):
    plan_messages(engine, now=when)
    while dispatch(engine, now=when, worker="w", senders=chosen).claimed:
        pass


def test_a_dose_reminder_arrives_encrypted_signed_and_readable_by_the_browser(engine, patient, push_service):
    patient_id, user_id = patient
    browser = subscribe(engine, user_id, push_service)
    send_due(engine, at(DAY, 8, 0), senders())
    [delivery] = push_service.wait_for(1)
    assert delivery.endpoint == browser["endpoint"]
    assert delivery.json["title"] == "Baclofen 5 mg due at 08:00"
    assert delivery.json["body"].startswith("Take ")
    assert [a["action"] for a in delivery.json["actions"]] == ["taken", "snooze"]
    assert delivery.json["url"] == f"/patients/{patient_id}/today"
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.vapid_claims["sub"] == "mailto:ops@example.org"
    assert delivery.vapid_key == load_vapid_key(REACH).public_key  # signed with the server's key
    assert delivery.ttl_s == 3600 and len(delivery.topic or "") == 32
    sent = [r for r in _rows(engine) if r.channel == "push"]
    assert [(r.kind, r.status) for r in sent] == [("dose_reminder", "sent"), ("dose_follow_up", "pending")]


def test_a_busy_push_service_is_tried_again_and_a_gone_browser_forgotten(engine, patient, push_service):
    _, user_id = patient
    browser = subscribe(engine, user_id, push_service)
    push_service.fail_next(1, 503)
    send_due(engine, at(DAY, 8, 0), senders())
    [row] = [r for r in _rows(engine) if r.channel == "push"][:1]
    assert (row.status, row.error) == ("pending", "push service answered 503")
    assert row.due_at == datetime(2026, 12, 1, 8, 0, 30)  # 30 s later
    send_due(engine, at(DAY, 8, 1), senders())
    assert len(push_service.wait_for(1)) == 1
    # the browser unsubscribed: 410 Gone, the subscription is removed, the follow-up says why
    push_service.expire(browser["endpoint"])
    send_due(engine, at(DAY, 8, 30), senders())
    follow_up = next(r for r in _rows(engine) if r.kind == "dose_follow_up" and r.channel == "push")
    assert follow_up.status == "cancelled" and "expired" in follow_up.error
    with unit_of_work(engine) as session:
        assert session.scalars(select(PushSubscriptionRow)).all() == []


def test_an_endpoint_turned_private_is_not_contacted_at_send_time(engine, patient, push_service):
    _, user_id = patient
    subscribe(engine, user_id, push_service)
    production = web_push_sender(load_vapid_key(REACH), "mailto:ops@example.org", allow_loopback_http=False)
    send_due(engine, at(DAY, 8, 0), Senders(push=production, action_token=action_signer(SECRET)))
    assert push_service.attempts == []  # the loopback endpoint is refused outside development
    row = next(r for r in _rows(engine) if r.channel == "push")
    assert row.status in ("pending", "failed") and "endpoint" in (row.error or "").lower()


def test_email_goes_through_smtp_with_sources_and_a_stable_message_id(engine, patient, smtp_server):
    _, user_id = patient
    notifications.save_preferences(
        engine, user_id=user_id, now=at(DAY, 6), email_available=True,
        choice=NotificationPreferencesInput(push=False, email=True, dose_reminders=True, heads_up=True,
                                            follow_up_minutes=0),
    )  # fmt: skip
    mail = smtp_sender(SmtpSettings(host="127.0.0.1", port=smtp_server.port, starttls=False))
    chosen = Senders(
        email=mail, email_from="Dosewise <reminders@example.org>", base_url="https://dosewise.example"
    )
    send_due(engine, at(DAY, 8, 0), chosen)
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("ann@example.org",)
    assert received.message["Subject"] == "Baclofen 5 mg due at 08:00"
    assert "https://dosewise.example/patients/" in received.text
    assert "agree every change with the prescriber" in received.text
    first_id = received.message["Message-ID"]
    # an alert with sources: the withdrawal warning after two doses in a row (the worker was
    # off from 08:00 to 15:05: the 14:00 reminder is stale and not sent, the alert is)
    send_due(engine, at(DAY, 15, 5), chosen)
    assert [m.message["Subject"] for m in smtp_server.wait_for(2)] == [
        "Baclofen 5 mg due at 08:00",
        "Doses missed: risk of withdrawal",
    ]
    warning = smtp_server.messages[1]
    assert "Sources: US-TAB, OZO, LYV, DOSEWISE" in warning.text
    assert first_id != warning.message["Message-ID"]
    # the same message sent again (a worker killed after sending) keeps its Message-ID
    with unit_of_work(engine) as session:
        alert = session.scalars(
            select(NotificationRow).where(
                NotificationRow.channel == "email", NotificationRow.kind == "withdrawal_warning"
            )
        ).one()
        alert.status, alert.lease_until = (
            "sending",
            datetime(2026, 12, 1, 15, 5),
        )  # as a killed worker leaves it
    send_due(engine, at(DAY, 15, 6), chosen)
    repeats = [m for m in smtp_server.wait_for(3) if m.message["Message-ID"] == warning.message["Message-ID"]]
    assert len(repeats) == 2


def test_email_not_configured_is_said_not_silently_dropped(engine, patient):
    _, user_id = patient
    notifications.save_preferences(
        engine, user_id=user_id, now=at(DAY, 6), email_available=True,
        choice=NotificationPreferencesInput(push=False, email=True, dose_reminders=True, heads_up=True,
                                            follow_up_minutes=0),
    )  # fmt: skip
    send_due(engine, at(DAY, 8, 0), Senders())
    row = next(r for r in _rows(engine) if r.channel == "email")
    assert (row.status, row.error) == ("cancelled", "email is not set up on this server")
    inbox = notifications.inbox(engine, user_id=user_id, now=at(DAY, 8, 1))
    assert inbox[0].title == "Baclofen 5 mg due at 08:00"  # the in-app list has it all the same


def _rows(engine):
    with unit_of_work(engine) as session:
        return session.scalars(
            select(NotificationRow).order_by(NotificationRow.due_at, NotificationRow.id)
        ).all()
