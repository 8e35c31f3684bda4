"""The diary: spasms (Penn scale in words), stiffness 0-10, side effects with severity, notes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.domain.scales import (
    PENN_FREQUENCY,
    PENN_SEVERITY,
    SIDE_EFFECT_SEVERITY,
    SPASTICITY_NRS_ANCHORS,
)
from dosewise.errors import InputError
from dosewise.monographs import load_monograph
from dosewise.services import notes, symptoms
from dosewise.services.access import PatientAccess
from dosewise.services.reports import gather_report
from dosewise.web.context import AppContext, Ctx, Patient, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)
RECENT_DAYS = 14
NOTICES = {"symptoms": "Saved in the diary.", "note": "Note saved."}


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
    monograph = load_monograph("baclofen")
    side_effects = [s for s in monograph.symptoms if s.kind in ("common", "alarming", "urgent", "rebound")]
    return render(
        context,
        request,
        "diary.html.j2",
        status=status,
        patient=patient,
        entries=list(reversed(data.symptoms)),
        notes=list(reversed(data.notes)),
        penn_frequency=PENN_FREQUENCY,
        penn_severity=PENN_SEVERITY,
        effect_severity=SIDE_EFFECT_SEVERITY,
        nrs_anchors=SPASTICITY_NRS_ANCHORS,
        side_effects=side_effects,
        recent_days=RECENT_DAYS,
        form=form or {},
        can_record=patient.can("record"),
        can_note=patient.can("note"),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=error,
    )


@router.get("/patients/{patient_id}/diary")
def diary_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return diary_page(context, request, patient)


@router.post("/patients/{patient_id}/diary/symptoms")
def add_symptoms(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    penn_frequency: Annotated[str, Form()] = "",
    penn_severity: Annotated[str, Form()] = "",
    spasticity: Annotated[str, Form()] = "",
    side_effects: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Side effects come as "key:severity" from one select per side effect ("" = not at all)."""
    patient.require("record")
    chosen_texts = [text for text in side_effects or [] if text]
    try:
        frequency = _choice(penn_frequency, "how often spasms came (Penn scale)", range(5))
        severity = (
            _choice(penn_severity, "how bad the spasms were", range(1, 4))
            if frequency and penn_severity
            else None
        )
        nrs = _choice(spasticity, "how stiff you were, 0-10", range(11))
        chosen: dict[str, int] = {}
        for text in chosen_texts:
            key, _, level = text.partition(":")
            chosen[key] = _choice(level, f"how bad {key.replace('_', ' ')} was", range(1, 4))
        symptoms.record_symptoms(
            context.engine,
            patient_id=patient.patient_id,
            now=context.now(),
            penn_frequency=frequency,
            penn_severity=severity,
            spasticity_nrs=nrs,
            side_effects=chosen,
            note=note,
            actor=user.actor,
        )
    except InputError as error:
        form_state = {
            "penn_frequency": penn_frequency,
            "penn_severity": penn_severity,
            "spasticity": spasticity,
            "side_effects": chosen_texts,
            "note": note,
        }
        return diary_page(context, request, patient, status=400, error=str(error), form=form_state)
    return RedirectResponse(f"/patients/{patient.patient_id}/diary?done=symptoms", status_code=303)


def _choice(text: str, what: str, allowed: range) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"choose {what}") from None
    if value not in allowed:
        raise InputError(f"choose {what}")
    return value


@router.post("/patients/{patient_id}/diary/notes")
def add_note(
    request: Request, context: Ctx, user: User, patient: Patient, text: Annotated[str, Form()] = ""
) -> Response:
    patient.require("note")
    try:
        notes.add_note(
            context.engine,
            patient_id=patient.patient_id,
            text=text,
            now=context.now(),
            actor=user.actor,
            author=f"{user.display_name} ({patient.relation if patient.relation != 'owner' else 'patient'})",
        )
    except InputError as error:
        return diary_page(context, request, patient, status=400, error=str(error), form={"note_text": text})
    return RedirectResponse(f"/patients/{patient.patient_id}/diary?done=note", status_code=303)
