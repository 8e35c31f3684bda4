"""I missed a dose: take it now or skip it? One advice for the one-off question and the diary.

:func:`advise_missed` is the one implementation [NHS]; :func:`advise_missed_from_diary` reads
the dose times of the current plan and the last dose taken from the diary and calls it.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from dosewise.errors import InputError
from dosewise.monographs import load_monograph

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from dosewise.domain.missed_dose import MissedDoseAdvice


def parse_dose_times(text: str) -> tuple[time, ...]:
    """The dose times of a day as typed, ``"08:00,14:00,20:00"``, in clock order."""
    from dosewise.domain.schedule import parse_clock_times

    try:
        return parse_clock_times(text, len(text.split(",")))
    except InputError as error:
        error.field = error.field or "times"
        raise


def advise_missed(
    *,
    times: tuple[time, ...],
    missed: time,
    now: datetime,
    window_h: float | None = None,
    last_taken: datetime | None = None,
) -> MissedDoseAdvice:
    """What to do about the dose due at ``missed`` (today, or last night if that is later than
    ``now``), given the dose ``times``, the aware time ``now`` and the last dose taken."""
    from dosewise.domain.missed_dose import advise_missed_dose

    return advise_missed_dose(
        load_monograph("baclofen").missed_dose,
        times=times,
        missed=missed,
        now=now,
        window_h=window_h,
        last_taken=last_taken,
    )


def advise_missed_from_diary(
    engine: Engine, *, patient_id: int, missed: time, now: datetime
) -> MissedDoseAdvice:
    """What to do about the dose of ``missed`` o'clock (the patient's zone), with the current
    plan's dose times and the last dose taken from the diary."""
    from dosewise.services.clock import from_utc
    from dosewise.services.patients import patient_zone
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        times = _current_times(session, patient_id)
        last_taken = _last_taken(session, patient_id)
    if not times:
        raise InputError("there is no plan yet: make a plan first, then Dosewise knows the dose times")
    plan_times = times if missed in times else tuple(sorted({*times, missed}))
    return advise_missed(
        times=plan_times,
        missed=missed,
        now=now.astimezone(zone),
        last_taken=from_utc(last_taken, zone) if last_taken is not None else None,
    )


def _current_times(session: Session, patient_id: int) -> tuple[time, ...]:
    from sqlalchemy import select

    from dosewise.store.models import PlanRow

    plan = session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
    ).first()
    if plan is None:
        return ()
    return tuple(time.fromisoformat(text) for text in plan.times.split(","))


def _last_taken(session: Session, patient_id: int) -> datetime | None:
    """The last time a dose was taken (naive UTC, as stored)."""
    from sqlalchemy import select

    from dosewise.store.models import DoseEventRow, DoseSlotRow, PlanRow

    return session.scalar(
        select(DoseEventRow.taken_at)
        .join(DoseSlotRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
        .where(PlanRow.patient_id == patient_id, DoseEventRow.taken_at.is_not(None))
        .order_by(DoseEventRow.taken_at.desc())
        .limit(1)
    )
