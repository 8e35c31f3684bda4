"""How urgent is this: one triage for the one-off question, the diary and the API, and a
record of every result given to a patient.

:func:`assess_symptoms` is the one implementation: the sedating medicines (and which of them
are major, and levodopa) come from :func:`dosewise.services.medicines.check_medicines`, and the
names it does not recognise are returned beside the result, so every interface can say they
were not counted. :func:`assess_symptoms_from_diary` reads the context (missed doses, a
finished taper, the last dose taken, the usual dose, the tablets, the plan's kidney function,
the medicines) from the diary, and :func:`triage_patient` also keeps the result
(``triage_results``, audited): what was told is never recomputed later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from dosewise.domain.triage import TriageResult, triage
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.services.doses import load_slots
from dosewise.services.medicines import check_medicines, unrecognised_names
from dosewise.services.patients import patient_profile, patient_zone
from dosewise.services.plans import plan_crcl
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import (
    DoseEventRow,
    DoseSlotRow,
    MedicineRow,
    PatientRow,
    PlanRow,
    ProductRow,
    TriageResultRow,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dosewise.domain.emergency import EmergencyNumber
    from dosewise.domain.monograph import Monograph

MAX_MISSED_DOSES_24H = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageAssessment:
    result: TriageResult
    unrecognised_medicines: tuple[str, ...]  # as typed: not counted, never called safe
    monograph: Monograph  # of the drug triaged for: its sources and disclaimer
    context: DiaryContext | None = None  # what the diary said, when read from it
    result_id: int | None = None  # the stored result, when kept
    emergency: EmergencyNumber | None = None  # the patient's number to call, when kept for them


def assess_symptoms(
    symptoms: Iterable[str],
    *,
    answers: Mapping[str, bool] | None = None,
    amount: str = "",
    stopped_hours_ago: float | None = None,
    missed_doses_24h: int | None = None,
    crcl_ml_min: float | None = None,
    medicines: Sequence[str] = (),
    usual_dose_mg: float | None = None,
    tablet_mg: float | None = None,
    drug: str = DEFAULT_DRUG,
) -> TriageAssessment:
    """The triage level with its reasons, from the answers, the symptoms and their context."""
    monograph = load_monograph(drug)
    report = check_medicines(list(medicines), crcl_ml_min, drug=drug)
    result = triage(
        monograph,
        list(symptoms),
        answers=answers,
        amount=amount,
        stopped_hours_ago=stopped_hours_ago,
        missed_doses_24h=missed_doses_24h,
        crcl_ml_min=crcl_ml_min,
        sedating_medicines=report.sedating(monograph) if report is not None else [],
        major_sedating_medicines=report.major_sedating(monograph) if report is not None else [],
        levodopa_medicines=report.with_class(monograph, "levodopa") if report is not None else [],
        usual_dose_mg=usual_dose_mg,
        tablet_mg=tablet_mg,
    )
    return TriageAssessment(
        result=result, unrecognised_medicines=unrecognised_names(report), monograph=monograph
    )


def assess_symptoms_from_diary(
    engine: Engine,
    *,
    patient_id: int,
    symptoms: Iterable[str],
    now: datetime,
    answers: Mapping[str, bool] | None = None,
    amount: str = "",
) -> TriageAssessment:
    """Triage with its context read from the diary: doses missed or skipped in the last 24
    hours, a taper that ended, the last dose taken, the usual dose and tablets, the kidney
    function of the current plan, the other medicines. Nothing is stored."""
    context = diary_context(engine, patient_id=patient_id, now=now)
    assessment = assess_symptoms(
        symptoms,
        answers=answers,
        amount=amount,
        drug=context.drug,
        stopped_hours_ago=context.stopped_hours_ago,
        missed_doses_24h=min(context.missed_doses_24h, MAX_MISSED_DOSES_24H) or None,
        crcl_ml_min=context.crcl_ml_min,
        medicines=context.medicines,
        usual_dose_mg=context.usual_dose_mg,
        tablet_mg=context.tablet_mg,
    )
    return TriageAssessment(
        result=assessment.result,
        unrecognised_medicines=assessment.unrecognised_medicines,
        monograph=assessment.monograph,
        context=context,
    )


def triage_patient(
    engine: Engine,
    *,
    patient_id: int,
    symptoms: Sequence[str],
    now: datetime,
    actor: str,
    answers: Mapping[str, bool] | None = None,
    amount: str = "",
) -> TriageAssessment:
    """:func:`assess_symptoms_from_diary`, and the result kept in the diary (audited): level,
    reasons, sources and what it was given from. Bad input stores nothing."""
    assessment = assess_symptoms_from_diary(
        engine, patient_id=patient_id, symptoms=symptoms, now=now, answers=answers, amount=amount
    )
    with unit_of_work(engine) as session:
        result_id = store_result(
            session,
            patient_id=patient_id,
            now=now,
            actor=actor,
            result=assessment.result,
            inputs=_inputs(symptoms, answers, amount, assessment),
        )
    return TriageAssessment(
        result=assessment.result,
        unrecognised_medicines=assessment.unrecognised_medicines,
        monograph=assessment.monograph,
        context=assessment.context,
        result_id=result_id,
        emergency=patient_profile(engine, patient_id=patient_id).emergency,
    )


def _inputs(
    symptoms: Sequence[str], answers: Mapping[str, bool] | None, amount: str, assessment: TriageAssessment
) -> dict[str, Any]:
    context = assessment.context
    data: dict[str, Any] = {"symptoms": list(symptoms), "answers": dict(answers or {})}
    if amount.strip():
        data["amount"] = amount.strip()
    if context is not None:
        data["context"] = {
            "missed_doses_24h": context.missed_doses_24h,
            "stopped_hours_ago": context.stopped_hours_ago,
            "last_taken_hours_ago": context.last_taken_hours_ago,
            "crcl_ml_min": context.crcl_ml_min,
            "usual_dose_mg": context.usual_dose_mg,
            "tablet_mg": context.tablet_mg,
            "medicines": list(context.medicines),
        }
    if assessment.unrecognised_medicines:
        data["unrecognised_medicines"] = list(assessment.unrecognised_medicines)
    return data


def store_result(
    session: Session,
    *,
    patient_id: int,
    now: datetime,
    actor: str,
    result: TriageResult,
    inputs: Mapping[str, Any],
    symptom_entry_id: int | None = None,
) -> int:
    """Keep one triage result (and its audit row) in the caller's transaction."""
    if session.get(PatientRow, patient_id) is None:
        from dosewise.errors import NotFound

        raise NotFound(f"no patient {patient_id}")
    row = TriageResultRow(
        patient_id=patient_id,
        recorded_at=to_utc(now).replace(tzinfo=None),
        level=result.level,
        reasons=json.dumps(list(result.reasons)),
        inputs=json.dumps(
            {
                **inputs,
                "symptoms_read": [s.key for s in result.symptoms],
                "denied": [s.key for s in result.denied],
                "unrecognised": list(result.unrecognised),
            }
        ),
        sources=json.dumps(list(result.sources)),
        symptom_entry_id=symptom_entry_id,
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    audit(session, now, actor, patient_id, "triage", "triage_result", row.id, detail={"level": result.level})
    if result.level in ("emergency", "urgent"):
        _alert_care_team(session, patient_id=patient_id, row=row, result=result, actor=actor, now=now)
    return row.id


def _alert_care_team(
    session: Session,
    *,
    patient_id: int,
    row: TriageResultRow,
    result: TriageResult,
    actor: str,
    now: datetime,
) -> None:
    """An emergency or urgent result goes to caregivers and clinicians at once (baclofen.md
    section 10), written with the result: kept together or not at all."""
    from zoneinfo import ZoneInfo

    from dosewise.domain.notifications import Level, Text
    from dosewise.services.notifications import CARE_TEAM, Announcement, announce

    patient = session.get(PatientRow, patient_id)
    name = patient.name if patient is not None else f"patient {patient_id}"
    first = result.reasons[0] if result.reasons else ""
    level: Level = "emergency" if result.level == "emergency" else "urgent"
    local = now.astimezone(ZoneInfo(patient.time_zone)) if patient is not None else now
    title = (
        f"Emergency: {name} was told to call emergency services"
        if level == "emergency"
        else f"Urgent: {name} was told to contact the prescriber today"
    )
    announce(
        session,
        [
            Announcement(
                kind="triage_alert",
                level=level,
                subject=f"t{row.id}",
                patient_id=patient_id,
                audience=CARE_TEAM,
                text=Text(
                    title=title,
                    body=f"Safety check at {local:%H:%M}: {first.rstrip('.')}. "
                    "Open Dosewise for the whole result.",
                    sources=tuple(result.sources),
                ),
                url=f"/patients/{patient_id}/triage/history",
                due=now,
                exclude_user=int(actor.removeprefix("user:")) if actor.startswith("user:") else None,
            )
        ],
        now=now,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTriage:
    """A triage result as it was given."""

    result_id: int
    recorded_at: datetime  # aware UTC
    level: str
    reasons: tuple[str, ...]
    symptoms: tuple[str, ...]  # keys read
    typed: tuple[str, ...]  # what was ticked or typed
    answers: dict[str, bool]
    unrecognised: tuple[str, ...]
    sources: tuple[str, ...]
    recorded_by: str
    symptom_entry_id: int | None


def stored_result(row: TriageResultRow) -> StoredTriage:
    from datetime import UTC

    inputs = json.loads(row.inputs)
    return StoredTriage(
        result_id=row.id,
        recorded_at=row.recorded_at.replace(tzinfo=UTC),
        level=row.level,
        reasons=tuple(json.loads(row.reasons)),
        symptoms=tuple(inputs.get("symptoms_read", ())),
        typed=tuple(inputs.get("symptoms", ())),
        answers=dict(inputs.get("answers", {})),
        unrecognised=tuple(inputs.get("unrecognised", ())),
        sources=tuple(json.loads(row.sources)),
        recorded_by=row.recorded_by,
        symptom_entry_id=row.symptom_entry_id,
    )


def entry_result(engine: Engine, *, patient_id: int, symptom_entry_id: int) -> StoredTriage | None:
    """The triage kept with a diary entry's side effects, if any."""
    with read_only(engine) as session:
        row = session.scalars(
            select(TriageResultRow).where(
                TriageResultRow.patient_id == patient_id, TriageResultRow.symptom_entry_id == symptom_entry_id
            )
        ).first()
        return None if row is None else stored_result(row)


def triage_history(
    engine: Engine, *, patient_id: int, since: datetime | None = None, until: datetime | None = None
) -> list[StoredTriage]:
    """The patient's triage results, newest first (``since``/``until``: aware, inclusive)."""
    with read_only(engine) as session:
        return load_results(session, patient_id, since, until)


def load_results(
    session: Session, patient_id: int, since: datetime | None = None, until: datetime | None = None
) -> list[StoredTriage]:
    statement = select(TriageResultRow).where(TriageResultRow.patient_id == patient_id)
    if since is not None:
        statement = statement.where(TriageResultRow.recorded_at >= to_utc(since).replace(tzinfo=None))
    if until is not None:
        statement = statement.where(TriageResultRow.recorded_at <= to_utc(until).replace(tzinfo=None))
    rows = session.scalars(statement.order_by(TriageResultRow.recorded_at.desc(), TriageResultRow.id.desc()))
    return [stored_result(row) for row in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiaryContext:
    """What the diary says about the last days, for triage."""

    missed_doses_24h: int
    stopped_hours_ago: float | None  # a finished taper's last dose
    crcl_ml_min: float | None
    medicines: tuple[str, ...]
    drug: str  # of the newest plan: the monograph the diary is read with
    last_taken_hours_ago: float | None = None  # the last dose recorded as taken
    usual_dose_mg: float | None = None  # the smallest single dose of the plan now
    tablet_mg: float | None = None  # the largest tablet strength the patient has
    kidney_band: str | None = None  # of the newest plan ("dialysis": no CrCl is stored)

    @property
    def stopped_or_missed(self) -> bool:
        """What the "stopped, run out or missed" question is prefilled with."""
        return bool(self.missed_doses_24h) or self.stopped_hours_ago is not None


def diary_context(engine: Engine, *, patient_id: int, now: datetime) -> DiaryContext:
    now_utc = to_utc(now)
    now_naive = now_utc.replace(tzinfo=None)  # as stored
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        slots = load_slots(session, patient_id, now_utc - timedelta(hours=24), now_utc, zone, now)
        plan = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).first()
        last_due = None
        usual_ug = None
        if plan is not None:
            last_due = session.scalar(
                select(DoseSlotRow.due_at)
                .where(DoseSlotRow.plan_id == plan.id)
                .order_by(DoseSlotRow.due_at.desc())
            )
            usual_ug = session.scalar(
                select(DoseSlotRow.dose_ug)
                .where(DoseSlotRow.plan_id == plan.id, DoseSlotRow.due_at <= now_naive)
                .order_by(DoseSlotRow.due_at.desc())
            ) or session.scalar(
                select(DoseSlotRow.dose_ug).where(DoseSlotRow.plan_id == plan.id).order_by(DoseSlotRow.due_at)
            )
        last_taken = session.scalar(
            select(DoseEventRow.taken_at)
            .join(DoseSlotRow, DoseSlotRow.id == DoseEventRow.slot_id)
            .where(
                DoseSlotRow.patient_id == patient_id,
                DoseEventRow.status == "taken",
                DoseEventRow.taken_at <= now_naive,
            )
            .order_by(DoseEventRow.taken_at.desc())
            .limit(1)
        )
        medicines = tuple(
            session.scalars(
                select(MedicineRow.name).where(
                    MedicineRow.patient_id == patient_id, MedicineRow.stopped_at.is_(None)
                )
            )
        )
        specs = tuple(session.scalars(select(ProductRow.spec).where(ProductRow.patient_id == patient_id)))
    missed = sum(1 for slot in slots if slot.state in ("missed", "skipped"))
    stopped = None
    if plan is not None and plan.kind == "taper" and last_due is not None and last_due < now_naive:
        stopped = (now_naive - last_due).total_seconds() / 3600
    last_taken_hours = None
    if last_taken is not None:
        last_taken_hours = (now_naive - last_taken).total_seconds() / 3600
    return DiaryContext(
        missed_doses_24h=missed,
        stopped_hours_ago=stopped,
        crcl_ml_min=plan_crcl(plan),
        medicines=medicines,
        drug=plan.drug if plan is not None else DEFAULT_DRUG,
        last_taken_hours_ago=last_taken_hours,
        usual_dose_mg=usual_ug / 1000 if usual_ug else None,
        tablet_mg=_largest_tablet_mg(specs, plan.drug if plan is not None else DEFAULT_DRUG),
        kidney_band=plan.kidney_band if plan is not None else None,
    )


def _largest_tablet_mg(specs: Sequence[str], drug: str) -> float | None:
    """The largest tablet strength the patient has (the cautious one for "took 20 tablets")."""
    from dosewise.domain.products import parse_product_spec

    monograph = load_monograph(drug)
    tablets = [parse_product_spec(spec, monograph) for spec in specs]
    strengths = [product.strength_ug / 1000 for product in tablets if product.form == "tablet"]
    return max(strengths) if strengths else None


def stored_view(stored: StoredTriage, monograph: Monograph) -> dict[str, Any]:
    """A kept triage result, shaped like :func:`triage_to_dict` (for showing it again)."""
    from dosewise.domain.triage import ADVICE
    from dosewise.exporters.plan_json import describe_sources
    from dosewise.exporters.safety_json import NOT_A_REPLACEMENT

    return {
        "result_id": stored.result_id,
        "recorded_at": stored.recorded_at.isoformat(),
        "level": stored.level,
        "symptoms": list(stored.symptoms),
        "unrecognised": list(stored.unrecognised),
        "unrecognised_medicines": [],
        "reasons": list(stored.reasons),
        "advice": ADVICE[stored.level],  # type: ignore[index]
        "sources": describe_sources(monograph, stored.sources),
        "disclaimer": f"{monograph.disclaimer} {NOT_A_REPLACEMENT}",
        "answers": {key: ("yes" if value else "no") for key, value in stored.answers.items()},
        "corrections": [],
        "needs_answers": False,
        "questions": [],
    }
