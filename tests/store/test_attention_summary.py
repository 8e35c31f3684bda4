"""Attention summaries (migration 0007) go stale the moment a row they come from is written,
whatever writes it: the services, raw SQL, a CSV import or a restore; and a summary computed
from rows read before a write is never stored as valid after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.monographs import load_monograph
from dosewise.services import clinic, doses, storage, symptoms
from dosewise.services.access import patients_of
from dosewise.services.auth import CurrentUser
from dosewise.services.patients import create_patient
from dosewise.services.plans import start_plan
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    AccessGrantRow,
    AttentionSummaryRow,
    DoseEventRow,
    DoseSlotRow,
    PlanRow,
    SymptomEntryRow,
    UserRow,
)

NOW = datetime(2026, 12, 10, 15, 30, tzinfo=UTC)
ZONE = ZoneInfo("Europe/London")


def start(engine, patient: int, first_day, days: int) -> None:
    monograph = load_monograph("baclofen")
    times = parse_clock_times(None, 3)
    plan = build_maintenance(monograph, daily_mg=15, products=parse_product_specs([], monograph),
                             start=first_day, days=days, doses_per_day=3, kidney=None)  # fmt: skip
    start_plan(engine, patient_id=patient, plan=plan, times=times, zone=ZONE,
               now=datetime.combine(first_day, times[0], ZONE) - timedelta(hours=3), actor="t")  # fmt: skip


def clinic_of(engine, count: int) -> tuple[CurrentUser, list[int]]:
    patients = [
        create_patient(
            engine, name=f"P{n}", time_zone="Europe/London", now=NOW - timedelta(days=30), actor="t"
        )
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
    for patient in patients:
        start(engine, patient, NOW.date() - timedelta(days=10), 20)
    user = CurrentUser(user_id=doctor_id, email="doc@example.org", display_name="Dr", role="clinician",
                       session_id=0, csrf_token="unused")  # fmt: skip
    return user, patients


def valid_until(engine, patient: int) -> datetime | None:
    """When the patient's summary stops being valid (None: stale). Every patient has a row."""
    found = summary(engine, patient)
    assert found is not None, "every patient has a summary row from the start (a trigger)"
    return found[1]


def summary(engine, patient: int) -> tuple[int, datetime | None] | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(AttentionSummaryRow.version, AttentionSummaryRow.valid_until).where(
                AttentionSummaryRow.patient_id == patient
            )
        ).first()
    return None if row is None else (row[0], row[1])


def true_list(engine, user: CurrentUser, now: datetime) -> list[clinic.Attention]:
    found = [clinic.attention(engine, patient_id=p.patient_id, name=p.name, relation=p.relation, now=now)
             for p in patients_of(engine, user=user) if p.relation != "owner"]  # fmt: skip
    return sorted(found, key=lambda item: (*item.rank, item.name, item.patient_id))


def listed_fresh(engine, user: CurrentUser, patients: list[int]) -> dict[int, int]:
    """List (refreshing what is stale); every summary valid after it: their versions."""
    assert clinic.patient_list(engine, user=user, now=NOW) == true_list(engine, user, NOW)
    versions = {}
    for patient in patients:
        found = summary(engine, patient)
        assert found is not None and found[1] is not None and found[1] > NOW.replace(tzinfo=None)
        versions[patient] = found[0]
    return versions


def assert_stale(engine, patient: int, version: int) -> None:
    found = summary(engine, patient)
    assert found is not None and found[1] is None and found[0] != version


def test_every_write_path_makes_the_summary_stale(engine):
    user, (ann, bob) = clinic_of(engine, 2)
    versions = listed_fresh(engine, user, [ann, bob])
    slot = next(s for s in doses.list_day(engine, patient_id=ann, day=NOW.date(), now=NOW) if s.due_at < NOW)
    doses.record_dose(engine, patient_id=ann, slot_id=slot.slot_id, status="taken", now=NOW, actor="t")
    assert_stale(engine, ann, versions[ann])
    assert summary(engine, bob) == (versions[bob], summary(engine, bob)[1])  # the other patient's stays
    assert summary(engine, bob)[1] is not None

    versions = listed_fresh(engine, user, [ann, bob])
    symptoms.record_symptoms(engine, patient_id=bob, now=NOW, penn_frequency=1, penn_severity=2,
                             spasticity_nrs=6, side_effects={"seizure": 3}, actor="t")  # fmt: skip
    assert_stale(engine, bob, versions[bob])
    assert summary(engine, ann)[1] is not None

    versions = listed_fresh(engine, user, [ann, bob])
    start(engine, ann, NOW.date() + timedelta(days=1), 5)  # a new plan: later slots deleted, new ones
    assert_stale(engine, ann, versions[ann])

    for change, touched in (  # raw SQL on each table
        (lambda c: c.execute(delete(DoseEventRow)), [ann]),  # Bob recorded no dose
        (lambda c: c.execute(update(SymptomEntryRow).values(spasticity_nrs=1)), [bob]),
        (lambda c: c.execute(delete(DoseSlotRow).where(DoseSlotRow.patient_id == bob)), [bob]),
        (lambda c: c.execute(update(PlanRow).values(crcl_ml_min=40.0)), [ann, bob]),
    ):
        versions = listed_fresh(engine, user, [ann, bob])
        with engine.begin() as connection:
            change(connection)
        for patient in touched:
            assert_stale(engine, patient, versions[patient])
    listed_fresh(engine, user, [ann, bob])


def test_an_import_or_a_restore_leaves_no_summary(engine, tmp_path):
    user, patients = clinic_of(engine, 2)
    listed_fresh(engine, user, patients)
    folder = tmp_path / "export"
    counts = storage.export_tables(engine, str(folder), patient_id=patients[0], now=NOW)
    assert "attention_summaries" not in counts and not (folder / "attention_summaries.csv").exists()
    from dosewise.store.transfer import export_csv

    export_csv(engine, str(tmp_path / "all"), now=NOW)
    storage.import_tables(engine, str(tmp_path / "all"))
    assert [valid_until(engine, patient) for patient in patients] == [None, None]  # all stale
    listed_fresh(engine, user, patients)
    storage.backup_database(engine, str(tmp_path / "backup.sqlite3"))
    storage.restore_database(engine, str(tmp_path / "backup.sqlite3"))
    with engine.connect() as connection:
        valid = (
            select(func.count())
            .select_from(AttentionSummaryRow)
            .where(AttentionSummaryRow.valid_until.is_not(None))
        )
        assert connection.scalar(valid) == 0  # restored patients start with stale summaries
    listed_fresh(engine, user, patients)


def test_a_summary_read_before_a_write_is_not_stored_as_valid(engine, monkeypatch):
    user, (ann,) = clinic_of(engine, 1)
    gather = clinic._gather

    def gather_then_write(*args, **kwargs):
        found = gather(*args, **kwargs)  # the rows are read: now a dose is recorded
        slot = next(
            s for s in doses.list_day(engine, patient_id=ann, day=NOW.date(), now=NOW) if s.recorded is None
        )
        doses.record_dose(engine, patient_id=ann, slot_id=slot.slot_id, status="skipped", now=NOW, actor="t")
        return found

    monkeypatch.setattr(clinic, "_gather", gather_then_write)
    clinic.patient_list(engine, user=user, now=NOW)  # no summary yet: a placeholder, then computed
    assert summary(engine, ann)[1] is None  # computed before the write: not stored
    clinic.patient_list(engine, user=user, now=NOW)  # a stale summary
    assert summary(engine, ann)[1] is None
    monkeypatch.setattr(clinic, "_gather", gather)
    assert clinic.patient_list(engine, user=user, now=NOW) == true_list(engine, user, NOW)
    assert summary(engine, ann)[1] is not None


def test_a_store_that_cannot_take_the_lock_still_answers(engine, monkeypatch):
    user, patients = clinic_of(engine, 2)
    monkeypatch.setattr(clinic, "_write", lambda *args: False)
    assert clinic.patient_list(engine, user=user, now=NOW) == true_list(engine, user, NOW)
    assert [valid_until(engine, patient) for patient in patients] == [None, None]  # not stored


def test_on_sqlite_a_list_does_not_wait_for_a_writer_to_store_summaries(engine):
    user, patients = clinic_of(engine, 2)
    if engine.dialect.name != "sqlite":
        return
    import time

    with engine.connect() as writer:
        writer.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the write lock is held
        started = time.perf_counter()
        assert clinic.patient_list(engine, user=user, now=NOW) == true_list(engine, user, NOW)
        assert time.perf_counter() - started < 2  # not the 10 s busy timeout
        writer.rollback()
    assert [valid_until(engine, patient) for patient in patients] == [None, None]  # not stored
    listed_fresh(engine, user, patients)  # and the next list stores them


def test_every_patient_has_a_stale_summary_from_the_start(engine):
    """So a write racing the list's first look at a patient always finds a row to mark stale
    (its version changes) and the list cannot store a summary read before that write."""
    from dosewise.services import patients as patient_service

    patient = patient_service.create_patient(engine, name="New", time_zone="UTC", now=NOW, actor="t")
    found = summary(engine, patient)
    assert found is not None and found[1] is None
