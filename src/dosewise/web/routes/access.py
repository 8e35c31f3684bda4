"""Who can see a patient's diary: invitations by one-time code, and revoking access."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError
from dosewise.services import access
from dosewise.services.access import PatientAccess
from dosewise.web.context import AppContext, Ctx, Id, Patient, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def access_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    new_code: tuple[str, str] | None = None,
    error: str | None = None,
) -> Response:
    patient.require("manage")
    grants, pending = access.list_access(context.engine, patient_id=patient.patient_id, now=context.now())
    notice = {"revoked": "Access ended. They can no longer see the diary."}.get(
        request.query_params.get("done", "")
    )
    return render(
        context,
        request,
        "access.html.j2",
        status=status,
        patient=patient,
        grants=grants,
        pending=pending,
        new_code=new_code,
        notice=notice,
        error=error,
        lifetime_days=context.settings.invitation_lifetime.days,
        zone=ZoneInfo(patient.time_zone),
        utc=UTC,
    )


@router.get("/patients/{patient_id}/access")
def access_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return access_page(context, request, patient)


@router.post("/patients/{patient_id}/invitations")
def invite(
    request: Request, context: Ctx, user: User, patient: Patient, role: Annotated[str, Form()] = ""
) -> Response:
    patient.require("manage")
    try:
        code, _ = access.create_invitation(
            context.engine,
            patient_id=patient.patient_id,
            role=role,
            now=context.now(),
            lifetime=context.settings.invitation_lifetime,
            actor=user,
        )
    except InputError as error:
        return access_page(context, request, patient, status=400, error=str(error))
    return access_page(context, request, patient, new_code=(code, role))


@router.post("/patients/{patient_id}/access/{grant_id}/revoke")
def revoke(request: Request, context: Ctx, user: User, patient: Patient, grant_id: Id) -> Response:
    patient.require("manage")
    access.revoke_access(
        context.engine, patient_id=patient.patient_id, grant_id=grant_id, now=context.now(), actor=user
    )
    return RedirectResponse(f"/patients/{patient.patient_id}/access?done=revoked", status_code=303)


@router.post("/patients/{patient_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, context: Ctx, user: User, patient: Patient, invitation_id: Id
) -> Response:
    patient.require("manage")
    access.revoke_invitation(
        context.engine,
        patient_id=patient.patient_id,
        invitation_id=invitation_id,
        now=context.now(),
        actor=user,
    )
    return RedirectResponse(f"/patients/{patient.patient_id}/access", status_code=303)
