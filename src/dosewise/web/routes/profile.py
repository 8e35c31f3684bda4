"""About me (the country for the emergency number; pregnancy, breastfeeding, epilepsy: the
conditions with their own advice; liver disease, read by "Other treatments") and "How to take
it". The patient and their clinician change About me (the ``profile`` capability); a caregiver
sees it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError
from dosewise.exporters.guidance_json import advice_keys
from dosewise.services import patients, plans
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import ProfileInput
from dosewise.services.patients import PatientProfile
from dosewise.web.context import AppContext, Ctx, Patient, User, render
from dosewise.web.forms import Submitted, read_form

router = APIRouter(tags=["pages"], include_in_schema=False)
NOTICES = {"saved": "Saved. The advice and the emergency number follow it."}


def condition_context(context: AppContext, patient: PatientAccess) -> dict[str, Any]:
    """What ``_conditions.html.j2`` needs: the advice for the patient's conditions, its sources."""
    advice = patients.condition_advice(context.engine, patient_id=patient.patient_id)
    if not advice:
        return {"conditions": ()}
    guidance = patients.patient_guidance()
    return {"conditions": advice, "condition_sources": guidance.cited(advice_keys(advice))}


def _country_name(code: str | None) -> str | None:
    return dict(patients.country_choices()).get(code or "")


def _page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    profile: PatientProfile,
    *,
    form: dict[str, Any] | None = None,
    status: int = 200,
    error: InputError | None = None,
) -> Response:
    advice = patients.advice_for_profile(profile)
    guidance = patients.patient_guidance()
    return render(
        context,
        request,
        "profile.html.j2",
        status=status,
        patient=patient,
        profile=profile,
        form=form or profile.as_dict(),
        countries=patients.country_choices(),
        liver_labels=patients.LIVER_LABELS,
        liver_label=dict(patients.LIVER_LABELS).get(profile.liver, profile.liver),
        country_name=_country_name(profile.country),
        emergency=profile.emergency,
        can_edit=patient.can("profile"),
        conditions=advice,
        condition_sources=guidance.cited(advice_keys(advice)),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=None if error is None else str(error),
        error_field=None if error is None else (error.field or "country"),
    )


@router.get("/patients/{patient_id}/profile")
def profile_page(request: Request, context: Ctx, patient: Patient) -> Response:
    profile = patients.patient_profile(context.engine, patient_id=patient.patient_id)
    return _page(context, request, patient, profile)


async def _profile_form(request: Request) -> Submitted[ProfileInput]:
    return await read_form(request, ProfileInput)


@router.post("/patients/{patient_id}/profile")
def save_profile(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[ProfileInput], Depends(_profile_form)],
) -> Response:
    patient.require("profile")
    values = submitted.values
    # the form sends every field: an unticked box is "no", an empty country is "not said"
    form = {
        "country": str(values.get("country") or "").strip().upper() or None,
        "pregnant": bool(values.get("pregnant")),
        "breastfeeding": bool(values.get("breastfeeding")),
        "epilepsy": bool(values.get("epilepsy")),
        "liver": str(values.get("liver") or "not_known"),
    }
    try:
        if submitted.model is None:
            raise submitted.error or InputError("check the form", field="country")
        model = submitted.model
        patients.set_patient_profile(
            context.engine,
            patient_id=patient.patient_id,
            now=context.now(),
            actor=user.actor,
            country=model.country,
            pregnant=bool(model.pregnant),
            breastfeeding=bool(model.breastfeeding),
            epilepsy=bool(model.epilepsy),
            liver=model.liver,  # None (a form without it): unchanged
        )
    except InputError as error:
        stored = patients.patient_profile(context.engine, patient_id=patient.patient_id)
        return _page(context, request, patient, stored, form=form, status=400, error=error)
    return RedirectResponse(f"/patients/{patient.patient_id}/profile?done=saved", status_code=303)


@router.get("/patients/{patient_id}/how-to-take")
def how_to_take_page(request: Request, context: Ctx, patient: Patient) -> Response:
    profile = patients.patient_profile(context.engine, patient_id=patient.patient_id)
    own = plans.patient_products(context.engine, patient_id=patient.patient_id)
    try:
        guide = patients.how_to_take(own, profile)
    except InputError:  # a stored product this Dosewise cannot read: every product's storage
        guide = patients.how_to_take((), profile)
        own = []
    guidance = guide.guidance
    keys = [key for topic in guidance.topics for s in topic.statements for key in s.keys]
    keys += [item.source for item in guide.storage] + advice_keys(guide.advice)
    return render(
        context,
        request,
        "how_to_take.html.j2",
        patient=patient,
        guide=guidance,
        storage=guide.storage,
        own_products=bool(own),
        conditions=guide.advice,
        condition_sources=(),  # the page's own source list below covers them
        sources=guidance.cited(keys),
        emergency=profile.emergency,
    )
