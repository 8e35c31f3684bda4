"""Safety tools: "How do I feel?" triage (emergencies first and plainly) and the medicine list
with its interactions, checked every time the list changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.domain.emergency import EmergencyNumber
from dosewise.domain.monograph import Monograph
from dosewise.errors import InputError
from dosewise.exporters.safety_json import interactions_to_dict, triage_to_dict
from dosewise.services import medicines, patients, triage
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import MedicineInput, TriageInput
from dosewise.web.context import AppContext, Ctx, Id, Patient, User, render
from dosewise.web.forms import Submitted, read_form

router = APIRouter(tags=["pages"], include_in_schema=False)
KIND_ORDER = ("emergency", "withdrawal", "alarming", "urgent", "rebound", "common")


def _symptom_groups(monograph: Monograph) -> list[tuple[str, list[tuple[str, str]]]]:
    titles = {
        "emergency": "Danger signs",
        "withdrawal": "After missing or stopping doses",
        "alarming": "Worrying changes",
        "urgent": "Other problems",
        "rebound": "Spasms coming back",
        "common": "Common side effects",
    }
    groups = []
    for kind in KIND_ORDER:
        items = [(s.key, s.label) for s in monograph.symptoms if s.kind == kind]
        if items:
            groups.append((titles[kind], items))
    return groups


def _triage_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    result: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    emergency: EmergencyNumber | None = None,
) -> Response:
    """The guided questions first (the "stopped" one prefilled from the diary), the symptom
    list, one's own words; a result, when there is one, comes first of all."""
    monograph = patients.monograph_of(context.engine, patient_id=patient.patient_id)
    diary = triage.diary_context(context.engine, patient_id=patient.patient_id, now=context.now())
    values = dict(values or {})
    if "stopped" not in values and diary.stopped_or_missed:
        values["stopped"] = "yes"
    asked = {q["key"] for q in result["questions"]} if result else set()
    return render(
        context,
        request,
        "triage.html.j2",
        status=status,
        patient=patient,
        questions=[(q, _yes_no(values.get(q.key)), q.key in asked) for q in monograph.triage_questions],
        diary=diary,
        groups=_symptom_groups(monograph),
        result=result,
        chosen=[text for text in values.get("symptoms", []) if text],
        other=str(values.get("other", "")),
        amount=str(values.get("amount", "")),
        emergency=emergency,
        error=error,
    )


def _yes_no(value: object) -> str:
    if value in (True, "yes"):
        return "yes"
    if value in (False, "no"):
        return "no"
    return ""


@router.get("/patients/{patient_id}/triage")
def triage_form(request: Request, context: Ctx, patient: Patient) -> Response:
    return _triage_page(context, request, patient)


async def _triage_form(request: Request) -> Submitted[TriageInput]:
    return await read_form(request, TriageInput)


@router.post("/patients/{patient_id}/triage")
def post_triage(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[TriageInput], Depends(_triage_form)],
) -> Response:
    try:
        if submitted.model is None:
            raise submitted.error or InputError("answer the questions or tick what you feel")
        texts = submitted.model.texts()
        assessment = triage.triage_patient(
            context.engine,
            patient_id=patient.patient_id,
            symptoms=texts,
            now=context.now(),
            actor=user.actor,
            answers=submitted.model.answers(),
            amount=submitted.model.amount,
        )
    except InputError as error:
        return _triage_page(context, request, patient, status=400, values=submitted.values, error=str(error))
    data = triage_to_dict(
        assessment.result, assessment.monograph, unrecognised_medicines=assessment.unrecognised_medicines
    )
    return _triage_page(
        context, request, patient, result=data, values=submitted.values, emergency=assessment.emergency
    )


def medicines_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    check = medicines.medicine_interactions(context.engine, patient_id=patient.patient_id, now=context.now())
    current = check.medicines
    data = interactions_to_dict(check.report, check.monograph) if check.report is not None else None
    notice = {"added": "Added and checked.", "stopped": "Taken off the list."}.get(
        request.query_params.get("done", "")
    )
    return render(
        context,
        request,
        "medicines.html.j2",
        status=status,
        patient=patient,
        medicines=current,
        interactions=data,
        can_record=patient.can("record"),
        notice=notice,
        error=error,
    )


@router.get("/patients/{patient_id}/medicines")
def medicines_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return medicines_page(context, request, patient)


async def _medicine_form(request: Request) -> Submitted[MedicineInput]:
    return await read_form(request, MedicineInput)


@router.post("/patients/{patient_id}/medicines")
def add_medicine(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[MedicineInput], Depends(_medicine_form)],
) -> Response:
    patient.require("record")
    try:
        if submitted.model is None:
            raise submitted.error or InputError("type the medicine's name")
        medicines.add_medicine(
            context.engine,
            patient_id=patient.patient_id,
            name=submitted.model.name,
            now=context.now(),
            actor=user.actor,
        )
    except InputError as error:
        return medicines_page(context, request, patient, status=400, error=str(error))
    return RedirectResponse(f"/patients/{patient.patient_id}/medicines?done=added", status_code=303)


@router.post("/patients/{patient_id}/medicines/{medicine_id}/stop")
def stop_medicine(request: Request, context: Ctx, user: User, patient: Patient, medicine_id: Id) -> Response:
    patient.require("record")
    medicines.stop_medicine(
        context.engine,
        patient_id=patient.patient_id,
        medicine_id=medicine_id,
        now=context.now(),
        actor=user.actor,
    )
    return RedirectResponse(f"/patients/{patient.patient_id}/medicines?done=stopped", status_code=303)
