"""The diary: spasms (Penn scale in words), stiffness 0-10, side effects with severity, notes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.domain.scales import (
    PENN_FREQUENCY,
    PENN_SEVERITY,
    SIDE_EFFECT_SEVERITY,
    SPASTICITY_NRS_ANCHORS,
    SPASTICITY_NRS_RANGE,
)
from dosewise.errors import InputError
from dosewise.services import notes, patients, symptoms, triage
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import NoteInput, SymptomsInput
from dosewise.services.reports import gather_report
from dosewise.web.context import MAX_ID, AppContext, Ctx, Patient, User, render
from dosewise.web.forms import Submitted, read_form

router = APIRouter(tags=["pages"], include_in_schema=False)
RECENT_DAYS = 14
NOTICES = {"symptoms": "Saved in the diary.", "note": "Note saved."}
# The entry form's questions by service field, as the page asks them.
FIELD_LABELS = {
    "penn_frequency": "How often did spasms come",
    "penn_severity": "How bad were the spasms",
    "spasticity": "How stiff were you",
    "spasticity_nrs": "How stiff were you",
    "side_effects": "Side effects",
    "note": "Anything else",
}


def diary_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    error: str | None = None,
    form: Mapping[str, object] | None = None,
) -> Response:
    now = context.now()
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    data = gather_report(
        context.engine,
        patient_id=patient.patient_id,
        first_day=today - timedelta(days=RECENT_DAYS - 1),
        last_day=today,
        now=now,
        levels=False,
    )
    monograph = patients.monograph_of(context.engine, patient_id=patient.patient_id)
    side_effects = [s for s in monograph.symptoms if s.kind in ("common", "alarming", "urgent", "rebound")]
    # an entry just saved whose side effects are urgent or an emergency: that first, plainly
    result = None
    entry = request.query_params.get("entry", "")
    if entry.isascii() and entry.isdigit() and len(entry) <= len(str(MAX_ID)) and int(entry) <= MAX_ID:
        stored = triage.entry_result(
            context.engine, patient_id=patient.patient_id, symptom_entry_id=int(entry)
        )
        if stored is not None and stored.level != "routine":
            result = triage.stored_view(stored, monograph)
    return render(
        context,
        request,
        "diary.html.j2",
        status=status,
        patient=patient,
        entries=list(reversed(data.symptoms)),
        notes=list(reversed(data.notes)),
        reviews=list(reversed(data.reviews)),
        penn_frequency=PENN_FREQUENCY,
        penn_severity=PENN_SEVERITY,
        effect_severity=SIDE_EFFECT_SEVERITY,
        nrs_anchors=SPASTICITY_NRS_ANCHORS,
        nrs_range=SPASTICITY_NRS_RANGE,
        side_effects=side_effects,
        recent_days=RECENT_DAYS,
        form=form or {},
        can_record=patient.can("record"),
        can_note=patient.can("note"),
        notice=None if result else NOTICES.get(request.query_params.get("done", "")),
        result=result,
        emergency=patients.patient_profile(context.engine, patient_id=patient.patient_id).emergency
        if result
        else None,
        error=error,
    )


@router.get("/patients/{patient_id}/diary")
def diary_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return diary_page(context, request, patient)


async def _symptoms_form(request: Request) -> Submitted[SymptomsInput]:
    form = await request.form()
    # severity is asked only when there were spasms: a choice left from before is not an error
    ignore = ("penn_severity",) if form.get("penn_frequency") == "0" else ()
    return await read_form(request, SymptomsInput, ignore=ignore)


@router.post("/patients/{patient_id}/diary/symptoms")
def add_symptoms(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[SymptomsInput], Depends(_symptoms_form)],
) -> Response:
    """Side effects come as "key:severity" from one select per side effect ("" = not at all)."""
    patient.require("record")
    try:
        if submitted.model is None:
            raise submitted.error or InputError("check the entry")
        entry = symptoms.record_symptoms(
            context.engine,
            patient_id=patient.patient_id,
            now=context.now(),
            actor=user.actor,
            **submitted.model.to_entry(),
        )
    except InputError as error:
        return diary_page(context, request, patient, status=400, error=worded(error), form=submitted.values)
    return RedirectResponse(
        f"/patients/{patient.patient_id}/diary?done=symptoms&entry={entry}", status_code=303
    )


def worded(error: InputError) -> str:
    """The message with the question it is about, as the page asks it."""
    label = FIELD_LABELS.get(error.field or "")
    return f"{label}: {error}" if label else str(error)


async def _note_form(request: Request) -> Submitted[NoteInput]:
    return await read_form(request, NoteInput)


@router.post("/patients/{patient_id}/diary/notes")
def add_note(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[NoteInput], Depends(_note_form)],
) -> Response:
    patient.require("note")
    text = str(submitted.values.get("text", ""))
    try:
        notes.add_note(
            context.engine,
            patient_id=patient.patient_id,
            text=submitted.model.text if submitted.model is not None else text,
            now=context.now(),
            actor=user.actor,
            author=f"{user.display_name} ({patient.relation if patient.relation != 'owner' else 'patient'})",
        )
    except InputError as error:
        return diary_page(
            context, request, patient, status=400, error=worded(error), form={"note_text": text}
        )
    return RedirectResponse(f"/patients/{patient.patient_id}/diary?done=note", status_code=303)
