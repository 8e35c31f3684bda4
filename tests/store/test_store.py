"""Storage (issue 5, first part): migrations, durability settings, idempotent dose records.

Every test that takes `engine` runs twice: on SQLite and on a private PostgreSQL server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError, NotFound
from dosewise.services.doses import record_dose
from dosewise.services.patients import create_patient
from dosewise.services.plans import start_plan
from dosewise.services.symptoms import record_symptoms
from dosewise.store.database import build_engine, downgrade_database, unit_of_work, upgrade_database
from dosewise.store.models import Base, DoseEventRow, DoseSlotRow, SymptomEntryRow

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ENTERED = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # the plan was entered before its first dose
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def diary(engine, monograph):
    patient = create_patient(engine, name="A. Patient", time_zone="Europe/London", now=NOW, actor="test")
    plan = build_titration(
        monograph, target_daily_mg=30, products=parse_product_specs([], monograph), start=date(2026, 12, 1)
    )
    plan_id = start_plan(
        engine, patient_id=patient, plan=plan,
        times=parse_clock_times(None, 3), zone=LONDON, now=ENTERED, actor="test",
    )  # fmt: skip
    with unit_of_work(engine) as session:
        slots = session.scalars(
            select(DoseSlotRow.id).where(DoseSlotRow.plan_id == plan_id).order_by(DoseSlotRow.due_at)
        ).all()
    return patient, list(slots)


def count(engine, row):
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(row))


def test_migrations_up_down_and_agree_with_the_models(database_url):
    engine = build_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    assert {"patients", "plans", "dose_slots", "dose_events", "symptom_entries", "audit_log"} <= set(
        inspect(engine).get_table_names()
    )
    downgrade_database(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(engine)
    assert "dose_events" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_runs_with_durable_settings(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    engine.dispose()


def test_a_plan_becomes_one_slot_per_dose(engine, diary):
    _, slots = diary
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(DoseSlotRow.step_number, DoseSlotRow.due_at, DoseSlotRow.dose_ug).order_by(
                DoseSlotRow.due_at
            )
        ).all()
    assert sum(1 for row in rows if row.step_number == 1) == 3 * 3  # 15 mg/day for 3 days
    # 30 mg/day from day 4 on, and on after the last step: the plan never ends in nothing
    assert {row.dose_ug for row in rows if row.step_number == 2} == {10_000}
    assert rows[-1].due_at >= ENTERED.replace(tzinfo=None) + timedelta(days=60)  # made 60 days ahead
    assert len({row.due_at for row in rows}) == len(rows) == len(slots)


def test_a_dose_is_recorded_once_per_slot(engine, diary):
    patient, slots = diary
    first = record_dose(engine, patient_id=patient, slot_id=slots[0], status="taken", now=NOW, actor="test")
    again = record_dose(engine, patient_id=patient, slot_id=slots[0], status="taken", now=NOW, actor="test")
    other = record_dose(engine, patient_id=patient, slot_id=slots[0], status="skipped", now=NOW, actor="test")
    assert first.created and not again.created and not other.created
    assert again.event_id == first.event_id and other.status == "taken"
    assert count(engine, DoseEventRow) == 1


def test_bad_dose_input_leaves_the_database_unchanged(engine, diary, monograph):
    patient, slots = diary
    stranger = create_patient(engine, name="B. Other", time_zone="UTC", now=NOW, actor="test")
    with pytest.raises(NotFound):
        record_dose(engine, patient_id=stranger, slot_id=slots[0], status="taken", now=NOW, actor="test")
    with pytest.raises(NotFound):
        record_dose(engine, patient_id=patient, slot_id=99_999, status="taken", now=NOW, actor="test")
    with pytest.raises(InputError, match="in the future"):
        record_dose(
            engine, patient_id=patient, slot_id=slots[0], status="taken", now=NOW,
            taken_at=NOW + timedelta(hours=2), actor="test",
        )  # fmt: skip
    assert count(engine, DoseEventRow) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"penn_frequency": 5, "penn_severity": 1, "spasticity_nrs": 3}, "0-4"),
        ({"penn_frequency": 0, "penn_severity": 2, "spasticity_nrs": 3}, "only when frequency"),
        ({"penn_frequency": 2, "penn_severity": None, "spasticity_nrs": 3}, "1-3"),
        ({"penn_frequency": 2, "penn_severity": 2, "spasticity_nrs": 11}, "0-10"),
        (
            {"penn_frequency": 2, "penn_severity": 2, "spasticity_nrs": 3, "side_effects": {"nausea": 4}},
            "1-3",
        ),
    ],
)
def test_out_of_range_scores_are_refused(engine, diary, kwargs, message):
    patient, _ = diary
    with pytest.raises(InputError, match=message):
        record_symptoms(engine, patient_id=patient, now=NOW, actor="test", **kwargs)
    assert count(engine, SymptomEntryRow) == 0


def test_symptoms_are_stored(engine, diary):
    patient, _ = diary
    record_symptoms(
        engine, patient_id=patient, now=NOW, penn_frequency=2, penn_severity=1, spasticity_nrs=4,
        side_effects={"drowsiness": 2}, actor="test",
    )  # fmt: skip
    assert count(engine, SymptomEntryRow) == 1


def test_the_schema_head_constant_is_the_newest_migration():
    from dosewise.store.database import SCHEMA_HEAD, known_revisions

    assert known_revisions()[-1] == SCHEMA_HEAD


def test_workers_starting_together_migrate_a_new_database_once(database_url):
    """Web workers start at the same moment on an empty database: every one comes up."""
    from concurrent.futures import ThreadPoolExecutor

    from dosewise.store.database import SCHEMA_HEAD, ensure_schema, schema_revision

    engines = [build_engine(database_url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(ensure_schema, engines))
        assert schema_revision(engines[0]) == SCHEMA_HEAD
    finally:
        for engine in engines:
            engine.dispose()
