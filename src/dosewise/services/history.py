"""The diary's use cases that read: the doses of a day, what is due now and next, adherence,
and the missed-dose and triage advice applied to what was actually recorded.

A dose with nothing recorded is *due* while the missed-dose advice would still say "take it
now" [NHS]; once that advice turns to "skip it" (a later dose time has come, or the next one is
due within the window) it counts as *missed*. So the diary and the advice never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Engine, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from dosewise.domain.adherence import Adherence, Slot, slot_state, summarize_adherence
from dosewise.domain.interactions import InteractionReport
from dosewise.domain.missed_dose import MissedDoseAdvice, advise_missed_dose
from dosewise.domain.monograph import Monograph
from dosewise.domain.schedule import localize
from dosewise.domain.triage import TriageResult, triage
from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services.clock import to_utc
from dosewise.services.diary import ON_TIME_WINDOW, dose_status, list_medicines
from dosewise.store.database import read_only
from dosewise.store.models import DoseEventRow, DoseSlotRow, MedicineRow, PatientRow, PlanRow
from dosewise.store.plan_codec import PlanRecord

MAX_RANGE_DAYS = 732  # a report or adherence range of more than two years is a typo (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class DueNow:
    """What to do now: overdue doses with their advice, and the next dose."""

    now: datetime
    overdue: tuple[tuple[Slot, MissedDoseAdvice], ...]
    next_dose: Slot | None
    missed_recently: tuple[Slot, ...] = field(default=())
    slots: tuple[Slot, ...] = field(default=(), repr=False)  # every slot read: yesterday to overmorrow


def load_slots(
    session: Session, patient_id: int, start_utc: datetime, end_utc: datetime, zone: tzinfo, now: datetime
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
    window = timedelta(hours=load_monograph("baclofen").missed_dose.window_h)
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
                state=slot_state(recorded, row.due_at, following, now_utc, window),
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


def _aware(naive_utc: datetime, zone: tzinfo) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone)


def patient_zone(session: Session, patient_id: int) -> ZoneInfo:
    patient = session.get(PatientRow, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return ZoneInfo(patient.time_zone)


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
    with read_only(engine) as session:
        due = _due_now(session, patient_id, now)
        start, end = day_bounds(due.now.date(), due.now.tzinfo or UTC)
    start_aware, end_aware = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    return due, [slot for slot in due.slots if start_aware <= slot.due_at < end_aware]


def _due_now(session: Session, patient_id: int, now: datetime) -> DueNow:
    monograph = load_monograph("baclofen")
    found = session.execute(_patient_now_statement(), {"patient_id": patient_id}).first()
    if found is None:
        raise NotFound(f"no patient {patient_id}")
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
        advice = _advice_for(monograph, slot, times, local_now, last_taken, zone)
        overdue.append((slot, advice))
    upcoming = [slot for slot in slots if slot.state == "upcoming"]
    recent = tuple(s for s in slots if s.state == "missed" and s.due_at >= local_now - timedelta(hours=24))
    return DueNow(
        now=local_now,
        overdue=tuple(overdue),
        next_dose=upcoming[0] if upcoming else None,
        missed_recently=recent,
        slots=tuple(slots),
    )


@cache
def _patient_now_statement() -> Select[*tuple[Any, ...]]:
    """The patient's zone, the current plan's dose times and the last dose taken: one row."""
    patient_id: BindParameter[Any] = bindparam("patient_id")
    times = (
        select(PlanRow.times)
        .where(PlanRow.patient_id == patient_id)
        .order_by(PlanRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(
        PatientRow.time_zone, times.label("times"), _last_taken_query(patient_id).label("last_taken")
    ).where(PatientRow.id == patient_id)


def missed_dose_advice(engine: Engine, *, patient_id: int, missed: time, now: datetime) -> MissedDoseAdvice:
    """What to do about the dose of ``missed`` o'clock today (the patient's zone), with the
    current plan's dose times and the last dose taken from the diary."""
    monograph = load_monograph("baclofen")
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        times = _current_times(session, patient_id)
        last_taken = _last_taken(session, patient_id)
    if not times:
        raise InputError("there is no plan yet: make a plan first, then Dosewise knows the dose times")
    plan_times = times if missed in times else tuple(sorted({*times, missed}))
    return advise_missed_dose(
        monograph.missed_dose,
        times=plan_times,
        missed=missed,
        now=now.astimezone(zone),
        last_taken=_aware(last_taken, zone) if last_taken is not None else None,
    )


def _last_taken(session: Session, patient_id: int) -> datetime | None:
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


def _advice_for(
    monograph: Monograph,
    slot: Slot,
    times: tuple[time, ...],
    now: datetime,
    last_taken: datetime | None,
    zone: tzinfo,
) -> MissedDoseAdvice:
    clock = slot.due_at.time().replace(tzinfo=None)
    plan_times = times if clock in times else tuple(sorted({*times, clock}))
    return advise_missed_dose(
        monograph.missed_dose,
        times=plan_times,
        missed=clock,
        now=now,
        last_taken=_aware(last_taken, zone) if last_taken is not None else None,
    )


def _current_times(session: Session, patient_id: int) -> tuple[time, ...]:
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


def check_medicines(names: Sequence[str], crcl_ml_min: float | None) -> InteractionReport | None:
    """Interactions of the patient's medicines, with their kidney function (NSAIDs are major
    below CrCl 50 [BACLON]); None when they take no other medicine."""
    if not names:
        return None
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.kidney import assess_creatinine_clearance
    from dosewise.monographs import load_medicines

    monograph = load_monograph("baclofen")
    kidney = assess_creatinine_clearance(monograph.kidney, crcl_ml_min) if crcl_ml_min is not None else None
    return check_interactions(monograph, MedicineIndex(load_medicines()), names, kidney=kidney)


def medicine_interactions(
    engine: Engine, *, patient_id: int, now: datetime
) -> tuple[list[tuple[int, str]], InteractionReport | None]:
    """The medicines the patient takes now, (number, name), and their interactions."""
    current = list_medicines(engine, patient_id=patient_id)
    crcl = history_context(engine, patient_id=patient_id, now=now).crcl_ml_min
    return current, check_medicines([name for _, name in current], crcl)


def triage_with_history(
    engine: Engine, *, patient_id: int, symptoms: Iterable[str], now: datetime
) -> TriageResult:
    """Triage with its context read from the diary: doses missed or skipped in the last 24
    hours, a taper that ended, the kidney function of the current plan, sedating medicines."""
    monograph = load_monograph("baclofen")
    context = history_context(engine, patient_id=patient_id, now=now)
    report = check_medicines(context.medicines, context.crcl_ml_min)
    sedating = report.sedating(monograph) if report is not None else []
    return triage(
        monograph,
        list(symptoms),
        stopped_hours_ago=context.stopped_hours_ago,
        missed_doses_24h=min(context.missed_doses_24h, 24) or None,
        crcl_ml_min=context.crcl_ml_min,
        sedating_medicines=sedating,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryContext:
    missed_doses_24h: int
    stopped_hours_ago: float | None
    crcl_ml_min: float | None
    medicines: tuple[str, ...]


def history_context(engine: Engine, *, patient_id: int, now: datetime) -> HistoryContext:
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        now_utc = to_utc(now)
        slots = load_slots(session, patient_id, now_utc - timedelta(hours=24), now_utc, zone, now)
        plan = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).first()
        last_due = None
        if plan is not None:
            last_due = session.scalar(
                select(DoseSlotRow.due_at)
                .where(DoseSlotRow.plan_id == plan.id)
                .order_by(DoseSlotRow.due_at.desc())
            )
        medicines = tuple(
            session.scalars(
                select(MedicineRow.name).where(
                    MedicineRow.patient_id == patient_id, MedicineRow.stopped_at.is_(None)
                )
            )
        )
    missed = sum(1 for slot in slots if slot.state in ("missed", "skipped"))
    stopped = None
    if plan is not None and plan.kind == "taper" and last_due is not None and last_due < now_utc:
        stopped = (now_utc - last_due).total_seconds() / 3600
    return HistoryContext(
        missed_doses_24h=missed, stopped_hours_ago=stopped, crcl_ml_min=plan_crcl(plan), medicines=medicines
    )


def plan_crcl(plan: PlanRow | None) -> float | None:
    """The creatinine clearance a stored plan was made for, if it was given."""
    return None if plan is None else plan.crcl_ml_min


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlan:
    plan_id: int
    kind: str
    record: PlanRecord  # the typed plan as it was saved
    data: dict[str, Any]  # its view (what the pages, the API and --json show)
    created_at: datetime  # UTC
    superseded_at: datetime | None = None  # UTC


def stored_plan(row: PlanRow) -> StoredPlan:
    """A plan row read by the store's codec, with its view."""
    from dosewise.exporters.plan_json import plan_to_dict
    from dosewise.store.plan_codec import decode_plan

    record = decode_plan(row.record)
    view = plan_to_dict(
        record.plan, load_monograph(record.plan.drug), times=record.times, time_zone=record.time_zone
    )
    return StoredPlan(
        plan_id=row.id,
        kind=row.kind,
        record=record,
        data=view,
        created_at=row.created_at,
        superseded_at=row.superseded_at,
    )


def current_plan(engine: Engine, *, patient_id: int) -> StoredPlan | None:
    """The plan in force (the newest one not superseded), as it was saved."""
    with read_only(engine) as session:
        row = session.scalars(
            select(PlanRow)
            .where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None))
            .order_by(PlanRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else stored_plan(row)


def patient_products(engine: Engine, *, patient_id: int) -> list[str]:
    """The products the patient has used in plans (CLI spelling), oldest first."""
    from dosewise.store.models import ProductRow

    with read_only(engine) as session:
        return list(
            session.scalars(
                select(ProductRow.spec).where(ProductRow.patient_id == patient_id).order_by(ProductRow.id)
            )
        )
