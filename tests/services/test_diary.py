"""The diary's use cases on SQLite and PostgreSQL: plans replacing plans, late doses, what is due,
adherence, missed-dose advice and triage from the history, notes and medicines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.taper import build_taper
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError, NotFound
from dosewise.services import doses, medicines, notes, patients, plans, symptoms, triage
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    AuditRow,
    DoseEventRow,
    DoseSlotRow,
    MedicineRow,
    NoteRow,
    PlanRow,
    ProductRow,
)

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)
TIMES = parse_clock_times(None, 3)  # 08:00, 14:00, 20:00


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def patient(engine):
    return patients.create_patient(engine, name="P", time_zone="Europe/London", now=at(DAY, 7), actor="test")


def start(engine, patient, plan, now):
    return plans.start_plan(
        engine, patient_id=patient, plan=plan,
        times=TIMES, zone=LONDON, now=now, actor="test",
    )  # fmt: skip


def titration(monograph, start_day=DAY, **kwargs):
    products = parse_product_specs([], monograph)
    return build_titration(monograph, target_daily_mg=30, products=products, start=start_day, **kwargs)


def slots_of(engine, patient, day, now):
    return doses.list_day(engine, patient_id=patient, day=day, now=now)


def test_a_new_plan_takes_over_at_the_next_dose_time(engine, patient, monograph):
    first = start(engine, patient, titration(monograph), at(DAY, 7))
    day1 = slots_of(engine, patient, DAY, at(DAY, 9))
    doses.record_dose(engine, patient_id=patient, slot_id=day1[0].slot_id, status="taken", now=at(DAY, 8, 5),
                      actor="test")  # fmt: skip
    maintenance = build_maintenance(
        monograph, daily_mg=15, products=parse_product_specs([], monograph), start=DAY, days=10
    )
    second = start(engine, patient, maintenance, at(DAY, 13))
    slots = slots_of(engine, patient, DAY, at(DAY, 13))
    # saved at 13:00: the 08:00 dose of the first plan was recorded and stays; the new plan takes
    # over at the next dose time (14:00), and the first plan's 14:00 and 20:00 are cancelled
    assert [(s.plan_id, s.due_at.hour) for s in slots] == [(first, 8), (second, 14), (second, 20)]
    with unit_of_work(engine) as session:
        old = session.get(PlanRow, first)
        assert old.superseded_at == datetime(2026, 12, 1, 14, 0)  # UTC: the new plan's next dose
        assert session.get(PlanRow, second).takes_over_at == datetime(2026, 12, 1, 14, 0)
        assert session.scalars(select(ProductRow.spec).order_by(ProductRow.spec)).all() == [
            "tablet:10mg:halves", "tablet:20mg:halves", "tablet:5mg:whole",
        ]  # fmt: skip


def test_late_early_and_states(engine, patient, monograph):
    start(engine, patient, titration(monograph), at(DAY, 7))
    morning, _noon, evening = slots_of(engine, patient, DAY, at(DAY, 7))
    now = at(DAY, 15)
    late = doses.record_dose(engine, patient_id=patient, slot_id=morning.slot_id, status="taken", now=now,
                             taken_at=at(DAY, 9, 30), actor="test")  # fmt: skip
    assert late.status == "late"  # more than the 1 h default after 08:00
    with pytest.raises(InputError, match="at most 2 hours before it is due"):
        doses.record_dose(engine, patient_id=patient, slot_id=evening.slot_id + 3, status="skipped", now=now,
                          actor="test")  # fmt: skip
    states = {s.due_at.hour: s.state for s in slots_of(engine, patient, DAY, now)}
    assert states == {8: "late", 14: "due", 20: "upcoming"}
    # at 18:30 the 20:00 dose is less than 2 h away: the 14:00 dose is now missed [NHS]
    states = {s.due_at.hour: s.state for s in slots_of(engine, patient, DAY, at(DAY, 18, 30))}
    assert states == {8: "late", 14: "missed", 20: "upcoming"}


def test_due_now_gives_the_missed_dose_advice(engine, patient, monograph):
    start(engine, patient, titration(monograph), at(DAY, 7))
    due = doses.due_now(engine, patient_id=patient, now=at(DAY, 10))
    ((slot, advice),) = due.overdue
    assert (slot.due_at.hour, advice.action) == (8, "take_now")
    assert due.next_dose is not None and due.next_dose.due_at.hour == 14
    # a whole day later, nothing taken since the plan began: no simple restart
    morning = slots_of(engine, patient, DAY, at(DAY, 7))[0]
    doses.record_dose(engine, patient_id=patient, slot_id=morning.slot_id, status="taken", now=at(DAY, 8),
                      actor="test")  # fmt: skip
    later = doses.due_now(engine, patient_id=patient, now=at(DAY + timedelta(days=1), 10))
    assert [advice.action for _, advice in later.overdue] == ["contact_prescriber"]
    assert later.missed_recently  # yesterday's doses


def test_adherence_per_day_and_step(engine, patient, monograph):
    start(engine, patient, titration(monograph), at(DAY, 7))
    now = at(DAY + timedelta(days=3), 12)
    for day_offset in range(3):
        for slot in slots_of(engine, patient, DAY + timedelta(days=day_offset), now):
            if slot.due_at.hour == 8:
                doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="taken",
                                  now=now, taken_at=slot.due_at, actor="test")  # fmt: skip
            elif slot.due_at.hour == 14 and day_offset == 0:
                doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="skipped",
                                  now=now, actor="test")  # fmt: skip
    result = doses.adherence(
        engine, patient_id=patient, first_day=DAY, last_day=DAY + timedelta(days=3), now=now
    )
    assert [(d, t.on_time, t.skipped, t.missed, t.pending) for d, t in result.by_day] == [
        (DAY, 1, 1, 1, 0),
        (DAY + timedelta(days=1), 1, 0, 2, 0),
        (DAY + timedelta(days=2), 1, 0, 2, 0),
        (DAY + timedelta(days=3), 0, 0, 0, 3),  # at noon the 08:00 dose is still due: 14:00 is 2 h away
    ]
    assert result.by_step[0][2].planned == 9  # step 1: three days of three doses
    assert result.total.taken_share == pytest.approx(3 / 9)


def test_triage_reads_missed_doses_kidney_and_a_finished_taper(engine, patient, monograph):
    start(engine, patient, titration(monograph), at(DAY, 7))
    calm = triage.assess_symptoms_from_diary(
        engine, patient_id=patient, symptoms=["hallucinations"], now=at(DAY, 7, 30)
    )
    assert calm.result.level == "urgent"  # no dose missed yet: not a withdrawal sign
    missed = triage.assess_symptoms_from_diary(
        engine, patient_id=patient, symptoms=["hallucinations"], now=at(DAY, 21)
    )
    assert missed.result.level == "emergency"
    taper = build_taper(monograph, from_daily_mg=15, products=parse_product_specs([], monograph), start=DAY)
    start(engine, patient, taper, at(DAY, 7))
    after = DAY + timedelta(days=taper.steps[-1].days * len(taper.steps) + 20)
    context = triage.diary_context(engine, patient_id=patient, now=at(after, 12))
    assert context.stopped_hours_ago is not None and context.stopped_hours_ago > 0


def test_side_effects_are_names_from_the_triage_list(engine, patient):
    entry = symptoms.record_symptoms(
        engine, patient_id=patient, now=at(DAY, 9), penn_frequency=1, penn_severity=1, spasticity_nrs=3,
        side_effects={"seeing things": 2, "Drowsiness": 1}, actor="test",
    )  # fmt: skip
    assert entry > 0
    with pytest.raises(InputError, match="not on the list"):
        symptoms.record_symptoms(
            engine, patient_id=patient, now=at(DAY, 9), penn_frequency=0, penn_severity=None,
            spasticity_nrs=3, side_effects={"purple toes": 1}, actor="test",
        )  # fmt: skip


def test_notes_and_medicines(engine, patient):
    other = patients.create_patient(engine, name="Q", time_zone="UTC", now=at(DAY, 7), actor="test")
    with pytest.raises(InputError, match="empty"):
        notes.add_note(engine, patient_id=patient, text="  ", now=at(DAY, 9), actor="test")
    with pytest.raises(InputError, match="at most 4000"):
        notes.add_note(engine, patient_id=patient, text="x" * 4001, now=at(DAY, 9), actor="test")
    notes.add_note(engine, patient_id=patient, text="slept badly", now=at(DAY, 9), actor="test")
    first = medicines.add_medicine(
        engine, patient_id=patient, name=" Oxycodone ", now=at(DAY, 9), actor="test"
    )
    again = medicines.add_medicine(
        engine, patient_id=patient, name="oxycodone", now=at(DAY, 10), actor="test"
    )
    assert first == again  # the same medicine is listed once
    with pytest.raises(NotFound):
        medicines.stop_medicine(engine, patient_id=other, medicine_id=first, now=at(DAY, 11), actor="test")
    medicines.stop_medicine(engine, patient_id=patient, medicine_id=first, now=at(DAY, 11), actor="test")
    assert medicines.list_medicines(engine, patient_id=patient) == []
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(NoteRow)) == 1
        assert session.scalar(select(func.count()).select_from(MedicineRow)) == 1
        actions = session.scalars(select(AuditRow.action).where(AuditRow.patient_id == patient)).all()
        assert {"note", "add_medicine", "stop_medicine"} <= set(actions)


def test_a_slot_of_another_patient_is_not_found(engine, patient, monograph):
    start(engine, patient, titration(monograph), at(DAY, 7))
    other = patients.create_patient(engine, name="Q", time_zone="UTC", now=at(DAY, 7), actor="test")
    slot = slots_of(engine, patient, DAY, at(DAY, 9))[0]
    with pytest.raises(NotFound):
        doses.record_dose(engine, patient_id=other, slot_id=slot.slot_id, status="taken", now=at(DAY, 9),
                          actor="test")  # fmt: skip
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(DoseEventRow)) == 0
        assert session.scalar(select(func.count()).select_from(DoseSlotRow)) > 0


def test_the_day_follows_the_patient_zone_across_dst(engine, monograph):
    patient = patients.create_patient(
        engine, name="P", time_zone="Europe/London", now=at(DAY, 7), actor="test"
    )
    spring = date(2027, 3, 28)  # clocks go forward at 01:00
    start(engine, patient, titration(monograph, start_day=spring - timedelta(days=1)), at(DAY, 7))
    slots = slots_of(engine, patient, spring, datetime(2027, 3, 1, tzinfo=UTC))
    assert [s.due_at.strftime("%H:%M %Z") for s in slots] == ["08:00 BST", "14:00 BST", "20:00 BST"]
