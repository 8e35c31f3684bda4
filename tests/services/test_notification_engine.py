"""The notification engine on SQLite and PostgreSQL with a controlled clock (issue 14): every due
reminder is sent once, nothing twice however often the planner and the dispatcher run, stale
reminders after an outage are not sent while a safety alert is, and each alert reaches the
people section 10 names."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from dosewise.services import doses, notifications, patients, plans
from dosewise.services.access import NotAllowed, PatientAccess
from dosewise.services.delivery import PushTarget, Senders, dispatch
from dosewise.services.inputs import AlertThresholdsInput, NotificationPreferencesInput
from dosewise.services.notification_actions import act, action_signer
from dosewise.services.plans import PlanRequest
from dosewise.services.reminders import plan_messages
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    AccessGrantRow,
    NotificationRow,
    PatientRow,
    PlannerCursorRow,
    PushSubscriptionRow,
    UserRow,
)

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)
SECRET = "a-test-secret-that-is-long-enough-for-tokens"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@dataclass
class FakePush:
    """A push service that records what it was given (the real one is tests/push_service.py)."""

    sent: list[tuple[str, dict]] = field(default_factory=list)
    status: int = 201
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, target: PushTarget, payload: bytes, *, topic: str, urgency: str) -> int:
        with self.lock:
            self.sent.append((target.endpoint, json.loads(payload)))
        return self.status

    def tags(self, kind: str | None = None) -> list[str]:
        return [body["tag"] for _, body in self.sent if kind is None or body["kind"] == kind]


@dataclass(frozen=True)
class Team:
    patient: int
    patient_user: int
    caregiver: int
    clinician: int


def _user(session, email: str, role: str) -> int:
    row = UserRow(email=email, display_name=email.split("@", 1)[0].title(), password_hash=None, role=role,
                  created_at=datetime(2026, 11, 1),
                  verified_at=datetime(2026, 11, 1) if role == "clinician" else None)  # fmt: skip
    session.add(row)
    session.flush()
    session.add(PushSubscriptionRow(user_id=row.id, endpoint=f"https://push.example/{row.id}",
                                    p256dh="k", auth="a", created_at=datetime(2026, 11, 1)))  # fmt: skip
    return row.id


@pytest.fixture
def team(engine) -> Team:
    patient = patients.create_patient(
        engine, name="Ann", time_zone="Europe/London", now=at(DAY, 6), actor="test"
    )
    with unit_of_work(engine) as session:
        own = _user(session, "ann@example.org", "patient")
        carer = _user(session, "bob@example.org", "caregiver")
        doctor = _user(session, "dr@example.org", "clinician")
        session.get(PatientRow, patient).user_id = own
        for user, role in ((carer, "caregiver"), (doctor, "clinician")):
            session.add(
                AccessGrantRow(patient_id=patient, user_id=user, role=role, created_at=datetime(2026, 11, 1))
            )
    return Team(patient, own, carer, doctor)


class Caller:
    def __init__(self, relation: str) -> None:
        self.relation, self.may_override = relation, relation == "clinician"


def save(
    engine, patient: int, now: datetime, *, actor: str = "test", relation: str = "owner", **fields
) -> int:
    request = PlanRequest(**{"kind": "titration", "start": now.date(), **fields})
    built = plans.build_plan(request, caller=Caller(relation), today=now.date())
    return plans.save_plan(engine, patient_id=patient, built=built, time_zone="Europe/London", now=now,
                           actor=actor, caller=Caller(relation))  # fmt: skip


def run(engine, push: FakePush, start: datetime, end: datetime, step=timedelta(minutes=1), worker="w1"):
    """The worker as its scheduler runs it, on a controlled clock."""
    senders = Senders(push=push, action_token=action_signer(SECRET))
    moment = start
    while moment <= end:
        plan_messages(engine, now=moment)
        while dispatch(engine, now=moment, worker=worker, senders=senders).claimed:
            pass
        moment += step


def rows(engine, **where):
    with unit_of_work(engine) as session:
        query = select(NotificationRow)
        for name, value in where.items():
            query = query.where(getattr(NotificationRow, name) == value)
        return session.scalars(query.order_by(NotificationRow.due_at, NotificationRow.id)).all()


def take(engine, patient: int, when: datetime) -> None:
    slot = next(s for s in doses.list_day(engine, patient_id=patient, day=when.date(), now=when)
                if s.due_at <= when and s.recorded is None)  # fmt: skip
    doses.record_dose(
        engine, patient_id=patient, slot_id=slot.slot_id, status="taken", now=when, actor="test"
    )


def test_every_due_reminder_goes_out_once_with_one_follow_up(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)  # 08:00, 14:00, 20:00
    push = FakePush()
    # the 08:00 dose is taken at 08:10: its follow-up (08:30) is cancelled, not sent
    run(engine, push, at(DAY, 7, 50), at(DAY, 8, 10))
    take(engine, team.patient, at(DAY, 8, 10))
    run(engine, push, at(DAY, 8, 11), at(DAY + timedelta(days=1), 7, 0))
    reminders = push.tags("dose_reminder")
    assert len(reminders) == len(set(reminders)) == 3  # 08:00, 14:00, 20:00, each once
    assert {endpoint for endpoint, body in push.sent if body["kind"] == "dose_reminder"} == {
        f"https://push.example/{team.patient_user}"  # the patient's; caregivers did not ask
    }
    follow_ups = push.tags("dose_follow_up")
    assert len(follow_ups) == len(set(follow_ups)) == 2  # 14:30 and 20:30; not 08:30 (taken)
    first = next(body for _, body in push.sent if body["kind"] == "dose_reminder")
    assert first["title"] == "Baclofen 5 mg due at 08:00"
    assert [a["action"] for a in first["actions"]] == ["taken", "snooze"] and first["action_token"]
    cancelled = rows(engine, kind="dose_follow_up", status="cancelled", channel="push")
    assert len(cancelled) == 1 and "recorded" in cancelled[0].error
    # in the patient's in-app list too, newest first: 14:00 and 20:00 were not taken
    inbox = notifications.inbox(engine, user_id=team.patient_user, now=at(DAY + timedelta(days=1), 7))
    assert [m.title for m in inbox[:2]] == [
        "Doses missed: risk of withdrawal",
        "Did you take your 20:00 baclofen?",
    ]


def test_running_the_planner_again_over_the_same_minutes_writes_nothing_twice(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    plan_messages(engine, now=at(DAY, 8, 1))
    before = len(rows(engine))
    with unit_of_work(engine) as session:  # as if the cursor move had been lost
        session.execute(update(PlannerCursorRow).values(until=datetime(2026, 12, 1, 7, 0)))
    assert plan_messages(engine, now=at(DAY, 8, 1)).written == 0
    assert len(rows(engine)) == before > 0


def test_two_dispatchers_at_once_send_each_message_once(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    plan_messages(engine, now=at(DAY, 8, 1))
    # many messages due at once: 300 alerts to the patient
    with unit_of_work(engine) as session:
        session.add_all(
            NotificationRow(
                key=f"test:{n}:push",
                user_id=team.patient_user,
                patient_id=team.patient,
                channel="push",
                kind="supply",
                level="warning",
                title=f"t{n}",
                body="b",
                url="/",
                payload="{}",
                due_at=datetime(2026, 12, 1, 8, 0),
                stale_at=None,
                status="pending",
                attempts=0,
                created_at=datetime(2026, 12, 1, 8, 0),
            )
            for n in range(300)
        )
    push = FakePush()
    senders = Senders(push=push)
    threads = [
        threading.Thread(
            target=lambda w=w: [
                dispatch(engine, now=at(DAY, 8, 1), worker=w, senders=senders, batch=20) for _ in range(30)
            ]
        )
        for w in ("a", "b", "c")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tags = push.tags()
    assert len(tags) == len(set(tags)) == 301  # 300 + the 08:00 reminder, none twice
    assert not rows(engine, status="sending")
    assert not [r for r in rows(engine, status="pending") if r.due_at <= datetime(2026, 12, 1, 8, 1)]


def test_after_a_6_hour_outage_stale_reminders_are_not_sent_but_the_safety_alert_is(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    push = FakePush()
    run(engine, push, at(DAY, 7, 58), at(DAY, 8, 2))
    take(engine, team.patient, at(DAY, 8, 2))  # the last dose taken: 08:02 on day 1
    day2 = DAY + timedelta(days=1)
    run(engine, push, at(DAY, 8, 3), at(day2, 4, 0), step=timedelta(minutes=5))
    sent_before = len(push.sent)
    # the worker is down from 04:00 to 10:00 on day 2: the 08:00 reminder and the 24 hours
    # without a dose (08:02) both fall in the outage
    run(engine, push, at(day2, 10, 0), at(day2, 10, 0))
    after = [body for _, body in push.sent[sent_before:]]
    assert not [b for b in after if b["kind"] == "dose_reminder"]
    stale = [r for r in rows(engine, kind="dose_reminder", channel="push") if r.status == "stale"]
    assert stale and all("too late" in r.error for r in stale)
    urgent = [b for b in after if b["kind"] == "withdrawal_urgent"]
    assert len(urgent) == 3  # the patient, the caregiver and the clinician
    assert all(b["level"] == "urgent" for b in urgent)
    assert "Do not simply restart a high dose" in urgent[0]["body"]


def test_withdrawal_warning_after_two_doses_in_a_row_to_patient_and_caregiver_only(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    push = FakePush()
    run(engine, push, at(DAY, 7, 50), at(DAY, 15, 30), step=timedelta(minutes=5))  # 08:00 and 14:00 not taken
    warnings = [(endpoint, body) for endpoint, body in push.sent if body["kind"] == "withdrawal_warning"]
    assert {endpoint for endpoint, _ in warnings} == {
        f"https://push.example/{team.patient_user}",
        f"https://push.example/{team.caregiver}",
    }
    assert "not taken 2 doses in a row" in warnings[0][1]["body"]
    # it is not repeated for the same gap: a third missed dose adds nothing
    run(engine, push, at(DAY, 15, 35), at(DAY, 21, 30), step=timedelta(minutes=5))
    assert len([1 for _, b in push.sent if b["kind"] == "withdrawal_warning"]) == 2


def test_only_a_verified_clinician_sets_the_thresholds_whatever_the_interface(engine, team):
    """The rule is the service's (issue 15 review): the patient, a caregiver and a clinician not
    verified yet are refused, and nothing is stored."""
    weakest = AlertThresholdsInput(missed_in_row=6, late_hours=24, no_dose_hours=72, supply_warn_days=1,
                                   supply_caregivers_days=1, supply_urgent_days=1)  # fmt: skip
    for relation, role, verified in (("owner", "patient", False), ("caregiver", "caregiver", False),
                                     ("clinician", "clinician", False)):  # fmt: skip
        caller = PatientAccess(patient_id=team.patient, name="Ann", time_zone="Europe/London",
                               relation=relation, user_role=role, verified=verified)  # fmt: skip
        with pytest.raises(NotAllowed, match="verified by an administrator"):
            notifications.set_alert_thresholds(
                engine, caller=caller, values=weakest, now=at(DAY, 6), actor="t"
            )
    assert not notifications.alert_thresholds(engine, patient_id=team.patient).customized


def test_a_clinician_can_set_an_earlier_late_alert_for_one_patient(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    clinician = PatientAccess(patient_id=team.patient, name="Ann", time_zone="Europe/London",
                              relation="clinician", user_role="clinician", verified=True)  # fmt: skip
    notifications.set_alert_thresholds(
        engine, caller=clinician, now=at(DAY, 6), actor=f"user:{team.clinician}",
        values=AlertThresholdsInput(missed_in_row=3, late_hours=4, no_dose_hours=24, supply_warn_days=7,
                                    supply_caregivers_days=3, supply_urgent_days=1),
    )  # fmt: skip
    push = FakePush()
    run(engine, push, at(DAY, 7, 55), at(DAY, 11, 55), step=timedelta(minutes=5))
    assert not push.tags("withdrawal_warning")
    run(engine, push, at(DAY, 12, 0), at(DAY, 12, 5), step=timedelta(minutes=5))  # 08:00 + 4 h
    body = next(b for _, b in push.sent if b["kind"] == "withdrawal_warning")
    assert "taken nothing for 4 hours after a dose was due" in body["body"]


def test_the_evening_before_a_step_change_says_what_changes_tomorrow(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)  # 5 mg x3 for 3 days, then 10 mg x3
    push = FakePush()
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        run(engine, push, at(day, 17, 59), at(day, 18, 1))
    heads_up = [(e, b) for e, b in push.sent if b["kind"] == "step_change"]
    assert len(heads_up) == 2  # the patient and the caregiver, on the evening of the third day only
    body = heads_up[0][1]["body"]
    assert heads_up[0][1]["title"] == "Your baclofen doses change on Fri 4 Dec"
    assert body.startswith("From Fri 4 Dec: 08:00 dose 10 mg")
    assert "30 mg a day in all" in body


def test_quiet_hours_hold_what_can_wait_but_never_a_dose_reminder(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30, times="08:00,14:00,18:30")
    notifications.save_preferences(
        engine, user_id=team.patient_user, now=at(DAY, 6), email_available=False,
        choice=NotificationPreferencesInput(
            push=True,
            dose_reminders=True,
            heads_up=True,
            follow_up_minutes=0,
            quiet_start="17:00",
            quiet_end="08:30",
        ),
    )  # fmt: skip
    push = FakePush()
    day3 = DAY + timedelta(days=2)
    run(engine, push, at(day3, 17, 55), at(day3, 18, 35), step=timedelta(minutes=5))
    kinds = [b["kind"] for e, b in push.sent if e.endswith(f"/{team.patient_user}")]
    assert [k for k in kinds if k in ("step_change", "dose_reminder")] == ["dose_reminder"]  # 18:30
    held = rows(engine, kind="step_change", user_id=team.patient_user, channel="push")
    assert held[0].status == "pending" and held[0].due_at == datetime(2026, 12, 4, 8, 30)  # after quiet hours
    run(engine, push, at(day3 + timedelta(days=1), 8, 25), at(day3 + timedelta(days=1), 8, 35),
        step=timedelta(minutes=5))  # fmt: skip
    assert [b["kind"] for e, b in push.sent if e.endswith(f"/{team.patient_user}")].count("step_change") == 1


def test_an_urgent_triage_result_reaches_caregivers_and_clinicians_at_once(engine, team):
    from dosewise.services import triage

    triage.triage_patient(engine, patient_id=team.patient, symptoms=["I had a seizure"], now=at(DAY, 9),
                          actor=f"user:{team.patient_user}")  # fmt: skip
    alerts = rows(engine, kind="triage_alert", channel="in_app")
    assert {r.user_id for r in alerts} == {team.caregiver, team.clinician}
    assert alerts[0].level == "emergency" and alerts[0].title.startswith("Emergency: Ann")
    assert alerts[0].due_at == datetime(2026, 12, 1, 9, 0)


def test_a_plan_changed_by_the_clinician_is_told_to_the_patient_and_caregiver(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    save(engine, team.patient, at(DAY, 12), kind="maintenance", mg_day=20, actor=f"user:{team.clinician}",
         relation="clinician")  # fmt: skip
    told = rows(engine, kind="plan_changed", channel="in_app")
    assert {r.user_id for r in told} == {team.patient_user, team.caregiver}
    assert "changed by Dr (clinician)" in told[0].title
    assert "20 mg a day (was 15 mg a day)" in told[0].body
    # the patient's own changes are not announced to themselves
    save(engine, team.patient, at(DAY, 16), kind="maintenance", mg_day=15, actor=f"user:{team.patient_user}")
    assert len(rows(engine, kind="plan_changed", channel="in_app")) == 2


def test_taken_and_snooze_from_the_notification(engine, team):
    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    push = FakePush()
    run(engine, push, at(DAY, 8, 0), at(DAY, 8, 0))
    token = push.sent[0][1]["action_token"]
    snoozed = act(engine, secret_key=SECRET, token=token, action="snooze", now=at(DAY, 8, 1))
    assert snoozed.message == "Reminding you again at 08:16."
    run(engine, push, at(DAY, 8, 16), at(DAY, 8, 16))
    assert push.sent[-1][1]["kind"] == "dose_snoozed"
    done = act(engine, secret_key=SECRET, token=token, action="taken", now=at(DAY, 8, 20))
    assert done.message == "Recorded: dose taken at 08:20."
    today = doses.list_day(engine, patient_id=team.patient, day=DAY, now=at(DAY, 8, 21))
    assert today[0].recorded == "taken"
    again = act(engine, secret_key=SECRET, token=token, action="taken", now=at(DAY, 8, 25))
    assert again.message.startswith("Already recorded")


def test_a_forged_old_or_revoked_token_does_nothing(engine, team):
    from dosewise.errors import InputError

    save(engine, team.patient, at(DAY, 6), target_mg_day=30)
    slot = doses.list_day(engine, patient_id=team.patient, day=DAY, now=at(DAY, 8))[0]
    sign = action_signer(SECRET)
    forged = sign(slot.slot_id, team.patient, team.patient_user)
    with pytest.raises(InputError, match="not valid"):
        act(engine, secret_key="another-secret-" + "x" * 30, token=forged, action="taken", now=at(DAY, 8))
    carer_token = sign(slot.slot_id, team.patient, team.caregiver)
    with unit_of_work(engine) as session:
        session.execute(update(AccessGrantRow).where(AccessGrantRow.user_id == team.caregiver)
                        .values(revoked_at=datetime(2026, 12, 1, 7)))  # fmt: skip
    with pytest.raises(InputError, match="no longer record"):
        act(engine, secret_key=SECRET, token=carer_token, action="taken", now=at(DAY, 8))
    clinician_token = sign(slot.slot_id, team.patient, team.clinician)
    with pytest.raises(InputError, match="no longer record"):  # clinicians do not record doses
        act(engine, secret_key=SECRET, token=clinician_token, action="taken", now=at(DAY, 8))
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(NotificationRow)) == 0


def test_supply_warnings_reach_more_people_as_the_tablets_run_down(engine, team):
    from dosewise.services.reminders import plan_supply_alerts

    save(engine, team.patient, at(DAY, 6), kind="maintenance", mg_day=30)  # 10 mg x 3 a day
    specs = plans.patient_products(engine, patient_id=team.patient)
    ten = next(spec for spec in specs if spec.startswith("tablet:10mg"))
    count(engine, team, ten, 15, at(DAY, 7))
    # 5 days left: a warning to the patient only (in the app and by push)
    assert plan_supply_alerts(engine, now=at(DAY, 7, 30)) == 2
    in_app = rows(engine, kind="supply", channel="in_app")
    assert [(r.user_id, r.level) for r in in_app] == [(team.patient_user, "warning")]
    assert in_app[0].title == "Baclofen runs out in about 5 days"
    # a recount: 7 tablets, under 3 days: caregivers too
    count(engine, team, ten, 7, at(DAY, 9))
    plan_supply_alerts(engine, now=at(DAY, 9, 30))
    told = {(r.user_id, r.level) for r in rows(engine, kind="supply", channel="in_app")}
    assert (team.caregiver, "warning") in told and team.clinician not in {user for user, _ in told}
    message = next(r for r in rows(engine, kind="supply", channel="in_app") if r.user_id == team.caregiver)
    assert "(Ann)" in message.title and "Running out means stopping baclofen suddenly" in message.body
    # within the hour nothing is looked at again; an hour later nothing new for the same stock
    assert plan_supply_alerts(engine, now=at(DAY, 10)) == 0
    assert plan_supply_alerts(engine, now=at(DAY, 10, 31)) == 0
    # one tablet left: urgent, clinicians too
    count(engine, team, ten, 1, at(DAY, 11))
    assert plan_supply_alerts(engine, now=at(DAY, 11, 31)) > 0
    urgent = [r for r in rows(engine, kind="supply", channel="in_app") if r.level == "urgent"]
    assert {r.user_id for r in urgent} == {team.patient_user, team.caregiver, team.clinician}
    assert urgent[0].stale_at is None  # sent however late


def count(engine, team, product: str, tablets: int, when: datetime) -> None:
    from dosewise.services import supply

    actor = f"user:{team.patient_user}"
    fields = {"kind": "counted", "product": product, "quantity": tablets, "now": when, "actor": actor}
    supply.record_stock(engine, patient_id=team.patient, **fields)
