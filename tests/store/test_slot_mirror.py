"""The derived columns of dose_slots (migration 0006) always say what the tables say: a slot's
``patient_id`` is its plan's patient, its ``recorded`` the status of its dose event (NULL when
nothing is recorded), whatever wrote the rows: the services, a restore or CSV import, raw SQL."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, insert, select, text, update

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.errors import InputError
from dosewise.monographs import load_monograph
from dosewise.services import doses
from dosewise.services.patients import create_patient
from dosewise.services.plans import start_plan
from dosewise.store.database import build_engine, downgrade_database, upgrade_database
from dosewise.store.models import DoseEventRow, DoseSlotRow, PlanRow
from dosewise.store.transfer import export_csv, import_csv

NOW = datetime(2026, 12, 10, 15, 30, tzinfo=UTC)


def mismatches(engine) -> list[tuple[object, ...]]:
    """Slots whose derived columns differ from their plan and event (none, when the rule holds)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                DoseSlotRow.id,
                DoseSlotRow.patient_id,
                PlanRow.patient_id,
                DoseSlotRow.recorded,
                DoseEventRow.status,
            )
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        ).all()
    return [row for row in rows if row[1] != row[2] or row[3] != row[4]]


def start(engine, patient: int, first_day, days: int, doses_per_day: int) -> None:
    monograph = load_monograph("baclofen")
    times = parse_clock_times(None, doses_per_day)
    plan = build_maintenance(
        monograph,
        daily_mg=15,
        products=parse_product_specs([], monograph),
        start=first_day,
        days=days,
        doses_per_day=doses_per_day,
        kidney=None,
    )
    zone = ZoneInfo("Europe/London")
    start_plan(
        engine,
        patient_id=patient,
        plan=plan,
        times=times,
        zone=zone,
        now=datetime.combine(first_day, times[0], zone) - timedelta(hours=3),
        actor="test",
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_any_plans_and_doses_the_slots_say_what_the_events_say(engine, seed):
    chance = random.Random(seed)
    patients = [
        create_patient(
            engine, name=f"P{n}", time_zone="Europe/London", now=NOW - timedelta(days=30), actor="t"
        )
        for n in range(3)
    ]
    today = NOW.date()
    for patient in patients:
        start(engine, patient, today - timedelta(days=10), 12, 3)
    for _ in range(40):
        patient = chance.choice(patients)
        action = chance.random()
        if action < 0.15:  # a plan, often taking over from an earlier one, sometimes before it
            first_day = today - timedelta(days=chance.randint(-3, 10))
            start(engine, patient, first_day, chance.randint(2, 12), chance.choice((3, 4)))
        else:  # a dose of a recent day, taken or skipped (again: the first record stays)
            day = today - timedelta(days=chance.randint(0, 10))
            slots = doses.list_day(engine, patient_id=patient, day=day, now=NOW)
            if not slots:
                continue
            slot = chance.choice(slots)
            with contextlib.suppress(InputError):  # taken in the future: refused, nothing written
                doses.record_dose(
                    engine,
                    patient_id=patient,
                    slot_id=slot.slot_id,
                    status=chance.choice(("taken", "skipped")),
                    now=max(NOW, slot.due_at),
                    taken_at=slot.due_at + timedelta(minutes=chance.choice((0, 30, 90))),
                    actor="t",
                )
        assert mismatches(engine) == []
    with engine.connect() as connection:
        counted = connection.execute(
            select(DoseSlotRow.recorded, text("count(*)")).group_by(DoseSlotRow.recorded)
        ).all()
    assert {status for status, _ in counted} >= {None, "taken"}  # the diary has both kinds


def test_raw_writes_imports_and_old_diaries_keep_the_rule(engine, tmp_path):
    patient = create_patient(engine, name="Ann", time_zone="Europe/London", now=NOW, actor="t")
    other = create_patient(engine, name="Bob", time_zone="Europe/London", now=NOW, actor="t")
    start(engine, patient, NOW.date() - timedelta(days=3), 6, 3)
    with engine.begin() as connection:
        slot_ids = connection.scalars(select(DoseSlotRow.id).order_by(DoseSlotRow.id)).all()
        plan_id = connection.scalar(select(PlanRow.id))
        # written by hand, wrongly: the database corrects both columns
        connection.execute(update(DoseSlotRow).where(DoseSlotRow.id == slot_ids[0]).values(patient_id=other))
        connection.execute(update(DoseSlotRow).where(DoseSlotRow.id == slot_ids[1]).values(recorded="taken"))
        stamp = NOW.replace(tzinfo=None)
        connection.execute(
            insert(DoseEventRow),
            [
                {"slot_id": slot_ids[2], "status": "taken", "taken_at": stamp, "recorded_at": stamp},
                {"slot_id": slot_ids[3], "status": "skipped", "taken_at": None, "recorded_at": stamp},
            ],
        )
    assert mismatches(engine) == []
    with engine.begin() as connection:  # an event changed, moved, deleted
        connection.execute(
            update(DoseEventRow).where(DoseEventRow.slot_id == slot_ids[2]).values(status="late")
        )
        connection.execute(
            update(DoseEventRow).where(DoseEventRow.slot_id == slot_ids[3]).values(slot_id=slot_ids[4])
        )
    assert mismatches(engine) == []
    with engine.begin() as connection:
        connection.execute(delete(DoseEventRow).where(DoseEventRow.slot_id == slot_ids[2]))
        connection.execute(update(PlanRow).where(PlanRow.id == plan_id).values(patient_id=other))
    assert mismatches(engine) == []
    # a CSV export edited by hand: the import recomputes what the file says wrongly
    folder = tmp_path / "export"
    export_csv(engine, str(folder), now=NOW)
    slots_csv = folder / "dose_slots.csv"
    lines = slots_csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("recorded")] = "skipped"
    cells[header.index("patient_id")] = str(patient)
    slots_csv.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    import_csv(engine, str(folder))
    assert mismatches(engine) == []
    with engine.connect() as connection:
        assert connection.scalar(select(text("count(*)")).select_from(DoseEventRow)) == 1


def test_the_migration_fills_the_columns_of_an_existing_diary(database_url):
    engine = build_engine(database_url)
    upgrade_database(engine)
    patient = create_patient(engine, name="Ann", time_zone="Europe/London", now=NOW, actor="t")
    start(engine, patient, NOW.date() - timedelta(days=2), 5, 3)
    slot = doses.list_day(engine, patient_id=patient, day=NOW.date() - timedelta(days=1), now=NOW)[0]
    doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="skipped", now=NOW, actor="t")
    downgrade_database(engine, "0005")  # no derived columns: then up again, filled from the rows
    upgrade_database(engine)
    assert mismatches(engine) == []
    with engine.connect() as connection:
        recorded = connection.scalar(select(DoseSlotRow.recorded).where(DoseSlotRow.id == slot.slot_id))
        events = connection.scalar(select(text("count(*)")).select_from(DoseEventRow))
    assert (recorded, events) == ("skipped", 1)  # and no dose event was lost on the way down
    engine.dispose()
