"""How urgent is this symptom: one triage for the one-off question and for the diary.

:func:`assess_symptoms` is the one implementation: the sedating medicines come from
:func:`dosewise.services.medicines.check_medicines`, and the names it does not recognise are
returned beside the result, so every interface can say they were not counted.
:func:`assess_symptoms_from_diary` reads the context (missed doses, a finished taper, the
plan's kidney function, the medicines) from the diary and calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from dosewise.domain.triage import TriageResult, triage
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services.clock import to_utc
from dosewise.services.doses import load_slots
from dosewise.services.medicines import check_medicines, unrecognised_names
from dosewise.services.patients import patient_zone
from dosewise.services.plans import plan_crcl
from dosewise.store.database import read_only
from dosewise.store.models import DoseSlotRow, MedicineRow, PlanRow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from dosewise.domain.monograph import Monograph
    from dosewise.domain.triage import TriageResult

MAX_MISSED_DOSES_24H = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageAssessment:
    result: TriageResult
    unrecognised_medicines: tuple[str, ...]  # as typed: not counted, never called safe
    monograph: Monograph  # of the drug triaged for: its sources and disclaimer


def assess_symptoms(
    symptoms: Iterable[str],
    *,
    stopped_hours_ago: float | None = None,
    missed_doses_24h: int | None = None,
    crcl_ml_min: float | None = None,
    medicines: Sequence[str] = (),
    drug: str = DEFAULT_DRUG,
) -> TriageAssessment:
    """The triage level with its reasons, from symptoms and their context."""
    monograph = load_monograph(drug)
    report = check_medicines(list(medicines), crcl_ml_min, drug=drug)
    result = triage(
        monograph,
        list(symptoms),
        stopped_hours_ago=stopped_hours_ago,
        missed_doses_24h=missed_doses_24h,
        crcl_ml_min=crcl_ml_min,
        sedating_medicines=report.sedating(monograph) if report is not None else [],
    )
    return TriageAssessment(
        result=result, unrecognised_medicines=unrecognised_names(report), monograph=monograph
    )


def assess_symptoms_from_diary(
    engine: Engine, *, patient_id: int, symptoms: Iterable[str], now: datetime
) -> TriageAssessment:
    """Triage with its context read from the diary: doses missed or skipped in the last 24
    hours, a taper that ended, the kidney function of the current plan, the other medicines."""
    context = diary_context(engine, patient_id=patient_id, now=now)
    return assess_symptoms(
        symptoms,
        drug=context.drug,
        stopped_hours_ago=context.stopped_hours_ago,
        missed_doses_24h=min(context.missed_doses_24h, MAX_MISSED_DOSES_24H) or None,
        crcl_ml_min=context.crcl_ml_min,
        medicines=context.medicines,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DiaryContext:
    """What the diary says about the last day, for triage."""

    missed_doses_24h: int
    stopped_hours_ago: float | None
    crcl_ml_min: float | None
    medicines: tuple[str, ...]
    drug: str  # of the newest plan: the monograph the diary is read with


def diary_context(engine: Engine, *, patient_id: int, now: datetime) -> DiaryContext:
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
    return DiaryContext(
        missed_doses_24h=missed,
        stopped_hours_ago=stopped,
        crcl_ml_min=plan_crcl(plan),
        medicines=medicines,
        drug=plan.drug if plan is not None else DEFAULT_DRUG,
    )
