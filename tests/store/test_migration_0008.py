"""Migration 0008 (issue 12): a titration that ended before the upgrade goes on from the
upgrade on, at its last step; the days it showed no doses are not made into missed doses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from dosewise.services import doses, patients, plans
from dosewise.services.plans import PlanRequest
from dosewise.store.database import build_engine, downgrade_database, unit_of_work, upgrade_database
from dosewise.store.models import DoseSlotRow


def test_an_ended_titration_goes_on_from_the_upgrade_without_missed_doses(database_url: str) -> None:
    engine = build_engine(database_url)
    upgrade_database(engine)
    real_now = datetime.now(tz=UTC)  # the migration's own clock is the real one
    entered = real_now - timedelta(days=30)
    patient = patients.create_patient(engine, name="Old", time_zone="UTC", now=entered, actor="t")
    built = plans.build_plan(PlanRequest(kind="titration", target_mg_day=30, start=entered.date()))
    plans.save_plan(engine, patient_id=patient, built=built, time_zone="UTC",
                    now=entered.replace(hour=0, minute=1), actor="t")  # fmt: skip
    last_day = built.plan.end
    downgrade_database(engine, "0007")
    with unit_of_work(engine) as session:  # as the old code stored it: the titration's slots only
        cut = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
        session.execute(delete(DoseSlotRow).where(DoseSlotRow.due_at >= cut))
    upgrade_database(engine)
    later = real_now + timedelta(minutes=1)
    gap = doses.list_day(engine, patient_id=patient, day=(real_now - timedelta(days=10)).date(), now=later)
    assert gap == []  # the weeks the old app showed nothing stay empty, not "missed"
    tomorrow = doses.list_day(
        engine, patient_id=patient, day=(real_now + timedelta(days=1)).date(), now=later
    )
    assert [slot.dose_ug for slot in tomorrow] == [10_000, 10_000, 10_000]
    with unit_of_work(engine) as session:
        ahead = session.scalar(select(func.max(DoseSlotRow.due_at)))
    assert ahead >= (real_now + timedelta(days=55)).replace(tzinfo=None)
    engine.dispose()
