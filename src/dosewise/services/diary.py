"""The diary's use cases that write: patients, plans, doses, symptoms, notes, medicines.

A dose is recorded at most once per slot: a repeated submission returns the first record
(the unique slot column is the guarantee, also between processes racing each other).
Nothing is half-stored: validation happens before or inside one transaction.
Every change writes an audit row naming the actor and the patient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal, cast

from sqlalchemy import Engine, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dosewise.domain.adherence import DoseStatus
from dosewise.domain.plan import Plan
from dosewise.domain.schedule import build_dose_events
from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services.clock import FUTURE_TOLERANCE, to_utc
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import (
    AuditRow,
    DoseEventRow,
    DoseSlotRow,
    MedicineRow,
    NoteRow,
    PatientRow,
    PlanRow,
    ProductRow,
    SymptomEntryRow,
)
from dosewise.store.plan_codec import PlanRecord, plan_columns

EARLY_LIMIT = timedelta(hours=2)  # a dose is recorded at most this long before it is due (setting)
# Taken within this long after the due time counts as on time, later as "late". A Dosewise
# default (the clinical reference has no such number); reports say so.
ON_TIME_WINDOW = timedelta(hours=1)
MAX_NOTE_CHARS = 4000


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
        patient = PatientRow(name=name.strip(), time_zone=time_zone, created_at=to_utc(now))
        session.add(patient)
        session.flush()
        audit(session, now, actor, patient.id, "create", "patient", patient.id)
        return patient.id


def start_plan(
    engine: Engine,
    *,
    patient_id: int,
    plan: Plan,
    times: tuple[time, ...],
    zone: tzinfo,
    now: datetime,
    actor: str,
) -> int:
    """Store a plan and one slot per scheduled dose; returns the plan id.

    The new plan takes over from its first dose: the earlier plans are marked superseded
    and their doses from then on that nothing was recorded for are removed (what was recorded
    stays). The patient's products are remembered for the next plan.
    """
    events = build_dose_events(plan, times, zone)
    if not events:
        raise InputError("the plan has no doses to schedule")
    takes_over = to_utc(events[0].at)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        current = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None))
        ).all()
        for old in current:
            old.superseded_at = takes_over
            session.execute(
                delete(DoseSlotRow).where(
                    DoseSlotRow.plan_id == old.id,
                    DoseSlotRow.due_at >= takes_over,
                    ~exists().where(DoseEventRow.slot_id == DoseSlotRow.id),
                )
            )
        record = PlanRecord(plan=plan, times=times, time_zone=getattr(zone, "key", None) or str(zone))
        row = PlanRow(
            patient_id=patient_id, **plan_columns(record), created_at=to_utc(now), superseded_at=None
        )
        session.add(row)
        session.flush()
        session.add_all(
            DoseSlotRow(
                plan_id=row.id,
                due_at=to_utc(event.at),
                dose_ug=event.dose_ug,
                how=event.recipe.describe(),
                step_number=event.step_number,
            )
            for event in events
        )
        known = set(session.scalars(select(ProductRow.spec).where(ProductRow.patient_id == patient_id)))
        session.add_all(
            ProductRow(
                patient_id=patient_id, spec=product.spec, description=product.describe(), added_at=to_utc(now)
            )
            for product in dict.fromkeys(plan.products)
            if product.spec not in known
        )
        audit(session, now, actor, patient_id, "start_plan", "plan", row.id)
        return row.id


def record_dose(
    engine: Engine,
    *,
    patient_id: int,
    slot_id: int,
    status: Literal["taken", "skipped"],
    now: datetime,
    taken_at: datetime | str | None = None,
    actor: str,
) -> DoseRecord:
    """Record a slot as taken (at ``taken_at``, default now) or skipped; idempotent.

    ``taken_at`` may be typed text, read on the patient's clock by
    :func:`dosewise.services.clock.moment_from_text` ("22:40" typed at 00:30 is last night).

    A dose taken more than :data:`ON_TIME_WINDOW` after it was due is stored as "late".
    """
    if status not in ("taken", "skipped"):
        raise InputError("a dose is 'taken' or 'skipped'", field="status")
    if isinstance(taken_at, str):
        from dosewise.services.clock import moment_from_text

        with read_only(engine) as session:
            zone = _zone(session, patient_id)
        taken_at = moment_from_text(taken_at, now=now, zone=zone, field="taken_at")
    now_utc = to_utc(now)
    taken_utc = None
    if status == "taken":
        taken_utc = to_utc(taken_at) if taken_at is not None else now_utc
        if taken_utc > now_utc + FUTURE_TOLERANCE:
            raise InputError("a dose cannot be recorded as taken in the future")
    try:
        with unit_of_work(engine) as session:
            due_at = _slot_due(session, patient_id, slot_id)
            existing = session.scalar(select(DoseEventRow).where(DoseEventRow.slot_id == slot_id))
            if existing is not None:
                return _record(existing, created=False)
            if due_at - EARLY_LIMIT > max(now_utc, taken_utc or now_utc):
                hours = EARLY_LIMIT.total_seconds() / 3600
                due, opens = (
                    _local(session, patient_id, due_at),
                    _local(session, patient_id, due_at - EARLY_LIMIT),
                )
                raise InputError(
                    f"the {_when(due, now)} dose can be ticked off from {_when(opens, now)} "
                    f"(at most {hours:g} hours before it is due)"
                )
            if taken_utc is not None and taken_utc < due_at - EARLY_LIMIT:
                due = _local(session, patient_id, due_at)
                raise InputError(
                    f"the {_when(due, now)} dose cannot have been taken that long before it was due"
                )
            stored: DoseStatus = status
            if taken_utc is not None and taken_utc > due_at + ON_TIME_WINDOW:
                stored = "late"
            event = DoseEventRow(slot_id=slot_id, status=stored, taken_at=taken_utc, recorded_at=now_utc)
            session.add(event)
            session.flush()
            audit(session, now, actor, patient_id, stored, "dose_slot", slot_id)
            return _record(event, created=True)
    except IntegrityError:  # another process recorded this slot first: return theirs
        with unit_of_work(engine) as session:
            existing = session.scalar(select(DoseEventRow).where(DoseEventRow.slot_id == slot_id))
            if existing is None:
                raise
            return _record(existing, created=False)


def _zone(session: Session, patient_id: int) -> tzinfo:
    from zoneinfo import ZoneInfo

    patient = session.get(PatientRow, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return ZoneInfo(patient.time_zone)


def _local(session: Session, patient_id: int, naive_utc: datetime) -> datetime:
    """A stored (naive UTC) time on the patient's clock."""
    return naive_utc.replace(tzinfo=UTC).astimezone(_zone(session, patient_id))


def _when(moment: datetime, now: datetime) -> str:
    """ "20:00" today, else "Wed 25 Nov 20:00", on the patient's clock."""
    if moment.date() == now.astimezone(moment.tzinfo).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%a %d %b %H:%M")


def _slot_due(session: Session, patient_id: int, slot_id: int) -> datetime:
    """The slot's due time (UTC); another patient's slot is "not found" too."""
    found = session.execute(
        select(PlanRow.patient_id, DoseSlotRow.due_at)
        .join(DoseSlotRow, DoseSlotRow.plan_id == PlanRow.id)
        .where(DoseSlotRow.id == slot_id)
    ).first()
    if found is None or found.patient_id != patient_id:
        raise NotFound(f"no dose #{slot_id} for this patient (see the doses of the day)")
    due_at: datetime = found.due_at
    return due_at


def audit(
    session: Session,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
) -> None:
    """One row of the audit trail: who (``user:ID`` or ``cli``) did what to which patient's data."""
    session.add(
        AuditRow(
            at=to_utc(now),
            actor=actor,
            patient_id=patient_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
        )
    )


def _record(event: DoseEventRow, *, created: bool) -> DoseRecord:
    status = dose_status(event.status)
    return DoseRecord(
        event_id=event.id,
        slot_id=event.slot_id,
        status=status,
        taken_at=event.taken_at,
        recorded_at=event.recorded_at,
        created=created,
    )


def dose_status(stored: str) -> DoseStatus:
    if stored not in ("taken", "late", "skipped"):
        raise ValueError(f"unknown dose status {stored!r} in the database")
    return cast(DoseStatus, stored)


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
    spasticity 0-10, side effects from the triage list (key, label or synonym) with severity 1-3."""
    if not 0 <= penn_frequency <= 4:
        raise InputError("Penn spasm frequency is 0-4")
    if penn_frequency == 0 and penn_severity is not None:
        raise InputError("Penn spasm severity is given only when frequency is above 0")
    if penn_frequency > 0 and (penn_severity is None or not 1 <= penn_severity <= 3):
        raise InputError("Penn spasm severity is 1-3 when frequency is above 0")
    if not 0 <= spasticity_nrs <= 10:
        raise InputError("the spasticity rating is 0-10")
    effects = canonical_side_effects(side_effects or {})
    _check_note(note, required=False)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        entry = SymptomEntryRow(
            patient_id=patient_id,
            recorded_at=to_utc(now),
            penn_frequency=penn_frequency,
            penn_severity=penn_severity,
            spasticity_nrs=spasticity_nrs,
            side_effects=json.dumps([{"key": k, "severity": v} for k, v in sorted(effects.items())]),
            note=note.strip(),
        )
        session.add(entry)
        session.flush()
        audit(session, now, actor, patient_id, "symptoms", "symptom_entry", entry.id)
        return entry.id


def canonical_side_effects(side_effects: dict[str, int]) -> dict[str, int]:
    """Side effects by their triage key; an unknown name or a severity outside 1-3 is an error."""
    from dosewise.domain.triage import match_symptoms

    monograph = load_monograph("baclofen")
    effects: dict[str, int] = {}
    for name, severity in side_effects.items():
        if not 1 <= severity <= 3:
            raise InputError(
                f"side-effect severity is 1-3 (mild, moderate, severe), got {severity} for {name}"
            )
        found, unknown = match_symptoms(monograph, [name])
        if unknown or len(found) != 1:
            keys = ", ".join(symptom.key for symptom in monograph.symptoms)
            raise InputError(f"side effect {name!r} is not on the list: use one of {keys}")
        effects[found[0].key] = max(severity, effects.get(found[0].key, 0))
    return effects


def _check_note(text: str, *, required: bool) -> None:
    if required and not text.strip():
        raise InputError("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(f"a note is at most {MAX_NOTE_CHARS} characters, this one has {len(text)}")


def add_note(
    engine: Engine, *, patient_id: int, text: str, now: datetime, actor: str, author: str | None = None
) -> int:
    """A free-text note for the prescriber (``author``: the name shown; default the actor)."""
    _check_note(text, required=True)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        note = NoteRow(
            patient_id=patient_id, recorded_at=to_utc(now), author=(author or actor)[:200], text=text.strip()
        )
        session.add(note)
        session.flush()
        audit(session, now, actor, patient_id, "note", "note", note.id)
        return note.id


def add_medicine(engine: Engine, *, patient_id: int, name: str, now: datetime, actor: str) -> int:
    """Another medicine the patient takes (kept as typed; checked for interactions when read)."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise InputError("a medicine name is 1-200 characters")
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        same = session.scalar(
            select(MedicineRow).where(
                MedicineRow.patient_id == patient_id,
                MedicineRow.stopped_at.is_(None),
                func.lower(MedicineRow.name) == cleaned.lower(),
            )
        )
        if same is not None:
            return same.id
        row = MedicineRow(patient_id=patient_id, name=cleaned, added_at=to_utc(now), stopped_at=None)
        session.add(row)
        session.flush()
        audit(session, now, actor, patient_id, "add_medicine", "patient_medicine", row.id)
        return row.id


def stop_medicine(engine: Engine, *, patient_id: int, medicine_id: int, now: datetime, actor: str) -> None:
    with unit_of_work(engine) as session:
        row = session.get(MedicineRow, medicine_id)
        if row is None or row.patient_id != patient_id:
            raise NotFound(f"no medicine #{medicine_id} for this patient")
        if row.stopped_at is None:
            row.stopped_at = to_utc(now)
            audit(session, now, actor, patient_id, "stop_medicine", "patient_medicine", row.id)


def list_medicines(engine: Engine, *, patient_id: int) -> list[tuple[int, str]]:
    """The medicines the patient takes now: (number, name), in the order added."""
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(MedicineRow.id, MedicineRow.name)
            .where(MedicineRow.patient_id == patient_id, MedicineRow.stopped_at.is_(None))
            .order_by(MedicineRow.id)
        ).all()
    return [(row.id, row.name) for row in rows]


def find_local_patient(engine: Engine) -> tuple[int, str]:
    """The single local patient of a personal diary: (id, time zone)."""
    with unit_of_work(engine) as session:
        patient = session.scalars(select(PatientRow).order_by(PatientRow.id)).first()
        if patient is None:
            raise NotFound("no diary yet: run `dosewise diary init` first")
        return patient.id, patient.time_zone
