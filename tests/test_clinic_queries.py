"""The clinician's list reads every patient at once: the same answer as one patient at a time,
with a number of statements that does not grow with the number of patients (issue 11)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from dosewise.domain.kidney import assess_creatinine_clearance
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.monographs import load_monograph
from dosewise.services import clinic, doses, symptoms
from dosewise.services.auth import CurrentUser
from dosewise.services.patients import create_patient
from dosewise.services.plans import start_plan
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import AccessGrantRow, UserRow

NOW = datetime(2026, 12, 10, 15, 30, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
SIDE_EFFECTS = ({}, {}, {}, {"drowsiness": 1}, {"fainting": 2}, {"high_fever": 3}, {"seizure": 3})


def seed_clinic(engine, patients: int, *, seed: int = 1) -> CurrentUser:
    """A clinician let in by ``patients`` patients with 12-day diaries of every kind: doses
    taken, late, skipped, missed or due now, plans replaced or ended, side effects, no plan."""
    chance = random.Random(seed)
    monograph = load_monograph("baclofen")
    products = parse_product_specs([], monograph)
    with unit_of_work(engine) as session:
        doctor = UserRow(email="doc@example.org", display_name="Dr Doc", password_hash=None,
                         role="clinician", created_at=NOW.replace(tzinfo=None))  # fmt: skip
        session.add(doctor)
        session.flush()
        doctor_id = doctor.id
    for number in range(patients):
        zone_name = ZONES[number % len(ZONES)]
        zone = ZoneInfo(zone_name)
        local_now = NOW.astimezone(zone)
        first_day = local_now.date() - timedelta(days=12)
        patient = create_patient(
            engine,
            name=f"Patient {number:03d}",
            time_zone=zone_name,
            now=NOW - timedelta(days=13),
            actor="test",
        )
        with unit_of_work(engine) as session:
            session.add(AccessGrantRow(patient_id=patient, user_id=doctor_id,
                                       role="clinician" if number % 5 else "caregiver",
                                       created_at=NOW.replace(tzinfo=None), revoked_at=None))  # fmt: skip
        if number % 6 == 5:
            continue  # no plan yet
        days = 13 if number % 6 == 4 else 20  # some plans end today (their last dose: the usual gap)
        times = parse_clock_times(None, 3 if number % 2 else 4)
        kidney = assess_creatinine_clearance(monograph.kidney, 40.0) if number % 4 == 1 else None
        plans = [
            (
                first_day,
                build_maintenance(
                    monograph,
                    daily_mg=15,
                    products=products,
                    start=first_day,
                    days=days,
                    doses_per_day=len(times),
                    kidney=kidney,
                ),
            )
        ]
        if number % 6 == 3:  # a new plan took over a week ago
            later = first_day + timedelta(days=5)
            plans.append(
                (
                    later,
                    build_maintenance(
                        monograph,
                        daily_mg=20,
                        products=products,
                        start=later,
                        days=days,
                        doses_per_day=len(times),
                        kidney=kidney,
                    ),
                )
            )
        for started, plan in plans:
            start_plan(
                engine,
                patient_id=patient,
                plan=plan,
                times=times,
                zone=zone,
                now=datetime.combine(started, times[0], zone) - timedelta(hours=3),
                actor="test",
            )
        for day_number in range(13):
            day = first_day + timedelta(days=day_number)
            for slot in doses.list_day(engine, patient_id=patient, day=day, now=NOW):
                if slot.recorded is not None or slot.due_at > NOW - timedelta(hours=1):
                    continue
                roll = chance.random()
                if roll < 0.65:
                    taken = slot.due_at + timedelta(minutes=chance.choice((5, 20, 90, 200)))
                    doses.record_dose(
                        engine,
                        patient_id=patient,
                        slot_id=slot.slot_id,
                        status="taken",
                        now=min(taken, NOW),
                        taken_at=min(taken, NOW),
                        actor="test",
                    )
                elif roll < 0.8:
                    doses.record_dose(
                        engine,
                        patient_id=patient,
                        slot_id=slot.slot_id,
                        status="skipped",
                        now=slot.due_at,
                        actor="test",
                    )
            if chance.random() < 0.8:
                moment = datetime.combine(day, datetime.min.time(), zone) + timedelta(
                    hours=chance.randint(8, 22)
                )
                if moment < NOW:
                    frequency = chance.randint(0, 4)
                    symptoms.record_symptoms(
                        engine,
                        patient_id=patient,
                        now=moment,
                        penn_frequency=frequency,
                        penn_severity=chance.randint(1, 3) if frequency else None,
                        spasticity_nrs=min(10, max(0, day_number // 2 + chance.randint(0, 4))),
                        side_effects=chance.choice(SIDE_EFFECTS),
                        actor="test",
                    )
    return CurrentUser(user_id=doctor_id, email="doc@example.org", display_name="Dr Doc", role="clinician",
                       session_id=0, csrf_token="unused")  # fmt: skip


def one_by_one(engine, user: CurrentUser, now: datetime) -> list[clinic.Attention]:
    from dosewise.services.access import patients_of

    found = [clinic.attention(engine, patient_id=p.patient_id, name=p.name, relation=p.relation, now=now)
             for p in patients_of(engine, user=user) if p.relation != "owner"]  # fmt: skip
    return sorted(found, key=lambda item: item.rank)


def test_the_grouped_list_is_the_list_of_one_patient_at_a_time(engine):
    user = seed_clinic(engine, 24)
    for now in (NOW, NOW + timedelta(minutes=50), NOW + timedelta(hours=5), NOW + timedelta(days=3)):
        grouped = clinic.patient_list(engine, user=user, now=now)
        assert grouped == one_by_one(engine, user, now)
        assert len(grouped) == 24
    flags = clinic.patient_list(engine, user=user, now=NOW)
    # the diary has every kind of row the list tells apart
    assert {row.worst_triage for row in flags} >= {"emergency", "urgent", None}
    assert any(row.missed for row in flags) and any(row.skipped for row in flags)
    assert any(not row.has_plan for row in flags) and any(row.rising for row in flags)


def count_statements(engine, action, *args, **kwargs) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action(*args, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_list_takes_as_many_statements_for_3_patients_as_for_12(tmp_path):
    counts = []
    for patients in (3, 12):
        engine = build_engine(f"sqlite:///{tmp_path / f'clinic-{patients}.sqlite3'}")
        upgrade_database(engine)
        try:
            user = seed_clinic(engine, patients, seed=patients)
            with unit_of_work(engine) as session:
                assert len(session.scalars(select(AccessGrantRow.id)).all()) == patients
            counts.append(count_statements(engine, clinic.patient_list, engine, user=user, now=NOW))
        finally:
            engine.dispose()
    assert counts[0] == counts[1] <= 10


def test_a_clinician_with_no_patients_gets_an_empty_list(engine):
    user = seed_clinic(engine, 0)
    assert clinic.patient_list(engine, user=user, now=NOW) == []


def test_today_in_one_transaction_is_due_now_and_the_days_doses(engine):
    seed_clinic(engine, 6, seed=3)
    for patient in range(1, 7):
        for now in (NOW, NOW + timedelta(hours=7), NOW + timedelta(days=6, hours=2)):
            due, slots = doses.today(engine, patient_id=patient, now=now)
            assert due == doses.due_now(engine, patient_id=patient, now=now)
            assert slots == doses.list_day(engine, patient_id=patient, day=due.now.date(), now=now)
