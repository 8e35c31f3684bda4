"""Ask the clinician: the patient's review requests (pages and ``/api/patients/{id}/review-requests``).

The patient and caregivers ask (and withdraw); the patient's clinicians answer with a message
or change the plan from the request (the plan page, ``?request=ID``); everyone let in reads.
Every rule is in :mod:`dosewise.services.review_requests`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from dosewise.errors import InputError
from dosewise.services import review_requests
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import ReviewAnswerInput, ReviewRequestInput
from dosewise.services.review_requests import MAX_MESSAGE, REASON_CHOICES, ReviewRequest
from dosewise.web.context import AppContext, Ctx, Id, Patient, User, render
from dosewise.web.forms import Submitted, read_form
from dosewise.web.routes import api
from dosewise.web.routes.report import REPORT_CSP

router = APIRouter(tags=["pages"], include_in_schema=False)
# the API's documented answers (400 with the field, 403, 404, 409...), as web.routes.api has them
api_router = APIRouter(prefix="/api", tags=["api"], responses=api.router.responses)
NOTICES = {
    "asked": "Sent to the clinicians, with the report as it is now. You will be told when it is answered.",
    "answered": "Answer sent. The patient and caregivers are told.",
    "withdrawn": "The request is withdrawn. The clinicians are told.",
    "plan": "The plan is changed and the request is answered: the patient and caregivers are told.",
}
FIELD_LABELS = {"reason": "Why", "message": "Your message"}


def _worded(error: InputError) -> str:
    label = FIELD_LABELS.get(error.field or "")
    return f"{label}: {error}" if label else str(error)


def _list_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    error: InputError | None = None,
) -> Response:
    found = review_requests.list_reviews(context.engine, patient_id=patient.patient_id)
    return render(
        context,
        request,
        "review_requests.html.j2",
        status=status,
        patient=patient,
        requests=found,
        now=context.now(),
        reasons=REASON_CHOICES,
        max_message=MAX_MESSAGE,
        can_ask=patient.relation in ("owner", "caregiver"),
        form=form or {},
        error=None if error is None else _worded(error),
        error_field=None if error is None else error.field,
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/patients/{patient_id}/review-requests")
def requests_page(request: Request, context: Ctx, patient: Patient) -> Response:
    return _list_page(context, request, patient)


async def _ask_form(request: Request) -> Submitted[ReviewRequestInput]:
    return await read_form(request, ReviewRequestInput)


@router.post("/patients/{patient_id}/review-requests")
def ask(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[ReviewRequestInput], Depends(_ask_form)],
) -> Response:
    """Send a review request (the form again with the message on bad input: nothing kept)."""
    review_requests.require_family(patient)
    model = submitted.model
    try:
        if model is None:
            raise submitted.error or InputError("check the form")
        request_id = review_requests.ask_review(
            context.engine,
            caller=patient,
            reason=model.reason,
            message=model.message,
            now=context.now(),
            actor=user.actor,
        )
    except InputError as error:
        return _list_page(context, request, patient, status=400, form=submitted.values, error=error)
    return RedirectResponse(_url(patient, request_id) + "?done=asked", status_code=303)


def _url(patient: PatientAccess, request_id: int) -> str:
    return review_requests.request_url(patient.patient_id, request_id)


def _request_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    request_id: int,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    error: InputError | None = None,
) -> Response:
    found = review_requests.review_request(
        context.engine, patient_id=patient.patient_id, request_id=request_id
    )
    return render(
        context,
        request,
        "review_request.html.j2",
        status=status,
        patient=patient,
        item=found,
        now=context.now(),
        max_message=MAX_MESSAGE,
        can_answer=patient.relation == "clinician" and found.is_open,
        can_withdraw=patient.relation in ("owner", "caregiver") and found.is_open,
        form=form or {},
        error=None if error is None else str(error),
        error_field=None if error is None else "answer",
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/patients/{patient_id}/review-requests/{request_id}")
def request_page(request_id: Id, request: Request, context: Ctx, patient: Patient) -> Response:
    return _request_page(context, request, patient, request_id)


@router.get("/patients/{patient_id}/review-requests/{request_id}/report")
def request_report(request_id: Id, context: Ctx, patient: Patient) -> Response:
    """The report as it was when the request was sent (a standalone page, like the report's)."""
    html = review_requests.snapshot_html(context.engine, patient_id=patient.patient_id, request_id=request_id)
    return Response(html, media_type="text/html", headers={"content-security-policy": REPORT_CSP})


async def _answer_form(request: Request) -> Submitted[ReviewAnswerInput]:
    return await read_form(request, ReviewAnswerInput)


@router.post("/patients/{patient_id}/review-requests/{request_id}/answers")
def answer(
    request_id: Id,
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[ReviewAnswerInput], Depends(_answer_form)],
) -> Response:
    """A clinician answers with a short message (the page again with the message on bad input)."""
    review_requests.review_request(context.engine, patient_id=patient.patient_id, request_id=request_id)
    review_requests.require_clinician(patient)
    try:
        if submitted.model is None:
            raise submitted.error or InputError("write the answer")
        review_requests.answer_review(
            context.engine,
            caller=patient,
            request_id=request_id,
            message=submitted.model.message,
            now=context.now(),
            actor=user.actor,
        )
    except InputError as error:
        return _request_page(
            context, request, patient, request_id, status=400, form=submitted.values, error=error
        )
    return RedirectResponse(_url(patient, request_id) + "?done=answered", status_code=303)


@router.post("/patients/{patient_id}/review-requests/{request_id}/withdraw")
def withdraw(request_id: Id, context: Ctx, user: User, patient: Patient) -> Response:
    review_requests.withdraw_review(
        context.engine, caller=patient, request_id=request_id, now=context.now(), actor=user.actor
    )
    return RedirectResponse(_url(patient, request_id) + "?done=withdrawn", status_code=303)


# --- the JSON API -------------------------------------------------------------------------------


class ReviewAnswerOut(BaseModel):
    id: int
    answered_at: datetime = Field(description="in the patient's zone")
    answered_by: str = Field(description="the actor, user:ID")
    answered_by_name: str
    kind: Literal["message", "plan"] = Field(description="a message, or a plan change (plan_id)")
    message: str = Field(description="the answer, or the reason given with the plan change")
    plan_id: int | None


class ReviewRequestOut(BaseModel):
    id: int
    asked_at: datetime = Field(description="in the patient's zone")
    asked_by: str = Field(description="the actor, user:ID")
    asked_by_name: str
    reason: Literal["side_effects", "no_benefit", "dose_question", "other"]
    message: str
    state: Literal["open", "answered", "withdrawn"]
    closed_at: datetime | None = Field(description="answered or withdrawn then (the patient's zone)")
    report_first_day: date = Field(description="the report kept with the request covers these days")
    report_last_day: date
    report_url: str | None = Field(description="the report as it was then (HTML); null if none was kept")
    url: str = Field(description="the request's page")
    answer: ReviewAnswerOut | None


def _out(item: ReviewRequest) -> ReviewRequestOut:
    url = review_requests.request_url(item.patient_id, item.request_id)
    answer = item.answer
    return ReviewRequestOut(
        id=item.request_id,
        asked_at=item.asked_at,
        asked_by=item.asked_by,
        asked_by_name=item.asked_by_name,
        reason=item.reason,
        message=item.message,
        state=item.state,
        closed_at=item.closed_at,
        report_first_day=item.report_first_day,
        report_last_day=item.report_last_day,
        report_url=f"{url}/report" if item.has_report else None,
        url=url,
        answer=None
        if answer is None
        else ReviewAnswerOut(
            id=answer.answer_id,
            answered_at=answer.at,
            answered_by=answer.by,
            answered_by_name=answer.by_name,
            kind=answer.kind,
            message=answer.message,
            plan_id=answer.plan_id,
        ),
    )


def _one(context: AppContext, patient: PatientAccess, request_id: int) -> ReviewRequestOut:
    return _out(
        review_requests.review_request(context.engine, patient_id=patient.patient_id, request_id=request_id)
    )


@api_router.post("/patients/{patient_id}/review-requests", status_code=201)
def ask_api(body: ReviewRequestInput, context: Ctx, user: User, patient: Patient) -> ReviewRequestOut:
    """Ask the patient's clinicians for a review (the patient or a caregiver), with the report
    of the last four weeks as it is now; the clinicians are told."""
    request_id = review_requests.ask_review(
        context.engine,
        caller=patient,
        reason=body.reason,
        message=body.message,
        now=context.now(),
        actor=user.actor,
    )
    return _one(context, patient, request_id)


@api_router.get("/patients/{patient_id}/review-requests")
def list_api(context: Ctx, patient: Patient) -> list[ReviewRequestOut]:
    """The patient's review requests, open ones first, then newest first."""
    return [
        _out(item) for item in review_requests.list_reviews(context.engine, patient_id=patient.patient_id)
    ]


@api_router.get("/patients/{patient_id}/review-requests/{request_id}")
def one_api(request_id: Id, context: Ctx, patient: Patient) -> ReviewRequestOut:
    return _one(context, patient, request_id)


@api_router.post("/patients/{patient_id}/review-requests/{request_id}/answers", status_code=201)
def answer_api(
    request_id: Id, body: ReviewAnswerInput, context: Ctx, user: User, patient: Patient
) -> ReviewRequestOut:
    """A clinician answers an open request with a short message (409 when it is closed); to
    answer with a plan change, save the plan with ``review_request`` on the plan page."""
    review_requests.answer_review(
        context.engine,
        caller=patient,
        request_id=request_id,
        message=body.message,
        now=context.now(),
        actor=user.actor,
    )
    return _one(context, patient, request_id)


@api_router.post("/patients/{patient_id}/review-requests/{request_id}/withdraw")
def withdraw_api(request_id: Id, context: Ctx, user: User, patient: Patient) -> ReviewRequestOut:
    review_requests.withdraw_review(
        context.engine, caller=patient, request_id=request_id, now=context.now(), actor=user.actor
    )
    return _one(context, patient, request_id)
