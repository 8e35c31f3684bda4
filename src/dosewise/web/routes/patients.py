"""The start page, the list of patients one can see, a clinician's list, and invitation codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError
from dosewise.services import access, benefit, clinic, plans
from dosewise.web.context import Ctx, MaybeUser, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
def home(request: Request, context: Ctx, user: MaybeUser) -> Response:
    if user is None:
        return render(context, request, "welcome.html.j2")
    if user.role == "clinician":
        return RedirectResponse("/clinic", status_code=303)
    if user.role == "admin":
        return RedirectResponse("/admin/clinicians", status_code=303)
    seen = access.patients_of(context.engine, user=user)
    if len(seen) == 1:
        return RedirectResponse(f"/patients/{seen[0].patient_id}/today", status_code=303)
    return RedirectResponse("/patients", status_code=303)


@router.get("/patients")
def patient_list(request: Request, context: Ctx, user: User) -> Response:
    seen = access.patients_of(context.engine, user=user)
    return render(context, request, "patients.html.j2", patients=seen)


@router.get("/clinic")
def clinic_list(
    request: Request, context: Ctx, user: User, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    found = clinic.patient_page(
        context.engine, user=user, now=context.now(), page=page, page_size=clinic.PAGE_SIZE
    )
    unconfirmed = plans.unconfirmed_plans(context.engine, patient_ids=[row.patient_id for row in found.rows])
    # the benefit review of the page's patients (baclofen.md section 10): shown, not ranked
    reviews = benefit.review_benefits(
        context.engine, patient_ids=[row.patient_id for row in found.rows], now=context.now()
    )
    return render(
        context,
        request,
        "clinic.html.j2",
        listed=found,
        rows=found.rows,
        unconfirmed=unconfirmed,
        benefit_flags={patient_id: review.list_flags for patient_id, review in reviews.items()},
        look_back_days=clinic.LOOK_BACK.days,
        rise_points=clinic.RISE_POINTS,
    )


@router.get("/join")
def join_form(request: Request, context: Ctx, user: User) -> Response:
    return render(context, request, "join.html.j2", code="")


@router.post("/join")
def join(request: Request, context: Ctx, user: User, code: Annotated[str, Form()] = "") -> Response:
    try:
        joined = access.accept_invitation(context.engine, user=user, code=code, now=context.now())
    except InputError as error:
        return render(context, request, "join.html.j2", status=400, code=code, error=str(error))
    return RedirectResponse(f"/patients/{joined.patient_id}/today?done=joined", status_code=303)
