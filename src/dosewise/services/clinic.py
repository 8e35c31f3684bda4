"""A clinician's patient list: who needs attention, and why.

A patient is flagged for doses missed in the last days, a side effect that triage calls urgent
or an emergency, or spasm scores rising against the days before. The look-back and the rise
that counts are Dosewise settings (the clinical reference gives no such numbers); the page
says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean

from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import aliased

from dosewise.domain.adherence import slot_state
from dosewise.domain.triage import TriageLevel
from dosewise.monographs import load_monograph
from dosewise.services.access import patients_of
from dosewise.services.auth import CurrentUser
from dosewise.services.clock import to_utc
from dosewise.services.doses import dose_status, load_slots
from dosewise.services.patients import patient_zone
from dosewise.services.plans import plan_crcl
from dosewise.services.reports import triage_entry
from dosewise.store.database import read_only
from dosewise.store.models import AccessGrantRow, DoseEventRow, DoseSlotRow, PlanRow, SymptomEntryRow

LOOK_BACK = timedelta(days=7)  # setting: the recent period the flags look at
RISE_POINTS = 2.0  # setting: a rise of the mean spasticity rating (0-10) that is flagged


@dataclass(frozen=True, slots=True, kw_only=True)
class Attention:
    patient_id: int
    name: str
    relation: str
    missed: int
    skipped: int
    worst_triage: TriageLevel | None  # "emergency" or "urgent" in the period, else None
    spasticity_now: float | None
    spasticity_before: float | None
    has_plan: bool

    @property
    def rising(self) -> bool:
        return (
            self.spasticity_now is not None
            and self.spasticity_before is not None
            and self.spasticity_now - self.spasticity_before >= RISE_POINTS
        )

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.worst_triage is not None:
            found.append(f"{self.worst_triage} side effect reported")
        if self.missed:
            found.append(f"{self.missed} dose{'s' if self.missed != 1 else ''} missed")
        if self.rising:
            found.append(f"spasticity rising ({self.spasticity_before:.1f} → {self.spasticity_now:.1f})")
        return found

    @property
    def rank(self) -> tuple[int, int, int, str]:
        triage = {"emergency": 0, "urgent": 1}.get(self.worst_triage or "", 2)
        return (triage, -self.missed, 0 if self.rising else 1, self.name.lower())


def patient_list(engine: Engine, *, user: CurrentUser, now: datetime) -> list[Attention]:
    """Every patient the clinician sees, those who need attention first.

    A bounded number of statements whatever the number of patients: each query covers every
    patient the user was let in by (grouped by patient), and only the slots that were not
    taken come back row by row. The result is what :func:`attention` gives one by one."""
    seen = [p for p in patients_of(engine, user=user) if p.relation != "owner"]
    if not seen:
        return []
    facts = _gather(engine, user_id=user.user_id, now=now)
    found = [_attention(p.patient_id, p.name, p.relation, facts.get(p.patient_id), now) for p in seen]
    return sorted(found, key=lambda item: item.rank)


@dataclass(slots=True)
class _Facts:
    """What the list needs of one patient, read for all of them at once."""

    not_taken: list[tuple[datetime, str | None, str]] = field(default_factory=list)  # due, status, times
    last_past_due: datetime | None = None  # the latest slot due before now in the window
    next_due: datetime | None = None  # the first slot due from now on
    scores_now: tuple[int, int] = (0, 0)  # (sum, count) of spasticity ratings
    scores_before: tuple[int, int] = (0, 0)
    side_effect_entries: list[SymptomEntryRow] = field(default_factory=list)
    has_plan: bool = False
    crcl_ml_min: float | None = None


def _gather(engine: Engine, *, user_id: int, now: datetime) -> dict[int, _Facts]:
    now_utc = to_utc(now)
    start = now_utc - LOOK_BACK
    window_start = start - timedelta(days=1)  # doses missed in the 24 h before an entry count
    granted = select(AccessGrantRow.patient_id).where(
        AccessGrantRow.user_id == user_id, AccessGrantRow.revoked_at.is_(None)
    )
    facts: dict[int, _Facts] = {}

    def of(patient_id: int) -> _Facts:
        return facts.setdefault(patient_id, _Facts())

    with read_only(engine) as session:
        # the slots of the window that were not taken (most were: few rows)
        for patient_id, due_at, status, times in session.execute(
            select(PlanRow.patient_id, DoseSlotRow.due_at, DoseEventRow.status, PlanRow.times)
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
            .where(
                PlanRow.patient_id.in_(granted),
                DoseSlotRow.due_at >= window_start,
                DoseSlotRow.due_at < now_utc,
                or_(DoseEventRow.status.is_(None), DoseEventRow.status == "skipped"),
            )
            .order_by(PlanRow.patient_id, DoseSlotRow.due_at, DoseSlotRow.id)
        ):
            of(patient_id).not_taken.append((due_at, status, times))
        # an unrecorded dose turns "missed" when the next one comes near: the next due time
        # after every slot but the last past one is itself past; the last one's is the first
        # slot due from now on. Per plan, each is one step along the (plan, due) index.
        slot = aliased(DoseSlotRow)
        last_past = (
            select(slot.due_at)
            .where(slot.plan_id == PlanRow.id, slot.due_at >= window_start, slot.due_at < now_utc)
            .order_by(slot.due_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        first_next = (
            select(slot.due_at)
            .where(slot.plan_id == PlanRow.id, slot.due_at >= now_utc)
            .order_by(slot.due_at)
            .limit(1)
            .scalar_subquery()
        )
        for patient_id, plan_last, plan_next in session.execute(
            select(PlanRow.patient_id, last_past, first_next).where(PlanRow.patient_id.in_(granted))
        ):
            found = of(patient_id)
            found.has_plan = True
            if plan_last is not None and (found.last_past_due is None or plan_last > found.last_past_due):
                found.last_past_due = plan_last
            if plan_next is not None and (found.next_due is None or plan_next < found.next_due):
                found.next_due = plan_next
        recent = SymptomEntryRow.recorded_at >= start
        for patient_id, sum_now, count_now, sum_before, count_before in session.execute(
            select(
                SymptomEntryRow.patient_id,
                func.sum(case((recent, SymptomEntryRow.spasticity_nrs))),
                func.count(case((recent, 1))),
                func.sum(case((~recent, SymptomEntryRow.spasticity_nrs))),
                func.count(case((~recent, 1))),
            )
            .where(SymptomEntryRow.patient_id.in_(granted), SymptomEntryRow.recorded_at >= start - LOOK_BACK)
            .group_by(SymptomEntryRow.patient_id)
        ):
            of(patient_id).scores_now = (sum_now or 0, count_now)
            of(patient_id).scores_before = (sum_before or 0, count_before)
        with_side_effects = select(SymptomEntryRow.patient_id).where(
            SymptomEntryRow.patient_id.in_(granted), recent, SymptomEntryRow.side_effects != "[]"
        )
        for entry in session.scalars(
            select(SymptomEntryRow)
            .where(SymptomEntryRow.patient_id.in_(granted), recent, SymptomEntryRow.side_effects != "[]")
            .order_by(SymptomEntryRow.patient_id, SymptomEntryRow.recorded_at)
        ):
            of(entry.patient_id).side_effect_entries.append(entry)
        # the kidney function of the newest plan, only where a side effect is triaged with it
        newest = select(func.max(PlanRow.id)).where(PlanRow.patient_id.in_(with_side_effects))
        for plan in session.scalars(
            select(PlanRow).where(PlanRow.id.in_(newest.group_by(PlanRow.patient_id)))
        ):
            of(plan.patient_id).crcl_ml_min = plan_crcl(plan)
    return facts


def _attention(patient_id: int, name: str, relation: str, facts: _Facts | None, now: datetime) -> Attention:
    """One patient's flags from the facts read for all (as :func:`attention` reads them)."""
    facts = facts or _Facts()
    now_utc = to_utc(now)
    start = now_utc - LOOK_BACK
    window = timedelta(hours=load_monograph("baclofen").missed_dose.window_h)
    missed = skipped = 0
    missed_dues = []
    for due_at, status, times in facts.not_taken:
        recorded = dose_status(status) if status is not None else None
        following = facts.last_past_due
        if following is None or due_at >= following:  # the last past dose: what comes next
            following = facts.next_due
            if following is None:  # the plan's last dose: the usual gap between doses
                following = due_at + timedelta(hours=24 / max(1, len(times.split(","))))
        state = slot_state(recorded, due_at, following, now_utc, window)
        if state not in ("missed", "skipped"):
            continue
        missed_dues.append(due_at.replace(tzinfo=UTC))
        if due_at >= start:
            missed += state == "missed"
            skipped += state == "skipped"
    worst: TriageLevel | None = None
    for entry in facts.side_effect_entries:
        result = triage_entry(entry, missed_dues, facts.crcl_ml_min)
        if result is not None and result.level == "emergency":
            worst = "emergency"
        elif result is not None and result.level == "urgent" and worst is None:
            worst = "urgent"
    (sum_now, count_now), (sum_before, count_before) = facts.scores_now, facts.scores_before
    return Attention(
        patient_id=patient_id,
        name=name,
        relation=relation,
        missed=missed,
        skipped=skipped,
        worst_triage=worst,
        spasticity_now=sum_now / count_now if count_now else None,
        spasticity_before=sum_before / count_before if count_before else None,
        has_plan=facts.has_plan,
    )


def attention(engine: Engine, *, patient_id: int, name: str, relation: str, now: datetime) -> Attention:
    """One patient's flags, read for that patient alone (:func:`patient_list` reads them for
    every patient at once and gives the same answer)."""
    now_utc = to_utc(now)
    start = now_utc - LOOK_BACK
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        slots = load_slots(session, patient_id, start - timedelta(days=1), now_utc, zone, now)
        entries = session.scalars(
            select(SymptomEntryRow)
            .where(SymptomEntryRow.patient_id == patient_id, SymptomEntryRow.recorded_at >= start - LOOK_BACK)
            .order_by(SymptomEntryRow.recorded_at)
        ).all()
        plan = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).first()
        crcl = plan_crcl(plan)
    recent = [s for s in slots if to_utc(s.due_at) >= start]
    missed_dues = [slot.due_at for slot in slots if slot.state in ("missed", "skipped")]
    worst: TriageLevel | None = None
    for entry in entries:
        if entry.recorded_at < start:
            continue
        result = triage_entry(entry, missed_dues, crcl)
        if result is not None and result.level == "emergency":
            worst = "emergency"
        elif result is not None and result.level == "urgent" and worst is None:
            worst = "urgent"
    now_scores = [e.spasticity_nrs for e in entries if e.recorded_at >= start]
    before_scores = [e.spasticity_nrs for e in entries if e.recorded_at < start]
    return Attention(
        patient_id=patient_id,
        name=name,
        relation=relation,
        missed=sum(1 for s in recent if s.state == "missed"),
        skipped=sum(1 for s in recent if s.state == "skipped"),
        worst_triage=worst,
        spasticity_now=fmean(now_scores) if now_scores else None,
        spasticity_before=fmean(before_scores) if before_scores else None,
        has_plan=plan is not None,
    )
