"""A clinician's patient list: who needs attention, and why.

A patient is flagged for doses missed in the last days, a side effect that triage calls urgent
or an emergency, or spasm scores rising against the days before. The look-back and the rise
that counts are Dosewise settings (the clinical reference gives no such numbers); the page
says so.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean

from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import aliased

from dosewise.domain.adherence import slot_state
from dosewise.domain.triage import TriageLevel
from dosewise.errors import InputError
from dosewise.monographs import load_monograph
from dosewise.services.auth import CurrentUser
from dosewise.services.clock import to_utc
from dosewise.services.doses import dose_status, load_slots
from dosewise.services.patients import patient_zone
from dosewise.services.plans import plan_crcl
from dosewise.services.reports import triage_entry
from dosewise.store.database import read_connection, read_only
from dosewise.store.models import (
    AccessGrantRow,
    DoseEventRow,
    DoseSlotRow,
    PatientRow,
    PlanRow,
    SymptomEntryRow,
)

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


PAGE_SIZE = 50  # setting: rows per page of the list


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientPage:
    """One page of the ranked list, and where it stands in the whole list."""

    rows: tuple[Attention, ...]
    total: int  # patients the clinician sees
    flagged: int  # of those, patients who need attention (on any page)
    page: int  # 1 is the first
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_number(self) -> int:
        """The position in the whole list of the page's first row (1-based)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def patient_page(
    engine: Engine, *, user: CurrentUser, now: datetime, page: int = 1, page_size: int = PAGE_SIZE
) -> PatientPage:
    """A page of the patients the clinician sees, those who need attention first (then by
    name); a page past the end is the last page.

    A bounded number of statements whatever the number of patients: grouped reads over every
    patient the user was let in by, one transaction. The ranking needs, for every patient, the
    doses not taken (few rows), the spasticity sums and the side effects (few); the rows of the
    page are what :func:`attention` gives one by one."""
    if page < 1 or page_size < 1:
        raise InputError("a page number and size start at 1")
    facts, seen = _gather(engine, user_id=user.user_id, now=now)
    now_utc, window = to_utc(now), timedelta(hours=load_monograph("baclofen").missed_dose.window_h)
    triaged: dict[tuple[str, int, float | None], TriageLevel | None] = {}
    ranked = sorted(
        (
            _attention(patient_id, name, relation, facts.get(patient_id), now_utc, window, triaged)
            for patient_id, name, relation in seen
        ),
        key=lambda item: (*item.rank, item.name, item.patient_id),
    )
    pages = max(1, -(-len(ranked) // page_size))
    page = min(page, pages)
    first = (page - 1) * page_size
    return PatientPage(
        rows=tuple(ranked[first : first + page_size]),
        total=len(ranked),
        flagged=sum(1 for item in ranked if item.reasons),
        page=page,
        page_size=page_size,
    )


def patient_list(engine: Engine, *, user: CurrentUser, now: datetime) -> list[Attention]:
    """Every patient the clinician sees, ranked as :func:`patient_page` ranks them (one page
    as long as the list)."""
    found = patient_page(engine, user=user, now=now, page_size=1_000_000)
    return list(found.rows)


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


_EMPTY = _Facts()  # a patient with no rows (read only)


def _gather(
    engine: Engine, *, user_id: int, now: datetime
) -> tuple[dict[int, _Facts], list[tuple[int, str, str]]]:
    """The facts of every patient the user was let in by, and those patients (id, name,
    relation), in one transaction of plain rows."""
    now_utc = to_utc(now)
    start = now_utc - LOOK_BACK
    window_start = start - timedelta(days=1)  # doses missed in the 24 h before an entry count
    granted = select(AccessGrantRow.patient_id).where(
        AccessGrantRow.user_id == user_id, AccessGrantRow.revoked_at.is_(None)
    )
    facts: dict[int, _Facts] = {}

    def of(patient_id: int) -> _Facts:
        found = facts.get(patient_id)
        if found is None:
            found = facts[patient_id] = _Facts()
        return found

    with read_connection(engine) as connection:
        seen = [
            (patient_id, name, "clinician" if role == "clinician" else "caregiver")
            for patient_id, name, role in connection.execute(
                select(PatientRow.id, PatientRow.name, AccessGrantRow.role)
                .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
                .where(AccessGrantRow.user_id == user_id, AccessGrantRow.revoked_at.is_(None))
            )
        ]
        if not seen:
            return facts, seen
        # the slots of the window that were not taken (most were: few rows)
        for patient_id, due_at, status, times in connection.execute(
            select(PlanRow.patient_id, DoseSlotRow.due_at, DoseEventRow.status, PlanRow.times)
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
            .where(
                PlanRow.patient_id.in_(granted),
                DoseSlotRow.due_at >= window_start,
                DoseSlotRow.due_at < now_utc,
                or_(DoseEventRow.status.is_(None), DoseEventRow.status == "skipped"),
            )  # in no order: sorting them all costs SQLite more than sorting each patient's few
        ):
            of(patient_id).not_taken.append((due_at, status, times))
        for found in facts.values():
            found.not_taken.sort(key=lambda row: row[0])  # by due time (ties: missed_dues hold times)
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
        newest_plan: dict[int, int] = {}
        for patient_id, plan_id, crcl, plan_last, plan_next in connection.execute(
            select(PlanRow.patient_id, PlanRow.id, PlanRow.crcl_ml_min, last_past, first_next).where(
                PlanRow.patient_id.in_(granted)
            )
        ):
            found = of(patient_id)
            found.has_plan = True
            if plan_id > newest_plan.get(patient_id, 0):  # triage uses the newest plan's kidney function
                newest_plan[patient_id] = plan_id
                found.crcl_ml_min = crcl
            if plan_last is not None and (found.last_past_due is None or plan_last > found.last_past_due):
                found.last_past_due = plan_last
            if plan_next is not None and (found.next_due is None or plan_next < found.next_due):
                found.next_due = plan_next
        recent = SymptomEntryRow.recorded_at >= start
        for patient_id, sum_now, count_now, sum_before, count_before in connection.execute(
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
            found = of(patient_id)
            found.scores_now = (sum_now or 0, count_now)
            found.scores_before = (sum_before or 0, count_before)
        for patient_id, recorded_at, side_effects in connection.execute(
            select(SymptomEntryRow.patient_id, SymptomEntryRow.recorded_at, SymptomEntryRow.side_effects)
            .where(
                SymptomEntryRow.patient_id.in_(granted),
                recent,
                SymptomEntryRow.side_effects != "[]",
            )
            .order_by(SymptomEntryRow.recorded_at, SymptomEntryRow.id)
        ):
            # the two columns reports.triage_entry reads, as an unsaved row
            entry = SymptomEntryRow(recorded_at=recorded_at, side_effects=side_effects)
            of(patient_id).side_effect_entries.append(entry)
    return facts, seen


def _attention(
    patient_id: int,
    name: str,
    relation: str,
    facts: _Facts | None,
    now_utc: datetime,
    window: timedelta,
    triaged: dict[tuple[str, int, float | None], TriageLevel | None],
) -> Attention:
    """One patient's flags from the facts read for all (as :func:`attention` reads them);
    ``now_utc`` naive, ``window`` the missed-dose advice's, ``triaged`` the triage levels
    found so far in this list."""
    facts = facts or _EMPTY
    start = now_utc - LOOK_BACK
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
        level = _triage_level(entry, missed_dues, facts.crcl_ml_min, triaged)
        if level == "emergency":
            worst = "emergency"
        elif level == "urgent" and worst is None:
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


def _triage_level(
    entry: SymptomEntryRow,
    missed_dues: list[datetime],
    crcl: float | None,
    triaged: dict[tuple[str, int, float | None], TriageLevel | None],
) -> TriageLevel | None:
    """The level :func:`reports.triage_entry` gives the entry, triaged once per list for each
    (side effects, doses missed in the 24 h before, kidney function): what triage depends on.
    Most entries of a list repeat a few such combinations."""
    at = entry.recorded_at.replace(tzinfo=UTC)
    missed = bisect_right(missed_dues, at) - bisect_left(missed_dues, at - timedelta(hours=24))
    key = (entry.side_effects, missed, crcl)
    if key not in triaged:
        result = triage_entry(entry, missed_dues, crcl)
        triaged[key] = result.level if result is not None else None
    return triaged[key]


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
