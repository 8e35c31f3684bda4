"""The clinician's list counts the triage results kept (issue 13): the worst of the period, with
when it was given, ranked emergency > urgent > doses missed, by the database and in Python alike,
valid until one leaves the period. On SQLite and PostgreSQL (``engine``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from test_clinic_queries import NOW, one_by_one, seed_clinic, summaries

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.triage import triage as grade
from dosewise.monographs import load_monograph
from dosewise.services import clinic, symptoms
from dosewise.services.auth import CurrentUser
from dosewise.services.patients import create_patient
from dosewise.services.plans import start_plan
from dosewise.services.triage import store_result
from dosewise.store.database import unit_of_work
from dosewise.store.models import AccessGrantRow, AttentionSummaryRow, PatientRow, UserRow

MONOGRAPH = load_monograph("baclofen")
ZONE = ZoneInfo("Europe/London")
SAID = (["seizure"], ["fainting"], ["drowsiness"], ["high_fever"])  # emergency, urgent, routine, urgent


def clinic_of(engine, count: int) -> tuple[CurrentUser, list[int]]:
    """A clinician let in by ``count`` patients in London, each with a plan started ten days ago
    and no dose recorded (the same doses missed)."""
    patients = [
        create_patient(engine, name=f"P{n}", time_zone=str(ZONE), now=NOW - timedelta(days=30), actor="t")
        for n in range(count)
    ]
    with unit_of_work(engine) as session:
        doctor = UserRow(email="doc@example.org", display_name="Dr", password_hash=None, role="clinician",
                         created_at=NOW.replace(tzinfo=None))  # fmt: skip
        session.add(doctor)
        session.flush()
        doctor_id = doctor.id
        for patient in patients:
            session.add(AccessGrantRow(patient_id=patient, user_id=doctor_id, role="clinician",
                                       created_at=NOW.replace(tzinfo=None), revoked_at=None))  # fmt: skip
    first_day = NOW.date() - timedelta(days=10)
    times = parse_clock_times(None, 3)
    plan = build_maintenance(MONOGRAPH, daily_mg=15, products=parse_product_specs([], MONOGRAPH),
                             start=first_day, days=20, doses_per_day=3, kidney=None)  # fmt: skip
    for patient in patients:
        saved = datetime.combine(first_day, times[0], ZONE) - timedelta(hours=3)
        start_plan(engine, patient_id=patient, plan=plan, times=times, zone=ZONE, now=saved, actor="t")
    user = CurrentUser(user_id=doctor_id, email="doc@example.org", display_name="Dr", role="clinician",
                       session_id=0, csrf_token="unused")  # fmt: skip
    return user, patients


def summary(engine, patient: int) -> tuple[int, datetime | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(AttentionSummaryRow.version, AttentionSummaryRow.valid_until).where(
                AttentionSummaryRow.patient_id == patient
            )
        ).one()
    return row[0], row[1]


def keep(engine, patient: int, said: list[str], at: datetime, *, entry: int | None = None) -> int:
    """A triage result kept as the services keep it (the entry's, when ``entry`` is given)."""
    with unit_of_work(engine) as session:
        return store_result(session, patient_id=patient, now=at, actor="t", result=grade(MONOGRAPH, said),
                            inputs={"symptoms": said, "answers": {}}, symptom_entry_id=entry)  # fmt: skip


def keep_some(engine, seed: int) -> None:
    """Up to three results per patient over the last ten days (some before the period)."""
    chance = random.Random(seed)
    with engine.connect() as connection:
        patients = list(connection.scalars(select(PatientRow.id).order_by(PatientRow.id)))
    for patient in patients:
        for _ in range(chance.randint(0, 3)):
            at = NOW - timedelta(minutes=chance.randint(0, 10 * 24 * 60))
            keep(engine, patient, chance.choice(SAID), at)


def test_the_list_with_kept_results_is_the_list_of_one_patient_at_a_time(engine):
    user = seed_clinic(engine, 24, seed=11)
    keep_some(engine, seed=11)
    for now in (NOW, NOW + timedelta(hours=5), NOW + timedelta(days=2), NOW + timedelta(days=6)):
        grouped = clinic.patient_list(engine, user=user, now=now)
        assert grouped == one_by_one(engine, user, now), now
    flags = clinic.patient_list(engine, user=user, now=NOW)
    dated = [row for row in flags if row.worst_triage is not None]
    assert dated and all(row.worst_triage_at is not None for row in dated)
    assert all(row.worst_triage_at is None for row in flags if row.worst_triage is None)
    # in each patient's own zone
    zones = {str(row.worst_triage_at.tzinfo) for row in dated}
    assert len(zones) > 1


def test_a_summary_holds_until_a_kept_result_leaves_the_period(engine):
    user = seed_clinic(engine, 16, seed=13)
    keep_some(engine, seed=13)
    moments: set[datetime] = set()
    for computed in (NOW, NOW + timedelta(days=2)):
        assert clinic.patient_list(engine, user=user, now=computed) == one_by_one(engine, user, computed)
        held = {row.patient_id: row for row in one_by_one(engine, user, computed)}
        for patient, (at, valid_until) in summaries(engine).items():
            if at != computed.replace(tzinfo=None):
                continue
            last = valid_until.replace(tzinfo=UTC) - timedelta(microseconds=1)
            row = held[patient]
            again = clinic.attention(
                engine, patient_id=patient, name=row.name, relation=row.relation, now=last
            )
            assert again == row and again.worst_triage_at == row.worst_triage_at, (patient, last)
            moments.update({valid_until.replace(tzinfo=UTC), last + timedelta(microseconds=2)})
    for now in sorted(moments)[:: max(1, len(moments) // 20)]:
        assert clinic.patient_list(engine, user=user, now=now) == one_by_one(engine, user, now), now


def test_kept_results_rank_emergency_then_urgent_then_missed_doses_with_their_dates(engine, monkeypatch):
    user, (plain, worst, urgent, from_entry) = clinic_of(engine, 4)  # every dose missed: the same counts
    emergency_at = NOW - timedelta(days=6)
    keep(engine, worst, ["seizure"], emergency_at)
    keep(engine, worst, ["fainting"], NOW - timedelta(days=2))  # urgent, newer
    keep(engine, worst, ["seizure"], NOW - timedelta(days=9))  # before the period: not counted
    keep(engine, urgent, ["high_fever"], NOW - timedelta(days=1))
    keep(engine, urgent, ["drowsiness"], NOW - timedelta(hours=1))  # routine: never flagged
    entry_at = NOW - timedelta(days=3)
    entry = symptoms.record_symptoms(engine, patient_id=from_entry, now=entry_at, penn_frequency=0,
                                     penn_severity=None, spasticity_nrs=2, side_effects={"nausea": 1},
                                     actor="t")  # fmt: skip
    # kept with the entry a minute later: the entry's own triage, at the entry's time (not twice)
    keep(engine, from_entry, ["fainting"], entry_at + timedelta(minutes=1), entry=entry)

    listed = clinic.patient_list(engine, user=user, now=NOW)
    assert listed == one_by_one(engine, user, NOW)
    # an emergency, then urgent (by name), then doses missed alone
    assert [row.patient_id for row in listed] == [worst, urgent, from_entry, plain]
    assert listed[-1].patient_id == plain and listed[-1].worst_triage is None
    rows = {row.patient_id: row for row in listed}
    assert (rows[worst].worst_triage, rows[worst].worst_triage_at) == ("emergency", emergency_at)
    assert str(rows[worst].worst_triage_at.tzinfo) == "Europe/London"
    assert (rows[urgent].worst_triage, rows[urgent].worst_triage_at) == ("urgent", NOW - timedelta(days=1))
    assert (rows[from_entry].worst_triage, rows[from_entry].worst_triage_at) == ("urgent", entry_at)
    assert rows[worst].reasons[0] == "emergency triage on 4 Dec 15:30"  # London in December: UTC
    # the database ranked the page (every summary valid); Python ranks the same when it cannot store
    monkeypatch.setattr(clinic, "_write", lambda *args: False)
    with engine.begin() as connection:
        from sqlalchemy import update

        from dosewise.store.models import AttentionSummaryRow

        connection.execute(update(AttentionSummaryRow).values(valid_until=None))
    assert clinic.patient_list(engine, user=user, now=NOW) == listed
    monkeypatch.undo()
    assert clinic.patient_list(engine, user=user, now=NOW) == listed  # stored again, valid

    # the summary lasts no longer than the emergency stays in the period
    valid_until = summary(engine, worst)[1]
    assert valid_until is not None and valid_until <= (emergency_at + clinic.LOOK_BACK).replace(tzinfo=None)
    # once it has left: the urgent result, with its own date
    later = emergency_at + clinic.LOOK_BACK + timedelta(minutes=1)
    rows = {row.patient_id: row for row in clinic.patient_list(engine, user=user, now=later)}
    assert (rows[worst].worst_triage, rows[worst].worst_triage_at) == ("urgent", NOW - timedelta(days=2))
    assert list(rows.values()) == one_by_one(engine, user, later)


def test_keeping_a_result_makes_the_summary_stale(engine):
    user, (ann, bob) = clinic_of(engine, 2)
    clinic.patient_list(engine, user=user, now=NOW)
    version = summary(engine, ann)[0]
    assert summary(engine, ann)[1] is not None and summary(engine, bob)[1] is not None
    keep(engine, ann, ["seizure"], NOW)
    assert summary(engine, ann)[1] is None and summary(engine, ann)[0] != version  # stale (a trigger)
    assert summary(engine, bob)[1] is not None
    rows = {row.patient_id: row for row in clinic.patient_list(engine, user=user, now=NOW)}
    assert (rows[ann].worst_triage, rows[ann].worst_triage_at) == ("emergency", NOW)
