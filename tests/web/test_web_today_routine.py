"""Today shows the routine and corrects it (issue 12, points 1, 4, 5 and 8), with a controlled
clock: the doses after a titration's last step, a finished taper, a coming plan, the review
date; Undo / Change / "I took it at" with CSRF and the audit trail; the 48-hour window and the
clinician; the Missed page naming the real next dose; the same through the JSON API."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_of, page_token, sign_up, web_settings_for_months
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.taper import build_taper
from dosewise.domain.titration import build_titration
from dosewise.monographs import load_monograph
from dosewise.services import doses, plans
from dosewise.store.models import AuditRow, DoseEventRow, PatientRow
from dosewise.web.app import create_app

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)  # a Tuesday
TIMES = parse_clock_times(None, 3)  # 08:00, 14:00, 20:00
PASSWORD = "correct horse battery"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(at(DAY, 6))


@pytest.fixture
def app(tmp_path: Any, clock: Clock) -> Any:
    return create_app(web_settings_for_months(f"sqlite:///{tmp_path / 'today.sqlite3'}"), clock=clock)


@pytest.fixture
def patient(app: Any) -> Any:
    """A signed-in patient (London); their id and engine."""
    with TestClient(app, follow_redirects=False) as client:
        user = sign_up(client, "pat@example.org", zone="Europe/London")
        engine = app.state.context.engine
        with engine.connect() as connection:
            patient_id = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user))
        yield {"client": client, "id": patient_id, "engine": engine}


def start(
    patient: Any, plan: Any, now: datetime, times: tuple[Any, ...] = TIMES, takes_over: datetime | None = None
) -> int:
    return plans.start_plan(patient["engine"], patient_id=patient["id"], plan=plan, times=times, zone=LONDON,
                            now=now, takes_over=takes_over, actor="test")  # fmt: skip


def titration(start_day: date = DAY) -> Any:
    monograph = load_monograph("baclofen")
    return build_titration(monograph, target_daily_mg=30, products=parse_product_specs([], monograph),
                           start=start_day)  # fmt: skip


def sign_in(client: TestClient, email: str = "pat@example.org") -> dict[str, str]:
    """Sign in again (a jump of the clock ends the session); the API's CSRF header."""
    signed = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"x-csrf-token": signed.json()["csrf_token"]}


def today(patient: Any) -> str:
    page = patient["client"].get(f"/patients/{patient['id']}/today")
    assert page.status_code == 200, page.text
    return page.text


def slot_id(patient: Any, clock: Clock, hour: int, day: date = DAY) -> int:
    slots = doses.list_day(patient["engine"], patient_id=patient["id"], day=day, now=clock())
    return next(slot.slot_id for slot in slots if slot.due_at.hour == hour)


def cards(page: str) -> list[str]:
    """The times and doses of the day's dose cards, in order."""
    day = page.split('id="doses-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<p class="when"><strong>(\d\d:\d\d)</strong> · ([\d.]+ mg)', day)


def times(page: str) -> list[str]:
    return [when for when, _ in cards(page)]


def correct(client: TestClient, page: str, path: str, **fields: str) -> Any:
    """Post a correction form of ``page`` (with its CSRF token)."""
    return client.post(path, data={"csrf_token": csrf_of(page), **fields})


def test_the_page_offers_undo_change_and_i_took_it_and_shows_what_changed(patient: Any, clock: Clock) -> None:
    start(patient, titration(), at(DAY, 7))
    client, pid = patient["client"], patient["id"]
    clock.moment = at(DAY, 14, 5)
    eight, fourteen = slot_id(patient, clock, 8), slot_id(patient, clock, 14)
    token = page_token(client, f"/patients/{pid}/today")
    taken = client.post(f"/patients/{pid}/doses/{fourteen}", data={"csrf_token": token, "status": "taken"})
    assert taken.status_code == 303
    clock.moment = at(DAY, 15)
    page = today(patient)
    # 08:00 never ticked: missed, with "I took it at"; 14:00 taken, with Undo and Change
    assert f'action="/patients/{pid}/doses/{eight}/correction"' in page
    assert f'action="/patients/{pid}/doses/{fourteen}/correction"' in page
    assert 'aria-label="Undo: 14:00 dose"' in page and "<summary>Change</summary>" in page
    assert "I took it at" in page and 'aria-label="I skipped the 08:00 dose"' in page
    assert "Corrections are possible for 48 hours (Dosewise default)" in page

    # without the CSRF token nothing is stored
    forged = client.post(
        f"/patients/{pid}/doses/{eight}/correction", data={"change": "taken", "taken_at": "08:40"}
    )
    assert forged.status_code == 403
    # the missed dose taken after all, at 08:40
    token = csrf_of(page)
    fixed = client.post(f"/patients/{pid}/doses/{eight}/correction",
                        data={"csrf_token": token, "change": "taken", "taken_at": "08:40"})  # fmt: skip
    assert fixed.status_code == 303
    shown = client.get(fixed.headers["location"]).text
    assert "Corrected: 08:00 dose marked taken at 08:40." in shown
    assert "Taken at 08:40" in shown
    # the 14:00 dose undone: the form's time field goes with "taken" only
    undone = client.post(f"/patients/{pid}/doses/{fourteen}/correction",
                         data={"csrf_token": token, "change": "undo", "taken_at": "14:05"})  # fmt: skip
    assert undone.status_code == 303
    shown = client.get(undone.headers["location"]).text
    assert "Corrected: the record of the 14:00 dose is undone." in shown
    assert "Due now" in shown
    with patient["engine"].connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DoseEventRow)) == 1
        actions = connection.scalars(select(AuditRow.action).where(AuditRow.action == "correct_dose")).all()
    assert len(actions) == 2
    # a correction outside the window: a clear error, nothing stored
    clock.moment = at(DAY + timedelta(days=2), 9)
    page = today(patient)
    late = client.post(f"/patients/{pid}/doses/{eight}/correction",
                       data={"csrf_token": csrf_of(page), "change": "undo"})  # fmt: skip
    assert late.status_code == 400
    assert "corrections are possible for 48 hours (Dosewise default); ask your clinician" in late.text
    with patient["engine"].connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DoseEventRow)) == 1


def test_last_nights_doses_can_be_corrected_the_next_morning(patient: Any, clock: Clock) -> None:
    start(patient, titration(), at(DAY, 7))
    client, pid = patient["client"], patient["id"]
    clock.moment = at(DAY + timedelta(days=1), 7)
    twenty = slot_id(patient, clock, 20)
    page = today(patient)
    assert "Earlier doses (last 48 hours)" in page
    assert f'action="/patients/{pid}/doses/{twenty}/correction"' in page
    fixed = correct(
        client, page, f"/patients/{pid}/doses/{twenty}/correction", change="taken", taken_at="20:30"
    )
    assert fixed.status_code == 303
    assert (
        "Corrected: Tue 01 Dec 20:00 dose marked taken at Tue 01 Dec 20:30."
        in client.get(fixed.headers["location"]).text
    )


def test_today_keeps_the_doses_after_a_titrations_last_step(patient: Any, clock: Clock) -> None:
    start(patient, titration(), at(DAY, 7))
    for days in (6, 30, 45, 75):  # past the first 60 days of slots: made ahead as days go by
        clock.moment = at(DAY + timedelta(days=days), 7)
        sign_in(patient["client"])
        page = today(patient)
        assert cards(page) == [("08:00", "10 mg"), ("14:00", "10 mg"), ("20:00", "10 mg")], days
        assert "No doses today" not in page


def test_a_finished_taper_says_baclofen_was_stopped(patient: Any, clock: Clock) -> None:
    monograph = load_monograph("baclofen")
    taper = build_taper(monograph, from_daily_mg=15, products=parse_product_specs([], monograph), start=DAY,
                        doses_per_day=3)  # fmt: skip
    start(patient, taper, at(DAY, 7))
    assert taper.stop_date is not None
    clock.moment = at(taper.stop_date - timedelta(days=1), 9)
    page = today(patient)
    assert "This taper&#39;s last doses are on" in page or "This taper's last doses are on" in page
    clock.moment = at(taper.stop_date, 9)
    page = today(patient)
    assert times(page) == []
    stopped = taper.stop_date.strftime("%A %-d %B %Y")
    assert f"Baclofen was stopped on {stopped} after a taper. No more doses." in page
    assert "No doses today" not in page
    api = patient["client"].get(f"/api/patients/{patient['id']}/today").json()
    assert api["routine"]["stopped"] is True and api["routine"]["stop_date"] == taper.stop_date.isoformat()
    assert api["doses"] == [] and api["next_dose"] is None


def test_a_coming_plan_and_the_review_date_are_shown_and_one_card_per_time(
    patient: Any, clock: Clock
) -> None:
    start(patient, titration(), at(DAY, 7))
    client, pid = patient["client"], patient["id"]
    clock.moment = at(DAY, 19, 50)
    twenty = slot_id(patient, clock, 20)
    assert client.post(f"/patients/{pid}/doses/{twenty}",
                       data={"csrf_token": page_token(client, f"/patients/{pid}/today"), "status": "taken"}
                       ).status_code == 303  # fmt: skip
    # a plan change at 19:55 with doses at 08:00, 14:00, 20:00 and 21:00: it takes over at 20:00,
    # its first dose then is tomorrow's 08:00 (20:00 and 21:00 are within 3 h of the dose taken)
    built = plans.build_plan(plans.PlanRequest(kind="maintenance", mg_day=20, doses_per_day=4,
                                               times="08:00,14:00,20:00,21:00"), today=DAY)  # fmt: skip
    clock.moment = at(DAY, 19, 55)
    plans.save_plan(patient["engine"], patient_id=pid, built=built, time_zone="Europe/London", now=clock(),
                    actor="test")  # fmt: skip
    page = today(patient)
    assert times(page) == ["08:00", "14:00", "20:00"]  # never two cards for one time
    assert "Your new plan starts at" in page and "until then keep to the current doses" in page
    assert "Tuesday 1 December 20:00" in page  # its first dose time: the 20:00 dose stays the old one
    clock.moment = at(DAY + timedelta(days=1), 7)
    page = today(patient)
    assert "Your new plan starts at" not in page
    assert times(page) == ["08:00", "14:00", "20:00", "21:00"]
    review = built.plan.review_on
    assert (
        review is not None and f"Review with your prescriber by <strong>{review:%-d %B %Y}</strong>" in page
    )


def test_the_missed_page_names_the_real_next_dose(patient: Any, clock: Clock) -> None:
    monograph = load_monograph("baclofen")
    products = parse_product_specs([], monograph)
    start(patient, titration(), at(DAY, 7))
    client, pid = patient["client"], patient["id"]
    maintenance = build_maintenance(monograph, daily_mg=15, products=products, start=DAY, days=84)
    # taking over at a stated 21:00 (by default it would be 20:00, the next dose time)
    start(patient, maintenance, at(DAY, 19), times=parse_clock_times("09:00,15:00,21:00", 3),
          takes_over=at(DAY, 21))  # fmt: skip
    clock.moment = at(DAY, 20, 56)
    page = today(patient)
    assert "Missed (too late to take: skip it)" in page  # the 20:00 dose: 21:00 is 4 minutes away
    missed = client.post(f"/patients/{pid}/missed", data={"csrf_token": csrf_of(page), "missed": "20:00"})
    assert missed.status_code == 200
    assert "Skip this dose." in missed.text
    assert "the next dose is due 21:00 today" in missed.text
    assert "Next dose: <strong>Tuesday 21:00</strong>" in missed.text
    assert "[NHS]" in missed.text
    api = client.post(f"/api/patients/{pid}/missed", json={"missed": "20:00"},
                      headers={"x-csrf-token": csrf_of(page)}).json()  # fmt: skip
    assert (api["action"], api["next_dose"]) == ("skip", "2026-12-01T21:00:00+00:00")
    twenty = slot_id(patient, clock, 20)
    by_slot = client.get(f"/api/patients/{pid}/doses/{twenty}/missed").json()
    assert by_slot == api


def test_corrections_through_the_api(patient: Any, clock: Clock) -> None:
    start(patient, titration(), at(DAY, 7))
    client, pid = patient["client"], patient["id"]
    clock.moment = at(DAY, 8, 10)
    headers = sign_in(client)
    eight = slot_id(patient, clock, 8)
    assert (
        client.post(
            f"/api/patients/{pid}/doses/{eight}", json={"status": "skipped"}, headers=headers
        ).status_code
        == 200
    )
    clock.moment = at(DAY, 10)
    path = f"/api/patients/{pid}/doses/{eight}/correction"
    body = client.post(path, json={"change": "taken", "taken_at": "08:05"}, headers=headers).json()
    assert body == {
        "slot_id": eight,
        "due_at": "2026-12-01T08:00:00Z",
        "before": {"status": "skipped", "taken_at": None},
        "after": {"status": "taken", "taken_at": "2026-12-01T08:05:00Z"},
        "changed": True,
        "message": "08:00 dose marked taken at 08:05",
    }
    undone = client.delete(f"/api/patients/{pid}/doses/{eight}", headers=headers).json()
    assert (undone["before"]["status"], undone["after"]["status"]) == ("taken", None)
    assert client.delete(f"/api/patients/{pid}/doses/{eight}", headers=headers).json()["changed"] is False
    bad = client.post(path, json={"change": "taken", "taken_at": "23:30"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "/taken_at"
    clock.moment = at(DAY + timedelta(days=3), 9)
    old = client.post(
        f"/api/patients/{pid}/doses/{eight}/correction", json={"change": "skipped"}, headers=headers
    )
    assert old.status_code == 400 and "48 hours (Dosewise default)" in old.json()["detail"]
    routine = client.get(f"/api/patients/{pid}/today").json()["routine"]
    # three days with nothing recorded: the "do not simply restart" warning (73 h since 08:00)
    assert routine == {"kind": "titration", "stopped": False, "stop_date": None,
                       "review_on": None, "new_plan_at": None, "no_dose_hours": 73}  # fmt: skip


def test_a_caregiver_corrects_recent_doses_and_a_clinician_any_dose_but_records_none(
    app: Any, clock: Clock
) -> None:
    clients = [TestClient(app, follow_redirects=False) for _ in range(3)]
    for client in clients:
        client.__enter__()
    try:
        pat, carer, doctor = clients
        user = sign_up(pat, "p2@example.org", zone="Europe/London")
        sign_up(carer, "c2@example.org", role="caregiver")
        sign_up(doctor, "d2@example.org", role="clinician")
        engine = app.state.context.engine
        with engine.connect() as connection:
            pid = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user))
        for client, role in ((carer, "caregiver"), (doctor, "clinician")):
            access = pat.get(f"/patients/{pid}/access").text
            invited = correct(pat, access, f"/patients/{pid}/invitations", role=role)
            code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', invited.text)
            assert code, invited.text
            joined = client.post("/join", data={"csrf_token": page_token(client, "/join"), "code": code[1]})
            assert joined.status_code == 303
        plans.start_plan(engine, patient_id=pid, plan=titration(), times=TIMES, zone=LONDON, now=at(DAY, 7),
                         actor="test")  # fmt: skip
        patient = {"client": pat, "id": pid, "engine": engine}
        clock.moment = at(DAY, 15)
        eight, fourteen = slot_id(patient, clock, 8), slot_id(patient, clock, 14)
        # the caregiver marks the missed 08:00 dose taken at 08:30
        page = carer.get(f"/patients/{pid}/today").text
        assert f"/doses/{eight}/correction" in page
        done = correct(
            carer, page, f"/patients/{pid}/doses/{eight}/correction", change="taken", taken_at="08:30"
        )
        assert done.status_code == 303
        # the clinician sees the correction controls, cannot tick off the dose due now...
        page = doctor.get(f"/patients/{pid}/today").text
        assert "As the patient's clinician you can correct any dose" in page
        assert f'action="/patients/{pid}/doses/{fourteen}"' not in page
        assert correct(doctor, page, f"/patients/{pid}/doses/{fourteen}", status="taken").status_code == 403
        refused = correct(doctor, page, f"/patients/{pid}/doses/{fourteen}/correction", change="taken")
        assert refused.status_code == 403
        # ...and, three days later, corrects the 08:00 dose (the caregiver no longer can)
        clock.moment = at(DAY + timedelta(days=3), 10)
        page = carer.get(f"/patients/{pid}/today").text
        refused = correct(carer, page, f"/patients/{pid}/doses/{eight}/correction", change="undo")
        assert refused.status_code == 400
        page = doctor.get(f"/patients/{pid}/today").text
        fixed = correct(doctor, page, f"/patients/{pid}/doses/{eight}/correction", change="skipped")
        assert fixed.status_code == 303
        with engine.connect() as connection:
            trail = connection.execute(
                select(AuditRow.actor, AuditRow.detail)
                .where(AuditRow.action == "correct_dose")
                .order_by(AuditRow.id)
            ).all()
        assert len(trail) == 2 and trail[0].actor != trail[1].actor
        assert (
            '"before": {"status": "taken"' in trail[1].detail
            and '"after": {"status": "skipped"' in trail[1].detail
        )
    finally:
        for client in clients:
            client.__exit__(None, None, None)
