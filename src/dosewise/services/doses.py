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
from functools import cache, lru_cache
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
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import ReturningInsert

from dosewise.domain.adherence import Adherence, DoseStatus, Slot, slot_state, summarize_adherence
from dosewise.domain.missed_dose import MissedDoseAdvice
from dosewise.domain.monograph import Monograph
from dosewise.domain.schedule import localize
from dosewise.errors import Conflict, InputError, NotFound
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services import plans
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


# Patients and caregivers may correct a dose due this recently; a clinician any time. A Dosewise
# default (the clinical reference has no such number), said in the refusal.
CORRECTION_WINDOW = timedelta(hours=48)
Change = Literal["undo", "taken", "skipped"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """What a correction did to one dose: its record before and after (aware, on the patient's
    clock; status None: nothing recorded, the dose is due or missed by the usual rule)."""

    slot_id: int
    due_at: datetime
    before: DoseStatus | None
    before_taken_at: datetime | None
    after: DoseStatus | None
    after_taken_at: datetime | None
    changed: bool  # False: the record already said this (nothing stored, nothing audited)

    def describe(self, now: datetime) -> str:
        """ "14:00 dose marked taken at 14:40", on the patient's clock."""
        if self.after is None and self.before is not None:
            was = _record_words(self.before, self.before_taken_at, now)
            return f"{_when(self.due_at, now)} dose: record undone (it said {was})"
        return describe_record(self.due_at, self.after, self.after_taken_at, now)


def describe_record(
    due_at: datetime, status: DoseStatus | None, taken_at: datetime | None, now: datetime
) -> str:
    """What the diary says about a dose, as a correction shows it: "14:00 dose marked taken at
    14:40 (late)", "14:00 dose marked skipped", "14:00 dose: nothing recorded"."""
    if status is None:
        return f"{_when(due_at, now)} dose: nothing recorded"
    return f"{_when(due_at, now)} dose marked {_record_words(status, taken_at, now)}"


def _record_words(status: DoseStatus, taken_at: datetime | None, now: datetime) -> str:
    if status == "skipped" or taken_at is None:
        return status
    return f"taken at {_when(taken_at, now)}" + (" (late)" if status == "late" else "")


def correct_dose(
    engine: Engine,
    *,
    patient_id: int,
    slot_id: int,
    change: Change,
    now: datetime,
    actor: str,
    taken_at: datetime | str | None = None,
    any_time: bool = False,
    may_record: bool = True,
) -> Correction:
    """Correct what the diary says about one dose, keeping who, when, before and after in the
    audit trail (action ``correct_dose``).

    ``undo`` removes the record (the dose is then due or missed by the usual rule); ``taken``
    (at ``taken_at``, default now; typed text is read like :func:`record_dose` reads it) and
    ``skipped`` change the dose's one record, or make it for a dose with none whose time has
    passed: never a second record for a dose. The on-time window and the limits of
    :func:`record_dose` apply to a corrected time too.

    Patients and caregivers correct doses due in the last :data:`CORRECTION_WINDOW`; a
    clinician (``any_time``) any dose. ``may_record`` False (a clinician: they correct the
    diary but do not tick off doses) refuses to record a dose still due now.
    """
    if change not in ("undo", "taken", "skipped"):
        raise InputError("a correction is 'undo', 'taken' or 'skipped'", field="change")
    if change != "taken" and taken_at not in (None, ""):
        raise InputError("a time taken goes with 'taken' only", field="taken_at")
    now_utc = to_utc(now)
    try:
        with engine.begin() as connection:  # on SQLite: BEGIN IMMEDIATE; on PostgreSQL the slot is locked
            found = connection.execute(_correction_statement(), {"slot_id": slot_id}).first()
            if found is None or found.patient_id != patient_id:
                raise NotFound(f"no dose #{slot_id} for this patient (see the doses of the day)")
            zone = ZoneInfo(found.time_zone)
            due_at: datetime = found.due_at
            due = _aware(due_at, zone)
            if not any_time and due_at < now_utc - CORRECTION_WINDOW:
                hours = CORRECTION_WINDOW.total_seconds() / 3600
                raise InputError(
                    f"the {_when(due, now)} dose was due more than {hours:g} hours ago: corrections are "
                    f"possible for {hours:g} hours (Dosewise default); ask your clinician for older ones"
                )
            before: DoseStatus | None = dose_status(found.status) if found.status is not None else None
            before_taken: datetime | None = found.taken_at
            if found.event_id is None and change != "undo":
                _check_first_record(found, due, now, now_utc, may_record=may_record)
            status, taken_utc = _corrected(change, taken_at, due, now, zone)
            result = Correction(
                slot_id=slot_id,
                due_at=due,
                before=before,
                before_taken_at=_aware(before_taken, zone) if before_taken is not None else None,
                after=status,
                after_taken_at=_aware(taken_utc, zone) if taken_utc is not None else None,
                changed=(before, before_taken) != (status, taken_utc),
            )
            if not result.changed:
                return result
            if found.event_id is None:
                connection.execute(
                    _insert_event_statement(),
                    {"slot_id": slot_id, "status": status, "taken_at": taken_utc, "recorded_at": now_utc},
                )
            elif status is None:
                connection.execute(delete(DoseEventRow).where(DoseEventRow.id == found.event_id))
            else:
                connection.execute(
                    update(DoseEventRow)
                    .where(DoseEventRow.id == found.event_id)
                    .values(status=status, taken_at=taken_utc)
                )
            detail = {
                "due_at": due.isoformat(),
                "before": {"status": before, "taken_at": _iso(result.before_taken_at)},
                "after": {"status": status, "taken_at": _iso(result.after_taken_at)},
            }
            audit_on(connection, now, actor, patient_id, "correct_dose", "dose_slot", slot_id, detail)
            return result
    except IntegrityError:  # a record was made for this dose meanwhile (another tab, another person)
        raise Conflict(
            "this dose was recorded meanwhile: look at it again, then correct that record"
        ) from None


def _corrected(
    change: Change, taken_at: datetime | str | None, due: datetime, now: datetime, zone: tzinfo
) -> tuple[DoseStatus | None, datetime | None]:
    """The record a correction asks for (status, taken at in naive UTC), checked as
    :func:`record_dose` checks a new one."""
    if change == "undo":
        return None, None
    if change == "skipped":
        return "skipped", None
    if isinstance(taken_at, str):
        taken_at = _moment_near(taken_at, due, now, zone)
    now_utc, due_at = to_utc(now), to_utc(due)
    taken_utc = to_utc(taken_at) if taken_at is not None else now_utc
    if taken_utc > now_utc + FUTURE_TOLERANCE:
        raise InputError("a dose cannot be recorded as taken in the future", field="taken_at")
    if taken_utc < due_at - EARLY_LIMIT:
        raise InputError(
            f"the {_when(due, now)} dose cannot have been taken that long before it was due", field="taken_at"
        )
    return ("late" if taken_utc > due_at + ON_TIME_WINDOW else "taken"), taken_utc


def _moment_near(text: str, due: datetime, now: datetime, zone: tzinfo) -> datetime:
    """A typed time taken: ``HH:MM`` is the moment at that clock time nearest the dose's due
    time and not in the future (yesterday's 08:00 dose "taken at 08:30" is yesterday 08:30); the
    other forms are read as :func:`dosewise.services.clock.moment_from_text` reads them."""
    from dosewise.services.clock import moment_from_text, parse_clock

    cleaned = text.strip()
    if len(cleaned) > 5 or ":" not in cleaned or "T" in cleaned:
        return moment_from_text(cleaned, now=now, zone=zone, field="taken_at")
    clock = parse_clock(cleaned, field="taken_at")
    day = due.astimezone(zone).date()
    candidates = [localize(day + timedelta(days=shift), clock, zone) for shift in (-1, 0, 1)]
    possible = [at for at in candidates if at <= now + FUTURE_TOLERANCE] or candidates[:1]
    return min(possible, key=lambda at: abs(at.astimezone(UTC) - due.astimezone(UTC)))


def _check_first_record(
    found: Row[Any], due: datetime, now: datetime, now_utc: datetime, *, may_record: bool
) -> None:
    """A correction makes a dose's first record only once its time has passed, and a clinician
    only for a dose already missed (a dose due now is ticked off by the patient or a caregiver)."""
    if found.due_at > now_utc:
        raise InputError(f"the {_when(due, now)} dose is still to come: tick it off when it is taken")
    if may_record:
        return
    following = found.following
    if following is None:
        following = found.due_at + timedelta(hours=24 / max(1, len(found.times.split(","))))
    if slot_state(None, found.due_at, following, now_utc, missed_dose_window(found.drug)) == "due":
        from dosewise.services.access import NotAllowed

        raise NotAllowed(
            f"the {_when(due, now)} dose is due now: the patient or a caregiver ticks it off; a clinician "
            "corrects doses once they are missed"
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@cache
def _correction_statement() -> Select[*tuple[Any, ...]]:
    """A slot's patient, due time, zone, plan times and drug, the next slot's due time, and its
    record; the slot row locked until the transaction ends (PostgreSQL; SQLite's write lock is
    already held)."""
    later = aliased(DoseSlotRow)
    following = (
        select(func.min(later.due_at))
        .where(later.patient_id == DoseSlotRow.patient_id, later.due_at > DoseSlotRow.due_at)
        .correlate(DoseSlotRow)
        .scalar_subquery()
    )
    return (
        select(
            PlanRow.patient_id,
            DoseSlotRow.due_at,
            PatientRow.time_zone,
            PlanRow.times,
            PlanRow.drug,
            following.label("following"),
            DoseEventRow.id.label("event_id"),
            DoseEventRow.status,
            DoseEventRow.taken_at,
        )
        .join(DoseSlotRow, DoseSlotRow.plan_id == PlanRow.id)
        .join(PatientRow, PatientRow.id == PlanRow.patient_id)
        .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .where(DoseSlotRow.id == bindparam("slot_id"))
        .with_for_update(of=DoseSlotRow)
    )


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


MAX_RANGE_DAYS = 732  # an adherence range over two years is a typo; a report summarizes past it (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class Routine:
    """Where the patient's plan stands, besides the doses: what Today, the API and ``diary
    today`` say when there are no doses, a new plan is coming, or a review is due."""

    kind: str | None = None  # the plan in force (None: none yet)
    stop_date: date | None = None  # a taper: the first day without the drug
    stopped: bool = False  # a taper whose stop date has come: no more doses
    review_on: date | None = None  # an open-ended plan: review it with the prescriber by then
    new_plan_at: datetime | None = None  # aware: a new plan takes over then (later than now)

    @property
    def last_dose_day(self) -> date | None:
        """A taper's last day with doses (the day before its stop date)."""
        return None if self.stop_date is None else self.stop_date - timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DueNow:
    """What to do now: late doses with their advice (a dose due less than
    :data:`ON_TIME_WINDOW` ago is simply due), and the next dose."""

    now: datetime
    overdue: tuple[tuple[Slot, MissedDoseAdvice], ...]
    next_dose: Slot | None
    monograph: Monograph  # of the patient's drug: the advice's sources
    missed_recently: tuple[Slot, ...] = field(default=())
    slots: tuple[Slot, ...] = field(default=(), repr=False)  # every slot read: yesterday to overmorrow
    routine: Routine = field(default=Routine())
    last_taken: datetime | None = None  # aware: the last dose taken
    no_dose_since: datetime | None = None  # aware: the long-gap advice counts from here

    @property
    def no_dose_hours(self) -> float | None:
        """Hours without a dose when they reach the monograph's long gap (24 h [DOSEWISE]): the
        "do not simply restart" warning, shown whether or not a dose is due at this moment."""
        if self.no_dose_since is None or not self.slots:
            return None
        hours = (self.now - self.no_dose_since).total_seconds() / 3600
        return hours if hours >= self.monograph.missed_dose.long_gap_h else None


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
                following=_aware(following, zone),
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
    """The doses of a calendar day in the patient's zone, oldest first, one per time."""
    _keep_slots_ahead(engine, patient_id, now)
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        start, end = day_bounds(day, zone)
        return one_per_time(load_slots(session, patient_id, start, end, zone, now))


def one_per_time(slots: list[Slot]) -> list[Slot]:
    """One dose per due time, as Today shows it: when a replaced plan's dose shares its time
    with the new plan's (a plan change keeps what was recorded), the dose taken stays, else
    the newest plan's. ``slots`` are in due order."""
    kept: list[Slot] = []
    for slot in slots:
        if kept and kept[-1].due_at == slot.due_at:
            if kept[-1].recorded not in ("taken", "late") and (
                slot.recorded in ("taken", "late") or slot.plan_id > kept[-1].plan_id
            ):
                kept[-1] = slot
            continue
        kept.append(slot)
    return kept


def due_now(engine: Engine, *, patient_id: int, now: datetime) -> DueNow:
    """Overdue doses with the missed-dose advice for each (from the real history: the last
    dose taken decides the long-gap advice), and the next dose to come."""
    return _read_due_now(engine, patient_id, now)


def today(engine: Engine, *, patient_id: int, now: datetime) -> tuple[DueNow, list[Slot]]:
    """What :func:`due_now` and :func:`list_day` for the patient's today give, in one
    transaction (today's doses are within due_now's range: read once)."""
    due = _read_due_now(engine, patient_id, now)
    start, end = day_bounds(due.now.date(), due.now.tzinfo or UTC)
    start_aware, end_aware = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    return due, [slot for slot in due.slots if start_aware <= slot.due_at < end_aware]


def _read_due_now(engine: Engine, patient_id: int, now: datetime) -> DueNow:
    """:func:`_due_now` in one read transaction; when an open-ended plan's slots run short
    (the same statement says so), they are made first (:func:`plans.keep_slots_ahead`)."""
    with read_connection(engine) as connection:  # plain rows: no ORM session on this hot path
        due = _due_now(connection, patient_id, now)
    if due is not None:
        return due
    plans.keep_slots_ahead(engine, now=now, patient_id=patient_id)
    with read_connection(engine) as connection:
        due = _due_now(connection, patient_id, now, topped_up=True)
    assert due is not None
    return due


def _keep_slots_ahead(engine: Engine, patient_id: int, now: datetime) -> None:
    """Make an open-ended plan's slots ahead if they run short (one read when they do not)."""
    with read_connection(engine) as connection:
        short = connection.execute(
            select(_slots_short(bindparam("patient_id"))),
            {"patient_id": patient_id, "top_up_before": to_utc(now) + plans.TOP_UP_WHEN},
        ).scalar()
    if short:
        plans.keep_slots_ahead(engine, now=now, patient_id=patient_id)


def _slots_short(patient_id: Any) -> Any:
    """Whether an open-ended plan of the patient has its slots made up to less than
    ``top_up_before`` (the condition of :func:`plans.keep_slots_ahead`)."""
    return (
        exists()
        .where(
            PlanRow.patient_id == patient_id,
            PlanRow.slots_until.is_not(None),
            PlanRow.slots_until < bindparam("top_up_before"),
            or_(PlanRow.superseded_at.is_(None), PlanRow.slots_until < PlanRow.superseded_at),
        )
        .label("slots_short")
    )


def _due_now(
    session: Session | Connection, patient_id: int, now: datetime, *, topped_up: bool = False
) -> DueNow | None:
    """None: slots must be made first (unless ``topped_up``)."""
    from dosewise.services.missed_doses import advise_slot

    now_utc = to_utc(now)
    found = session.execute(
        _patient_now_statement(),
        {"patient_id": patient_id, "now": now_utc, "top_up_before": now_utc + plans.TOP_UP_WHEN},
    ).first()
    if found is None:
        raise NotFound(f"no patient {patient_id}")
    if found.slots_short and not topped_up:
        return None
    drug = found.drug or DEFAULT_DRUG
    zone = ZoneInfo(found.time_zone)
    last_taken = _aware(found.last_taken, zone) if found.last_taken is not None else None
    local_now = now.astimezone(zone)
    # no dose taken for 24 h or more means "do not simply restart": counted from the last dose
    # taken, or, when the diary has none, from the first dose that was planned
    no_dose_since = last_taken
    if no_dose_since is None and found.first_due is not None:
        no_dose_since = min(_aware(found.first_due, zone), local_now)
    start = to_utc(local_now - CORRECTION_WINDOW)  # the doses a patient may still correct
    end = to_utc(local_now + timedelta(days=2))
    slots = one_per_time(load_slots(session, patient_id, start, end, zone, now))
    # a due dose gets the missed-dose advice once it is late (past the on-time window) or when
    # the advice is not simply "take it" (a long gap): at 08:05 the 08:00 dose is just due
    advised = (
        (slot, advise_slot(slot, slots, now=local_now, last_taken=no_dose_since, drug=drug, from_diary=True))
        for slot in slots
        if slot.state == "due"
    )
    late = local_now - ON_TIME_WINDOW
    overdue = tuple(
        (slot, advice) for slot, advice in advised if slot.due_at < late or advice.action != "take_now"
    )
    upcoming = [slot for slot in slots if slot.state == "upcoming"]
    recent = tuple(s for s in slots if s.state == "missed" and s.due_at >= local_now - timedelta(hours=24))
    return DueNow(
        now=local_now,
        overdue=overdue,
        next_dose=upcoming[0] if upcoming else None,
        monograph=load_monograph(drug),
        missed_recently=recent,
        slots=tuple(slots),
        routine=_routine(found.in_force, found.new_plan_at, local_now),
        last_taken=last_taken,
        no_dose_since=no_dose_since,
    )


def _routine(record: str | None, new_plan_at: datetime | None, local_now: datetime) -> Routine:
    zone = local_now.tzinfo or UTC
    coming = _aware(new_plan_at, zone) if new_plan_at is not None else None
    if record is None:
        return Routine(new_plan_at=coming)
    kind, stop_date, review_on = _plan_dates(record)
    return Routine(
        kind=kind,
        stop_date=stop_date,
        stopped=stop_date is not None and stop_date <= local_now.date(),
        review_on=review_on,
        new_plan_at=coming,
    )


@lru_cache(maxsize=256)
def _plan_dates(record: str) -> tuple[str, date | None, date | None]:
    """A stored plan's kind, stop date and review date (keyed by the record's text: a plan's
    record never changes, and decoding it on every Today would cost more than reading it)."""
    from dosewise.store.plan_codec import decode_plan

    plan = decode_plan(record).plan
    return plan.kind, plan.stop_date, plan.review_on


@cache
def _patient_now_statement() -> Select[*tuple[Any, ...]]:
    """The patient's zone, the newest plan's drug, the last dose taken, the
    plan in force (its stored record) and when a new one takes over, and whether slots must be
    made ahead: one row."""
    patient_id: BindParameter[Any] = bindparam("patient_id")
    now: BindParameter[Any] = bindparam("now")

    def newest_plan(column: Any) -> Any:
        return (
            select(column).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).scalar_subquery()

    in_force = (
        select(PlanRow.record)
        .where(
            PlanRow.patient_id == patient_id,
            or_(PlanRow.takes_over_at.is_(None), PlanRow.takes_over_at <= now),
            or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at > now),
        )
        .order_by(PlanRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    new_plan_at = (
        select(func.min(PlanRow.takes_over_at))
        .where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None), PlanRow.takes_over_at > now)
        .scalar_subquery()
    )
    return select(
        PatientRow.time_zone,
        newest_plan(PlanRow.drug).label("drug"),
        _last_taken_query(patient_id).label("last_taken"),
        # the first dose ever planned: with none taken since, the long-gap advice counts from it
        select(func.min(DoseSlotRow.due_at))
        .where(DoseSlotRow.patient_id == patient_id)
        .scalar_subquery()
        .label("first_due"),
        in_force.label("in_force"),
        new_plan_at.label("new_plan_at"),
        _slots_short(patient_id),
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
    _keep_slots_ahead(engine, patient_id, now)
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
