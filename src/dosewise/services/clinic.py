"""A clinician's patient list: who needs attention, and why.

A patient is flagged for doses missed in the last days, a side effect that triage calls urgent
or an emergency, or spasm scores rising against the days before. The look-back and the rise
that counts are Dosewise settings (the clinical reference gives no such numbers); the page
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy import Engine, select

from dosewise.domain.triage import TriageLevel
from dosewise.services.accounts import CurrentUser, patients_of
from dosewise.services.diary import to_utc
from dosewise.services.history import load_slots, patient_zone, plan_crcl
from dosewise.services.report import triage_entry
from dosewise.store.database import read_only
from dosewise.store.models import PlanRow, SymptomEntryRow

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
    """Every patient the clinician sees, those who need attention first."""
    found = [attention(engine, patient_id=p.patient_id, name=p.name, relation=p.relation, now=now)
             for p in patients_of(engine, user=user) if p.relation != "owner"]  # fmt: skip
    return sorted(found, key=lambda item: item.rank)


def attention(engine: Engine, *, patient_id: int, name: str, relation: str, now: datetime) -> Attention:
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
