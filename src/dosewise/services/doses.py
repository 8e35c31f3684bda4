"""Doses: the slots of a day, what is due now and next, recording a dose, adherence.

A dose is recorded at most once per slot: a repeated submission returns the first record (the
unique slot column is the guarantee, also between processes racing each other). A dose with
nothing recorded is *due* while the missed-dose advice would still say "take it now" [NHS];
once that advice turns to "skip it" it counts as *missed*, so the diary and the advice never
disagree. Every change writes an audit row naming the actor and the patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Row,
    ScalarSelect,
    Select,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import ReturningInsert

from dosewise.domain.adherence import Adherence, DoseStatus, Slot, slot_state, summarize_adherence
from dosewise.domain.missed_dose import MissedDoseAdvice
from dosewise.domain.monograph import Monograph
from dosewise.domain.schedule import localize
from dosewise.errors import InputError, NotFound
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services.audit import audit_on
from dosewise.services.clock import FUTURE_TOLERANCE, to_utc
from dosewise.services.patients import patient_zone
from dosewise.store.database import read_connection, read_only, unit_of_work
from dosewise.store.models import (
    DoseEventRow,
    DoseSlotRow,
    PatientRow,
    PlanRow,
)

EARLY_LIMIT = timedelta(hours=2)  # a dose is recorded at most this long before it is due (setting)


# Taken within this long after the due time counts as on time, later as "late". A Dosewise
# default (the clinical reference has no such number); reports say so.
ON_TIME_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseRecord:
    """A recorded dose, as the caller sees it (never an ORM row)."""

    event_id: int
    slot_id: int
    status: DoseStatus
    taken_at: datetime | None  # UTC
    recorded_at: datetime  # UTC
    created: bool  # False: this submission repeated an earlier one


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
            raise InputError("a dose cannot be recorded as taken in the future", field="taken_at")
    try:
        with engine.begin() as connection:  # on SQLite: BEGIN IMMEDIATE (the write lock first)
            found = connection.execute(_slot_statement(), {"slot_id": slot_id}).first()
            if found is None or found.patient_id != patient_id:
                raise NotFound(f"no dose #{slot_id} for this patient (see the doses of the day)")
            if found.event_id is not None:
                return _recorded(found, slot_id, created=False)
            due_at: datetime = found.due_at
            zone = ZoneInfo(found.time_zone)
            if due_at - EARLY_LIMIT > max(now_utc, taken_utc or now_utc):
                hours = EARLY_LIMIT.total_seconds() / 3600
                due, opens = _aware(due_at, zone), _aware(due_at - EARLY_LIMIT, zone)
                raise InputError(
                    f"the {_when(due, now)} dose can be ticked off from {_when(opens, now)} "
                    f"(at most {hours:g} hours before it is due)"
                )
            if taken_utc is not None and taken_utc < due_at - EARLY_LIMIT:
                due = _aware(due_at, zone)
                raise InputError(
                    f"the {_when(due, now)} dose cannot have been taken that long before it was due"
                )
            stored: DoseStatus = status
            if taken_utc is not None and taken_utc > due_at + ON_TIME_WINDOW:
                stored = "late"
            event_id = connection.execute(
                _insert_event_statement(),
                {"slot_id": slot_id, "status": stored, "taken_at": taken_utc, "recorded_at": now_utc},
            ).scalar_one()
            audit_on(connection, now, actor, patient_id, stored, "dose_slot", slot_id)
            return DoseRecord(
                event_id=event_id,
                slot_id=slot_id,
                status=stored,
                taken_at=taken_utc,
                recorded_at=now_utc,
                created=True,
            )
    except IntegrityError:  # another process recorded this slot first: return theirs
        with unit_of_work(engine) as session:
            existing = session.scalar(select(DoseEventRow).where(DoseEventRow.slot_id == slot_id))
            if existing is None:
                raise
            return _record(existing, created=False)


@cache
def _slot_statement() -> Select[*tuple[Any, ...]]:
    """A slot's patient, due time and zone, with what was recorded for it: one row."""
    return (
        select(
            PlanRow.patient_id,
            DoseSlotRow.due_at,
            PatientRow.time_zone,
            DoseEventRow.id.label("event_id"),
            DoseEventRow.status,
            DoseEventRow.taken_at,
            DoseEventRow.recorded_at,
        )
        .join(DoseSlotRow, DoseSlotRow.plan_id == PlanRow.id)
        .join(PatientRow, PatientRow.id == PlanRow.patient_id)
        .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .where(DoseSlotRow.id == bindparam("slot_id"))
    )


@cache
def _insert_event_statement() -> ReturningInsert[int]:
    return insert(DoseEventRow).returning(DoseEventRow.id)


def _recorded(found: Row[Any], slot_id: int, *, created: bool) -> DoseRecord:
    return DoseRecord(
        event_id=found.event_id,
        slot_id=slot_id,
        status=dose_status(found.status),
        taken_at=found.taken_at,
        recorded_at=found.recorded_at,
        created=created,
    )


def _zone(session: Session, patient_id: int) -> tzinfo:
    from zoneinfo import ZoneInfo

    patient = session.get(PatientRow, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return ZoneInfo(patient.time_zone)


def _when(moment: datetime, now: datetime) -> str:
    """ "20:00" today, else "Wed 25 Nov 20:00", on the patient's clock."""
    if moment.date() == now.astimezone(moment.tzinfo).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%a %d %b %H:%M")


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


MAX_RANGE_DAYS = 732  # a report or adherence range of more than two years is a typo (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class DueNow:
    """What to do now: overdue doses with their advice, and the next dose."""

    now: datetime
    overdue: tuple[tuple[Slot, MissedDoseAdvice], ...]
    next_dose: Slot | None
    monograph: Monograph  # of the patient's drug: the advice's sources
    missed_recently: tuple[Slot, ...] = field(default=())
    slots: tuple[Slot, ...] = field(default=(), repr=False)  # every slot read: yesterday to overmorrow


def load_slots(
    session: Session | Connection,
    patient_id: int,
    start_utc: datetime,
    end_utc: datetime,
    zone: tzinfo,
    now: datetime,
) -> list[Slot]:
    """Every slot due in [start, end) with its state at ``now`` (one statement)."""
    rows = session.execute(
        _slots_statement(), {"patient_id": patient_id, "start_utc": start_utc, "end_utc": end_utc}
    ).all()
    # the next due time after the range decides when the range's last unrecorded dose is "missed"
    later = rows[-1].later if rows else None
    # rows are in due order: walking back, remember the first due time later than each one
    nexts: list[datetime | None] = [None] * len(rows)
    upcoming = later
    for index in range(len(rows) - 1, -1, -1):
        nexts[index] = upcoming
        if index and rows[index - 1].due_at < rows[index].due_at:
            upcoming = rows[index].due_at
    now_utc = to_utc(now)
    slots = []
    for index, row in enumerate(rows):
        following = nexts[index]
        if following is None:  # the plan's last dose: the usual gap between doses
            following = row.due_at + timedelta(hours=24 / max(1, len(row.times.split(","))))
        recorded = dose_status(row.status) if row.status is not None else None
        slots.append(
            Slot(
                slot_id=row.id,
                plan_id=row.plan_id,
                step_number=row.step_number,
                due_at=_aware(row.due_at, zone),
                dose_ug=row.dose_ug,
                how=row.how,
                recorded=recorded,
                taken_at=_aware(row.taken_at, zone) if row.taken_at is not None else None,
                state=slot_state(recorded, row.due_at, following, now_utc, missed_dose_window(row.drug)),
            )
        )
    return slots


@cache
def _slots_statement() -> Select[*tuple[Any, ...]]:
    """load_slots' statement, built once (building one costs more than SQLite running it)."""
    later_slot, later_plan = aliased(DoseSlotRow), aliased(PlanRow)
    later = (
        select(func.min(later_slot.due_at))
        .join(later_plan, later_slot.plan_id == later_plan.id)
        .where(later_plan.patient_id == bindparam("patient_id"), later_slot.due_at >= bindparam("end_utc"))
        .scalar_subquery()
    )
    return (
        select(
            DoseSlotRow.id,
            DoseSlotRow.plan_id,
            DoseSlotRow.step_number,
            DoseSlotRow.due_at,
            DoseSlotRow.dose_ug,
            DoseSlotRow.how,
            DoseEventRow.status,
            DoseEventRow.taken_at,
            PlanRow.times,
            PlanRow.drug,
            later.label("later"),
        )
        .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
        .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .where(
            PlanRow.patient_id == bindparam("patient_id"),
            DoseSlotRow.due_at >= bindparam("start_utc"),
            DoseSlotRow.due_at < bindparam("end_utc"),
        )
        .order_by(DoseSlotRow.due_at, DoseSlotRow.id)
    )


def missed_dose_window(drug: str) -> timedelta:
    """How long before the next dose a missed one is skipped instead of taken [NHS]."""
    return timedelta(hours=load_monograph(drug).missed_dose.window_h)


def _aware(naive_utc: datetime, zone: tzinfo) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone)


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC bounds of a calendar day in the patient's zone (23 or 25 hours across DST)."""
    return to_utc(localize(day, time(0), zone)), to_utc(localize(day + timedelta(days=1), time(0), zone))


def list_day(engine: Engine, *, patient_id: int, day: date, now: datetime) -> list[Slot]:
    """The doses of a calendar day in the patient's zone, oldest first."""
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        start, end = day_bounds(day, zone)
        return load_slots(session, patient_id, start, end, zone, now)


def due_now(engine: Engine, *, patient_id: int, now: datetime) -> DueNow:
    """Overdue doses with the missed-dose advice for each (from the real history: the last
    dose taken decides the long-gap advice), and the next dose to come."""
    with read_only(engine) as session:
        return _due_now(session, patient_id, now)


def today(engine: Engine, *, patient_id: int, now: datetime) -> tuple[DueNow, list[Slot]]:
    """What :func:`due_now` and :func:`list_day` for the patient's today give, in one
    transaction (today's doses are within due_now's range: read once)."""
    with read_connection(engine) as connection:  # plain rows: no ORM session on this hot path
        due = _due_now(connection, patient_id, now)
    start, end = day_bounds(due.now.date(), due.now.tzinfo or UTC)
    start_aware, end_aware = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    return due, [slot for slot in due.slots if start_aware <= slot.due_at < end_aware]


def _due_now(session: Session | Connection, patient_id: int, now: datetime) -> DueNow:
    from dosewise.services.missed_doses import advise_missed

    found = session.execute(_patient_now_statement(), {"patient_id": patient_id}).first()
    if found is None:
        raise NotFound(f"no patient {patient_id}")
    drug = found.drug or DEFAULT_DRUG
    zone = ZoneInfo(found.time_zone)
    times = tuple(time.fromisoformat(text) for text in found.times.split(",")) if found.times else ()
    last_taken: datetime | None = found.last_taken
    local_now = now.astimezone(zone)
    start = to_utc(local_now - timedelta(days=1))
    end = to_utc(local_now + timedelta(days=2))
    slots = load_slots(session, patient_id, start, end, zone, now)
    overdue = []
    for slot in slots:
        if slot.state != "due":
            continue
        clock = slot.due_at.time().replace(tzinfo=None)
        advice = advise_missed(
            times=times if clock in times else tuple(sorted({*times, clock})),
            missed=clock,
            now=local_now,
            last_taken=_aware(last_taken, zone) if last_taken is not None else None,
            drug=drug,
        )
        overdue.append((slot, advice))
    upcoming = [slot for slot in slots if slot.state == "upcoming"]
    recent = tuple(s for s in slots if s.state == "missed" and s.due_at >= local_now - timedelta(hours=24))
    return DueNow(
        now=local_now,
        overdue=tuple(overdue),
        next_dose=upcoming[0] if upcoming else None,
        monograph=load_monograph(drug),
        missed_recently=recent,
        slots=tuple(slots),
    )


@cache
def _patient_now_statement() -> Select[*tuple[Any, ...]]:
    """The patient's zone, the current plan's dose times and drug, and the last dose taken: one row."""
    patient_id: BindParameter[Any] = bindparam("patient_id")

    def newest_plan(column: Any) -> Any:
        return (
            select(column).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).scalar_subquery()

    return select(
        PatientRow.time_zone,
        newest_plan(PlanRow.times).label("times"),
        newest_plan(PlanRow.drug).label("drug"),
        _last_taken_query(patient_id).label("last_taken"),
    ).where(PatientRow.id == patient_id)


def last_dose_taken(session: Session, patient_id: int) -> datetime | None:
    """The last time the patient took a dose (naive UTC, as stored), or None."""
    return session.scalar(select(_last_taken_query(patient_id)))


def _last_taken_query(patient_id: int | BindParameter[Any]) -> ScalarSelect[datetime | None]:
    """The last time a dose was taken: the greatest taken_at of the patient's events (an
    aggregate over their events, read from the (slot, status, taken) index, no sort)."""
    return (
        select(func.max(DoseEventRow.taken_at))
        .join(DoseSlotRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
        .where(PlanRow.patient_id == patient_id)
        .scalar_subquery()
    )


def current_dose_times(session: Session, patient_id: int) -> tuple[time, ...]:
    """The dose times of the patient's newest plan (none before the first plan)."""
    plan = session.scalars(
        select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
    ).first()
    if plan is None:
        return ()
    return tuple(time.fromisoformat(text) for text in plan.times.split(","))


def adherence(
    engine: Engine, *, patient_id: int, first_day: date, last_day: date, now: datetime
) -> Adherence:
    """Taken on time / late / skipped / missed, per day and per plan step."""
    check_range(first_day, last_day)
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        start, _ = day_bounds(first_day, zone)
        _, end = day_bounds(last_day, zone)
        slots = load_slots(session, patient_id, start, end, zone, now)
    return summarize_adherence(
        slots, first_day, last_day, on_time_window_h=ON_TIME_WINDOW.total_seconds() / 3600
    )


def check_range(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise InputError(f"the range ends ({last_day}) before it starts ({first_day})")
    if (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise InputError(f"a range is at most {MAX_RANGE_DAYS} days")
