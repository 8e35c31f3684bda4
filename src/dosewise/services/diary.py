"""The diary's use cases (issue 5, in progress): start a plan, record doses and symptoms.

A dose is recorded at most once per slot: a repeated submission returns the first record
(the unique slot column is the guarantee, also between processes racing each other).
Nothing is half-stored: validation happens before the transaction writes anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dosewise.domain.plan import Plan
from dosewise.domain.schedule import build_dose_events
from dosewise.errors import InputError, NotFound
from dosewise.store.database import unit_of_work
from dosewise.store.models import AuditRow, DoseEventRow, DoseSlotRow, PatientRow, PlanRow, SymptomEntryRow

FUTURE_TOLERANCE = timedelta(minutes=10)  # a clock a little ahead is not an error (setting)
DoseStatus = Literal["taken", "skipped"]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InputError("times need a time zone")
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseRecord:
    """A recorded dose, as the caller sees it (never an ORM row)."""

    event_id: int
    slot_id: int
    status: DoseStatus
    taken_at: datetime | None  # UTC
    recorded_at: datetime  # UTC
    created: bool  # False: this submission repeated an earlier one


def create_patient(engine: Engine, *, name: str, time_zone: str, now: datetime, actor: str) -> int:
    if not name.strip():
        raise InputError("the patient needs a name")
    with unit_of_work(engine) as session:
        patient = PatientRow(name=name.strip(), time_zone=time_zone, created_at=_utc(now))
        session.add(patient)
        session.flush()
        session.add(
            AuditRow(at=_utc(now), actor=actor, action="create", entity="patient", entity_id=patient.id)
        )
        return patient.id


def start_plan(
    engine: Engine,
    *,
    patient_id: int,
    plan: Plan,
    plan_json: dict[str, object],
    times: tuple[time, ...],
    zone: tzinfo,
    now: datetime,
    actor: str,
) -> int:
    """Store a plan and one slot per scheduled dose; returns the plan id."""
    events = build_dose_events(plan, times, zone)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        row = PlanRow(
            patient_id=patient_id,
            drug=plan.drug,
            kind=plan.kind,
            times=",".join(t.strftime("%H:%M") for t in times),
            plan_json=json.dumps(plan_json),
            created_at=_utc(now),
        )
        session.add(row)
        session.flush()
        session.add_all(
            DoseSlotRow(
                plan_id=row.id,
                due_at=_utc(event.at),
                dose_ug=event.dose_ug,
                how=event.recipe.describe(),
                step_number=event.step_number,
            )
            for event in events
        )
        session.add(AuditRow(at=_utc(now), actor=actor, action="start_plan", entity="plan", entity_id=row.id))
        return row.id


def record_dose(
    engine: Engine,
    *,
    patient_id: int,
    slot_id: int,
    status: DoseStatus,
    now: datetime,
    taken_at: datetime | None = None,
    actor: str,
) -> DoseRecord:
    """Record a slot as taken (at ``taken_at``, default now) or skipped; idempotent."""
    if status not in ("taken", "skipped"):
        raise InputError("a dose is 'taken' or 'skipped'")
    now_utc = _utc(now)
    taken_utc = None
    if status == "taken":
        taken_utc = _utc(taken_at) if taken_at is not None else now_utc
        if taken_utc > now_utc + FUTURE_TOLERANCE:
            raise InputError("a dose cannot be recorded as taken in the future")
    try:
        with unit_of_work(engine) as session:
            _check_slot(session, patient_id, slot_id)
            existing = session.scalar(select(DoseEventRow).where(DoseEventRow.slot_id == slot_id))
            if existing is not None:
                return _record(existing, created=False)
            event = DoseEventRow(slot_id=slot_id, status=status, taken_at=taken_utc, recorded_at=now_utc)
            session.add(event)
            session.flush()
            session.add(
                AuditRow(at=now_utc, actor=actor, action=status, entity="dose_slot", entity_id=slot_id)
            )
            return _record(event, created=True)
    except IntegrityError:  # another process recorded this slot first: return theirs
        with unit_of_work(engine) as session:
            existing = session.scalar(select(DoseEventRow).where(DoseEventRow.slot_id == slot_id))
            if existing is None:
                raise
            return _record(existing, created=False)


def _check_slot(session: Session, patient_id: int, slot_id: int) -> None:
    owner = session.scalar(
        select(PlanRow.patient_id)
        .join(DoseSlotRow, DoseSlotRow.plan_id == PlanRow.id)
        .where(DoseSlotRow.id == slot_id)
    )
    if owner is None or owner != patient_id:  # another patient's slot is "not found" too
        raise NotFound(f"no dose slot {slot_id} for this patient")


def _record(event: DoseEventRow, *, created: bool) -> DoseRecord:
    status: DoseStatus = "taken" if event.status == "taken" else "skipped"
    return DoseRecord(
        event_id=event.id,
        slot_id=event.slot_id,
        status=status,
        taken_at=event.taken_at,
        recorded_at=event.recorded_at,
        created=created,
    )


def record_symptoms(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    penn_frequency: int,
    penn_severity: int | None,
    spasticity_nrs: int,
    side_effects: dict[str, int] | None = None,
    note: str = "",
    actor: str,
) -> int:
    """A symptom entry: Penn Spasm Frequency 0-4 with severity 1-3 when frequency > 0 [PSFS],
    spasticity 0-10, side effects (triage symptom keys) with severity 1-3."""
    if not 0 <= penn_frequency <= 4:
        raise InputError("Penn spasm frequency is 0-4")
    if penn_frequency == 0 and penn_severity is not None:
        raise InputError("Penn spasm severity is given only when frequency is above 0")
    if penn_frequency > 0 and (penn_severity is None or not 1 <= penn_severity <= 3):
        raise InputError("Penn spasm severity is 1-3 when frequency is above 0")
    if not 0 <= spasticity_nrs <= 10:
        raise InputError("the spasticity rating is 0-10")
    effects = side_effects or {}
    if any(not 1 <= severity <= 3 for severity in effects.values()):
        raise InputError("side-effect severity is 1-3")
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        entry = SymptomEntryRow(
            patient_id=patient_id,
            recorded_at=_utc(now),
            penn_frequency=penn_frequency,
            penn_severity=penn_severity,
            spasticity_nrs=spasticity_nrs,
            side_effects=json.dumps([{"key": k, "severity": v} for k, v in sorted(effects.items())]),
            note=note,
        )
        session.add(entry)
        session.flush()
        session.add(
            AuditRow(at=_utc(now), actor=actor, action="symptoms", entity="symptom_entry", entity_id=entry.id)
        )
        return entry.id


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDose:
    """A scheduled dose of the day with what was recorded for it."""

    slot_id: int
    due_at: datetime  # aware, in the patient's zone
    dose_ug: int
    how: str
    status: DoseStatus | None  # None: nothing recorded yet


def find_local_patient(engine: Engine) -> tuple[int, str]:
    """The single local patient of a personal diary: (id, time zone)."""
    with unit_of_work(engine) as session:
        patient = session.scalars(select(PatientRow).order_by(PatientRow.id)).first()
        if patient is None:
            raise NotFound("no diary yet: run `dosewise diary init` first")
        return patient.id, patient.time_zone


def list_day(engine: Engine, *, patient_id: int, day_start: datetime, zone: tzinfo) -> list[DueDose]:
    """Doses due in the 24 hours from ``day_start`` (aware), oldest first."""
    start, end = _utc(day_start), _utc(day_start + timedelta(days=1))
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(DoseSlotRow, DoseEventRow.status)
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
            .where(PlanRow.patient_id == patient_id, DoseSlotRow.due_at >= start, DoseSlotRow.due_at < end)
            .order_by(DoseSlotRow.due_at, DoseSlotRow.id)
        ).all()
    return [
        DueDose(
            slot_id=slot.id,
            due_at=slot.due_at.replace(tzinfo=UTC).astimezone(zone),
            dose_ug=slot.dose_ug,
            how=slot.how,
            status="taken" if status == "taken" else "skipped" if status == "skipped" else None,
        )
        for slot, status in rows
    ]
