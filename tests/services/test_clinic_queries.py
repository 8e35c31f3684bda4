"""The clinician's list reads every patient at once: the same answer as one patient at a time,
with a number of statements that does not grow with the number of patients (issue 11)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, update

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
from dosewise.store.models import AccessGrantRow, AttentionSummaryRow, DoseSlotRow, UserRow

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
    return sorted(found, key=lambda item: (*item.rank, item.name, item.patient_id))


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


def test_each_page_is_that_page_of_the_list_of_one_patient_at_a_time(engine):
    user = seed_clinic(engine, 24, seed=5)
    for now in (NOW, NOW + timedelta(hours=5)):
        expected = one_by_one(engine, user, now)
        pages = [
            clinic.patient_page(engine, user=user, now=now, page=number, page_size=10) for number in (1, 2, 3)
        ]
        assert [row for page in pages for row in page.rows] == expected
        assert [len(page.rows) for page in pages] == [10, 10, 4]
        assert {(page.total, page.pages, page.page_size) for page in pages} == {(24, 3, 10)}
        assert [(page.first_number, page.last_number) for page in pages] == [(1, 10), (11, 20), (21, 24)]
        assert pages[0].flagged == sum(1 for row in expected if row.reasons)
        # those who need attention first: an emergency, then urgent, then the most doses missed
        assert pages[0].rows[0].worst_triage == "emergency"
        # a page past the end is the last page
        assert clinic.patient_page(engine, user=user, now=now, page=9, page_size=10) == pages[2]


def test_the_list_takes_as_many_statements_for_3_patients_as_for_12(tmp_path):
    cold, steady = [], []
    for patients in (3, 12):
        engine = build_engine(f"sqlite:///{tmp_path / f'clinic-{patients}.sqlite3'}")
        upgrade_database(engine)
        try:
            user = seed_clinic(engine, patients, seed=patients)
            with unit_of_work(engine) as session:
                assert len(session.scalars(select(AccessGrantRow.id)).all()) == patients
            # no summary computed yet (every patient has a stale row from the start): the ranked
            # read (which finds them stale), the grants and summaries, the four grouped reads,
            # the summaries stored, and the page ranked by the database (each with its BEGIN)
            cold.append(count_statements(engine, clinic.patient_list, engine, user=user, now=NOW))
            # all valid: BEGIN and one read, ranked by the database, returning the page only
            steady.append(count_statements(engine, clinic.patient_list, engine, user=user, now=NOW))
            steady.append(
                count_statements(engine, clinic.patient_page, engine, user=user, now=NOW, page_size=2)
            )
            with engine.begin() as connection:  # all stale again
                connection.execute(update(AttentionSummaryRow).values(valid_until=None))
            cold.append(count_statements(engine, clinic.patient_list, engine, user=user, now=NOW))
        finally:
            engine.dispose()
    # the first list of the hour on an engine also checks every open-ended plan's horizon of dose
    # slots (BEGIN and one read: nothing to make here), the later ones within the hour do not
    assert cold == [15, 13, 15, 13]
    assert steady == [2, 2, 2, 2]


def summaries(engine) -> dict[int, tuple[datetime, datetime | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                AttentionSummaryRow.patient_id,
                AttentionSummaryRow.computed_at,
                AttentionSummaryRow.valid_until,
            )
        ).all()
    return {patient: (computed, valid) for patient, computed, valid in rows}


def test_a_summary_holds_until_its_valid_until_and_the_list_is_always_the_true_list(engine):
    """valid_until is never later than the first change the clock makes: a patient's
    attention just before it is the one computed; the list at and just after it (and at
    every moment in between that some patient's summary ends) is the one-by-one list."""
    user = seed_clinic(engine, 24, seed=7)
    moments: set[datetime] = set()
    for computed in (NOW, NOW + timedelta(hours=5), NOW + timedelta(days=3)):
        assert clinic.patient_list(engine, user=user, now=computed) == one_by_one(engine, user, computed)
        held = {row.patient_id: row for row in one_by_one(engine, user, computed)}
        for patient, (at, valid_until) in summaries(engine).items():
            assert valid_until is not None and at <= computed.replace(tzinfo=None) < valid_until
            assert valid_until <= at + clinic.SUMMARY_MAX_AGE
            if at != computed.replace(tzinfo=None):
                continue  # still valid from an earlier list
            last = valid_until.replace(tzinfo=UTC) - timedelta(microseconds=1)
            row = held[patient]
            again = clinic.attention(
                engine, patient_id=patient, name=row.name, relation=row.relation, now=last
            )
            assert again == row, (patient, last)
            moments.update({valid_until.replace(tzinfo=UTC), last + timedelta(microseconds=2)})
    assert len(moments) > 10
    for now in sorted(moments)[:: max(1, len(moments) // 25)]:
        assert clinic.patient_list(engine, user=user, now=now) == one_by_one(engine, user, now), now


def test_writes_between_two_lists_show_at_once(engine):
    user = seed_clinic(engine, 12, seed=3)
    now = NOW + timedelta(minutes=10)
    assert clinic.patient_list(engine, user=user, now=now) == one_by_one(engine, user, now)
    with engine.connect() as connection:
        patient = connection.scalar(
            select(DoseSlotRow.patient_id)
            .where(
                DoseSlotRow.recorded.is_(None),
                DoseSlotRow.due_at < NOW.replace(tzinfo=None) - timedelta(days=1),
            )
            .limit(1)
        )
    before = {row.patient_id: row for row in clinic.patient_list(engine, user=user, now=now)}
    # a missed dose recorded after all (skipped): one fewer missed
    missed = [
        slot
        for day in range(1, 6)
        for slot in doses.list_day(
            engine, patient_id=patient, day=(NOW - timedelta(days=day)).date(), now=now
        )
        if slot.state == "missed"
    ]
    doses.record_dose(
        engine, patient_id=patient, slot_id=missed[0].slot_id, status="skipped", now=now, actor="test"
    )
    after = {row.patient_id: row for row in clinic.patient_list(engine, user=user, now=now)}
    assert after[patient].missed == before[patient].missed - 1
    assert after[patient].skipped == before[patient].skipped + 1
    assert list(after.values()) == one_by_one(engine, user, now)
    # an emergency reported
    symptoms.record_symptoms(engine, patient_id=patient, now=now, penn_frequency=0, penn_severity=None,
                             spasticity_nrs=10, side_effects={"seizure": 3}, actor="test")  # fmt: skip
    listed = clinic.patient_list(engine, user=user, now=now)
    assert {row.patient_id: row for row in listed}[patient].worst_triage == "emergency"
    assert listed == one_by_one(engine, user, now)
    # a new plan (its slots from today replace the old plan's)
    monograph = load_monograph("baclofen")
    times = parse_clock_times(None, 3)
    plan = build_maintenance(monograph, daily_mg=10, products=parse_product_specs([], monograph),
                             start=NOW.date(), days=5, doses_per_day=3, kidney=None)  # fmt: skip
    start_plan(
        engine, patient_id=patient, plan=plan, times=times, zone=ZoneInfo("UTC"), now=now, actor="test"
    )
    later = now + timedelta(hours=12)
    assert clinic.patient_list(engine, user=user, now=now) == one_by_one(engine, user, now)
    assert clinic.patient_list(engine, user=user, now=later) == one_by_one(engine, user, later)


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


def test_the_clinic_page_says_how_many_patients_and_links_the_next_page(web_app, web, monkeypatch):
    from conftest import sign_up

    engine = web_app.state.context.engine
    seed_clinic(engine, 7, seed=2)
    doctor = sign_up(web, "dr.who@example.org", role="clinician")
    with unit_of_work(engine) as session:
        for grant in session.scalars(select(AccessGrantRow)):
            session.add(AccessGrantRow(patient_id=grant.patient_id, user_id=doctor, role="clinician",
                                       created_at=NOW.replace(tzinfo=None), revoked_at=None))  # fmt: skip
    monkeypatch.setattr(clinic, "PAGE_SIZE", 3)
    first, last = web.get("/clinic"), web.get("/clinic?page=3")
    assert first.status_code == last.status_code == 200
    assert "<strong>7 patients</strong>" in first.text and "Page 1 of 3: patients 1–3" in first.text
    assert first.text.count('<th scope="row">') == 3 and last.text.count('<th scope="row">') == 1
    assert 'href="/clinic?page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    assert 'href="/clinic?page=2" rel="prev"' in last.text and 'rel="next"' not in last.text
    assert web.get("/clinic?page=0").status_code == 400  # pages start at 1
