"""I missed a dose: take it now or skip it? One rule for the one-off question and the diary.

The decision is :func:`dosewise.domain.missed_dose.too_late_to_take` [NHS], the rule the
diary's states ("due", "missed") use too. The one-off question (:func:`advise_missed`, the
``dosewise missed`` command) reads the dose times as typed; everything that has a diary asks
:func:`advise_missed_from_diary` or :func:`advise_slot`, which read the REAL doses: the missed
one, the one after it (a plan change may have moved it) and the next one to take. Today, the
Missed page, the API and ``diary today`` all give the same answer for a dose at any moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from dosewise.errors import InputError, NotFound
from dosewise.monographs import DEFAULT_DRUG, load_monograph

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dosewise.domain.adherence import Slot
    from dosewise.domain.missed_dose import MissedDoseAdvice
    from dosewise.domain.monograph import Monograph
    from dosewise.services.doses import DueNow

# Asked by its clock time, a missed dose is looked for among those due this long before now.
LOOK_BACK = timedelta(hours=24)


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
    ``now``), given the dose ``times`` as typed, the aware time ``now`` and the last dose taken
    (the one-off question, without a diary)."""
    from dosewise.domain.missed_dose import advise_missed_dose

    return advise_missed_dose(
        load_monograph(drug).missed_dose,
        times=times,
        missed=missed,
        now=now,
        window_h=window_h,
        last_taken=last_taken,
    )


def advise_slot(
    slot: Slot,
    slots: Sequence[Slot],
    *,
    now: datetime,
    last_taken: datetime | None,
    drug: str,
    from_diary: bool = False,
) -> MissedDoseAdvice:
    """The advice for a dose of the diary from the doses really planned: ``slots`` are the
    patient's doses in due order, from ``slot`` to at least the next one to take after ``now``
    (as :func:`dosewise.services.doses.load_slots` reads them). A dose the diary has as taken
    is never to be taken again."""
    from dosewise.domain.missed_dose import advise_missed_slot, advise_recorded_dose

    rules = load_monograph(drug).missed_dose
    upcoming = next((s.due_at for s in slots if s.state == "upcoming"), None)
    if slot.recorded in ("taken", "late") and slot.taken_at is not None:
        return advise_recorded_dose(
            rules, missed_at=slot.due_at, taken_at=slot.taken_at, next_dose=upcoming, now=now
        )
    came = [s.due_at for s in slots if slot.due_at < s.due_at <= now]
    return advise_missed_slot(
        rules,
        missed_at=slot.due_at,
        following=slot.following or slot.due_at,
        came=max(came) if came else None,
        next_dose=upcoming,
        now=now,
        last_taken=last_taken,
        gap_from_diary=from_diary,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedDoseAnswer:
    """The advice, the dose of the diary it is about, and the monograph of the patient's drug
    it comes from (its sources)."""

    advice: MissedDoseAdvice
    monograph: Monograph
    slot: Slot | None = None


def advise_missed_from_diary(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    missed: time | None = None,
    slot_id: int | None = None,
) -> MissedDoseAnswer:
    """What to do about a dose of the diary: the dose ``slot_id``, or the one due at ``missed``
    o'clock (the patient's zone) in the last 24 hours. The same advice Today gives for it."""
    from dosewise.services.doses import due_now

    if (missed is None) == (slot_id is None):
        raise InputError("say which dose you missed, as the time it was due (HH:MM)", field="missed")
    due = due_now(engine, patient_id=patient_id, now=now)
    local_now = due.now
    recent = [s for s in due.slots if local_now - LOOK_BACK <= s.due_at <= local_now]
    if slot_id is not None:
        slot = next((s for s in due.slots if s.slot_id == slot_id and s.due_at <= local_now), None)
        if slot is None:
            raise NotFound(f"no dose #{slot_id} due in the last 24 hours for this patient (see Today)")
    else:
        assert missed is not None
        found = [s for s in recent if s.due_at.time() == missed]
        if not found:
            raise InputError(_no_dose_at(missed, recent, due), field="missed")
        slot = found[-1]
    advice = advise_slot(
        slot, due.slots, now=local_now, last_taken=due.no_dose_since, drug=due.monograph.name, from_diary=True
    )
    return MissedDoseAnswer(advice=advice, monograph=due.monograph, slot=slot)


def _no_dose_at(missed: time, recent: list[Slot], due: DueNow) -> str:
    if not due.slots and due.routine.kind is None:
        return "there is no plan yet: make a plan first, then Dosewise knows the dose times"
    if recent:
        clocks = ", ".join(dict.fromkeys(f"{s.due_at:%H:%M}" for s in recent))
        return f"no dose was due at {missed:%H:%M} in the last 24 hours: your doses were at {clocks}"
    if due.routine.stopped and due.routine.stop_date is not None:
        return f"no doses are planned: baclofen was stopped on {due.routine.stop_date:%d %B %Y} after a taper"
    return f"no dose was due at {missed:%H:%M} in the last 24 hours"
