"""I missed a dose: take it now or skip it? One advice for the one-off question and the diary.

:func:`advise_missed` is the one implementation [NHS]; :func:`advise_missed_from_diary` reads
the dose times of the current plan and the last dose taken from the diary and calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

from dosewise.errors import InputError
from dosewise.monographs import DEFAULT_DRUG, load_monograph

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dosewise.domain.missed_dose import MissedDoseAdvice
    from dosewise.domain.monograph import Monograph


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
    drug: str = DEFAULT_DRUG,
) -> MissedDoseAdvice:
    """What to do about the dose due at ``missed`` (today, or last night if that is later than
    ``now``), given the dose ``times``, the aware time ``now`` and the last dose taken."""
    from dosewise.domain.missed_dose import advise_missed_dose

    return advise_missed_dose(
        load_monograph(drug).missed_dose,
        times=times,
        missed=missed,
        now=now,
        window_h=window_h,
        last_taken=last_taken,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedDoseAnswer:
    """The advice, and the monograph of the patient's drug it comes from (its sources)."""

    advice: MissedDoseAdvice
    monograph: Monograph


def advise_missed_from_diary(
    engine: Engine, *, patient_id: int, missed: time, now: datetime
) -> MissedDoseAnswer:
    """What to do about the dose of ``missed`` o'clock (the patient's zone), with the current
    plan's dose times and drug and the last dose taken, from the diary."""
    from dosewise.services.clock import from_utc
    from dosewise.services.doses import current_dose_times, last_dose_taken
    from dosewise.services.patients import drug_of, patient_zone
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        times = current_dose_times(session, patient_id)
        last_taken = last_dose_taken(session, patient_id)
        drug = drug_of(session, patient_id)
    if not times:
        raise InputError("there is no plan yet: make a plan first, then Dosewise knows the dose times")
    plan_times = times if missed in times else tuple(sorted({*times, missed}))
    advice = advise_missed(
        times=plan_times,
        missed=missed,
        now=now.astimezone(zone),
        last_taken=from_utc(last_taken, zone) if last_taken is not None else None,
        drug=drug,
    )
    return MissedDoseAnswer(advice=advice, monograph=load_monograph(drug))
