"""Corrections of the diary (issue 12, point 5), on SQLite and PostgreSQL with a controlled
clock: undo, taken at another time, skipped, a missed dose marked taken; one record per dose,
every change in the audit trail with before and after; the 48-hour window (clinicians any
time); adherence and the clinician's list use the corrected state."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services import clinic, doses, patients, plans
from dosewise.services.access import NotAllowed
from dosewise.services.auth import CurrentUser
from dosewise.store.database import unit_of_work
from dosewise.store.models import AccessGrantRow, AuditRow, DoseEventRow, DoseSlotRow, UserRow

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)
TIMES = parse_clock_times(None, 3)  # 08:00, 14:00, 20:00


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def patient(engine):
    """A patient whose titration to 30 mg/day was saved at 07:00 on DAY (its first dose 08:00)."""
    patient_id = patients.create_patient(
        engine, name="P", time_zone="Europe/London", now=at(DAY, 6), actor="test"
    )
    monograph = load_monograph("baclofen")
    plan = build_titration(
        monograph, target_daily_mg=30, products=parse_product_specs([], monograph), start=DAY
    )
    plans.start_plan(
        engine, patient_id=patient_id, plan=plan, times=TIMES, zone=LONDON, now=at(DAY, 7), actor="test"
    )
    return patient_id


def slot_at(engine, patient, moment: datetime, now: datetime):
    day = doses.list_day(engine, patient_id=patient, day=moment.date(), now=now)
    return next(slot for slot in day if slot.due_at == moment)


def stored(engine, slot_id):
    """The dose events of a slot and its derived ``recorded`` column (kept by triggers)."""
    with unit_of_work(engine) as session:
        events = session.execute(
            select(DoseEventRow.status, DoseEventRow.taken_at).where(DoseEventRow.slot_id == slot_id)
        ).all()
        recorded = session.scalar(select(DoseSlotRow.recorded).where(DoseSlotRow.id == slot_id))
    return [tuple(event) for event in events], recorded


def corrections(engine, slot_id):
    with unit_of_work(engine) as session:
        rows = session.scalars(
            select(AuditRow)
            .where(AuditRow.action == "correct_dose", AuditRow.entity_id == slot_id)
            .order_by(AuditRow.id)
        ).all()
        return [(row.actor, json.loads(row.detail)) for row in rows]


def test_corrections_keep_one_record_per_dose_and_the_history_in_the_audit_trail(engine, patient):
    eight = slot_at(engine, patient, at(DAY, 8), at(DAY, 8, 5))
    doses.record_dose(engine, patient_id=patient, slot_id=eight.slot_id, status="taken", now=at(DAY, 8, 5),
                      actor="test")  # fmt: skip
    assert stored(engine, eight.slot_id) == ([("taken", datetime(2026, 12, 1, 8, 5))], "taken")

    # taken later than ticked: past the on-time window (1 h) it is "late", the same record
    late = doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="taken",
                              taken_at="09:30", now=at(DAY, 10), actor="user:7")  # fmt: skip
    assert (late.before, late.after, late.changed) == ("taken", "late", True)
    assert late.describe(at(DAY, 10)) == "08:00 dose marked taken at 09:30 (late)"
    assert stored(engine, eight.slot_id) == ([("late", datetime(2026, 12, 1, 9, 30))], "late")

    # in fact skipped
    doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="skipped",
                       now=at(DAY, 10, 5), actor="user:7")  # fmt: skip
    assert stored(engine, eight.slot_id) == ([("skipped", None)], "skipped")

    # undone: no record; the dose is due again by the usual rule, then missed
    undone = doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="undo",
                                now=at(DAY, 10, 10), actor="user:7")  # fmt: skip
    assert undone.describe(at(DAY, 10, 10)) == "08:00 dose: record undone (it said skipped)"
    assert stored(engine, eight.slot_id) == ([], None)
    assert slot_at(engine, patient, at(DAY, 8), at(DAY, 10, 10)).state == "due"  # 14:00 is 3 h 50 away
    assert slot_at(engine, patient, at(DAY, 8), at(DAY, 12, 30)).state == "missed"  # 14:00 in < 2 h

    # the same correction again changes nothing and is not audited twice
    again = doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="undo",
                               now=at(DAY, 10, 11), actor="user:7")  # fmt: skip
    assert not again.changed

    # the missed dose marked taken at a time: its one record is made
    doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="taken", taken_at="08:20",
                       now=at(DAY, 13), actor="user:7")  # fmt: skip
    assert stored(engine, eight.slot_id) == ([("taken", datetime(2026, 12, 1, 8, 20))], "taken")
    # a second record for the dose is never made: recording it again returns the corrected one
    repeat = doses.record_dose(engine, patient_id=patient, slot_id=eight.slot_id, status="skipped",
                               now=at(DAY, 13, 1), actor="test")  # fmt: skip
    assert (repeat.created, repeat.status) == (False, "taken")
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).where(DoseEventRow.slot_id == eight.slot_id)) == 1

    history = corrections(engine, eight.slot_id)
    assert [actor for actor, _ in history] == ["user:7"] * 4
    assert [(d["before"]["status"], d["after"]["status"]) for _, d in history] == [
        ("taken", "late"),
        ("late", "skipped"),
        ("skipped", None),
        (None, "taken"),
    ]
    first = history[0][1]
    assert first["due_at"] == "2026-12-01T08:00:00+00:00"
    assert first["before"]["taken_at"] == "2026-12-01T08:05:00+00:00"
    assert first["after"]["taken_at"] == "2026-12-01T09:30:00+00:00"


def test_a_correction_outside_48_hours_is_refused_and_a_clinician_may_make_it(engine, patient):
    eight = slot_at(engine, patient, at(DAY, 8), at(DAY, 9))
    doses.record_dose(engine, patient_id=patient, slot_id=eight.slot_id, status="skipped", now=at(DAY, 8, 1),
                      actor="test")  # fmt: skip
    two_days_later = at(DAY, 8, 1) + timedelta(hours=48)
    with pytest.raises(InputError) as error:
        doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="taken",
                           taken_at="08:10", now=two_days_later, actor="user:3")  # fmt: skip
    message = str(error.value)
    assert "corrections are possible for 48 hours (Dosewise default)" in message
    assert "ask your clinician for older ones" in message
    assert stored(engine, eight.slot_id) == ([("skipped", None)], "skipped")  # nothing stored
    assert corrections(engine, eight.slot_id) == []
    # just inside the window it is allowed
    inside = at(DAY, 8) + timedelta(hours=47, minutes=59)
    doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="undo", now=inside,
                       actor="user:3")  # fmt: skip
    # the clinician corrects any time; HH:MM is read near the dose's own time (not today's 08:10)
    fixed = doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="taken",
                               taken_at="08:10", now=two_days_later, actor="user:9", any_time=True,
                               may_record=False)  # fmt: skip
    assert fixed.after_taken_at == at(DAY, 8, 10)
    assert stored(engine, eight.slot_id) == ([("taken", datetime(2026, 12, 1, 8, 10))], "taken")
    assert corrections(engine, eight.slot_id)[-1][0] == "user:9"


def test_bad_corrections_are_clear_errors_and_store_nothing(engine, patient):
    now = at(DAY, 15)
    eight = slot_at(engine, patient, at(DAY, 8), now)
    fourteen = slot_at(engine, patient, at(DAY, 14), now)
    twenty = slot_at(engine, patient, at(DAY, 20), now)
    cases = [
        (
            dict(slot_id=eight.slot_id, change="taken", taken_at="2026-12-01T16:30"),
            "in the future",
            "taken_at",
        ),
        (dict(slot_id=eight.slot_id, change="taken", taken_at="05:30"), "that long before", "taken_at"),
        (dict(slot_id=eight.slot_id, change="taken", taken_at="8h"), "HH:MM", "taken_at"),
        (dict(slot_id=eight.slot_id, change="skipped", taken_at="08:10"), "with 'taken' only", "taken_at"),
        (dict(slot_id=eight.slot_id, change="redo"), "'undo', 'taken' or 'skipped'", "change"),
        (dict(slot_id=twenty.slot_id, change="taken"), "still to come", None),
    ]
    for kwargs, words, field in cases:
        with pytest.raises(InputError) as error:
            doses.correct_dose(engine, patient_id=patient, now=now, actor="test", **kwargs)
        assert words in str(error.value), kwargs
        assert error.value.field == field, kwargs
    with pytest.raises(NotFound):
        doses.correct_dose(engine, patient_id=patient + 1, slot_id=eight.slot_id, change="undo", now=now,
                           actor="test")  # fmt: skip
    # a clinician corrects the diary but does not tick off a dose that is due now
    with pytest.raises(NotAllowed):
        doses.correct_dose(engine, patient_id=patient, slot_id=fourteen.slot_id, change="taken", now=now,
                           actor="user:9", any_time=True, may_record=False)  # fmt: skip
    for slot in (eight, fourteen, twenty):
        assert stored(engine, slot.slot_id) == ([], None)
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).where(AuditRow.action == "correct_dose")) == 0


def clinician_of(engine, patient) -> CurrentUser:
    with unit_of_work(engine) as session:
        doctor = UserRow(email="dr@example.org", display_name="Dr", password_hash=None, role="clinician",
                         created_at=datetime(2026, 11, 1))  # fmt: skip
        session.add(doctor)
        session.flush()
        session.add(AccessGrantRow(patient_id=patient, user_id=doctor.id, role="clinician",
                                   created_at=datetime(2026, 11, 1), revoked_at=None))  # fmt: skip
        doctor_id = doctor.id
    return CurrentUser(user_id=doctor_id, email="dr@example.org", display_name="Dr", role="clinician",
                       session_id=0, csrf_token="")  # fmt: skip


def test_adherence_and_the_clinicians_list_use_the_corrected_state(engine, patient):
    doctor = clinician_of(engine, patient)
    now = at(DAY, 21)
    eight = slot_at(engine, patient, at(DAY, 8), now)
    fourteen = slot_at(engine, patient, at(DAY, 14), now)
    doses.record_dose(engine, patient_id=patient, slot_id=fourteen.slot_id, status="taken",
                      now=at(DAY, 14, 2), actor="test")  # fmt: skip

    def counts():
        tally = doses.adherence(engine, patient_id=patient, first_day=DAY, last_day=DAY, now=now).total
        listed = {row.patient_id: row for row in clinic.patient_list(engine, user=doctor, now=now)}[patient]
        one = clinic.attention(engine, patient_id=patient, name="P", relation="clinician", now=now)
        assert (listed.missed, listed.skipped) == (one.missed, one.skipped)
        return tally.missed, tally.on_time, tally.late, tally.skipped, listed.missed, listed.skipped

    # 08:00 never ticked (missed), 14:00 taken, 20:00 due (the next dose is 12 h away)
    assert counts() == (1, 1, 0, 0, 1, 0)
    # the missed dose was taken after all, late: no longer missed in adherence nor in the list
    doses.correct_dose(engine, patient_id=patient, slot_id=eight.slot_id, change="taken", taken_at="09:15",
                       now=now, actor="test")  # fmt: skip
    assert counts() == (0, 1, 1, 0, 0, 0)
    # the 14:00 dose was in fact skipped
    doses.correct_dose(engine, patient_id=patient, slot_id=fourteen.slot_id, change="skipped", now=now,
                       actor="test")  # fmt: skip
    assert counts() == (0, 0, 1, 1, 0, 1)
    # undone: missed again
    doses.correct_dose(engine, patient_id=patient, slot_id=fourteen.slot_id, change="undo", now=now,
                       actor="test")  # fmt: skip
    assert counts() == (1, 0, 1, 0, 1, 0)


def test_a_correction_of_last_nights_dose_reads_the_time_near_that_dose(engine, patient):
    twenty = slot_at(engine, patient, at(DAY, 20), at(DAY, 20))
    next_morning = at(DAY + timedelta(days=1), 9)
    doses.correct_dose(engine, patient_id=patient, slot_id=twenty.slot_id, change="taken", taken_at="20:40",
                       now=next_morning, actor="test")  # fmt: skip
    assert stored(engine, twenty.slot_id) == ([("taken", datetime(2026, 12, 1, 20, 40))], "taken")
    # a full ISO time is taken as written
    doses.correct_dose(engine, patient_id=patient, slot_id=twenty.slot_id, change="taken",
                       taken_at="2026-12-01T21:30", now=next_morning, actor="test")  # fmt: skip
    assert stored(engine, twenty.slot_id) == ([("late", datetime(2026, 12, 1, 21, 30))], "late")
