"""The account: change the password, export everything, delete the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from dosewise.errors import InputError
from dosewise.services import access, auth
from dosewise.services.auth import TooManyAttempts
from dosewise.web.context import Ctx, User, clear_session_cookie, remember_device, render, set_session_cookie
from dosewise.web.routes.auth import with_retry_after
from dosewise.web.routes.report import everything_zip

router = APIRouter(tags=["pages"], include_in_schema=False)


def _page(
    request: Request, context: Ctx, user: User, *, status: int = 200, error: str | None = None
) -> Response:
    own = access.own_patient(context.engine, user=user)
    notice = {"password": "Password changed. Other devices were signed out."}.get(
        request.query_params.get("done", "")
    )
    return render(context, request, "account.html.j2", status=status, own=own, notice=notice, error=error)


@router.get("/account")
def account(request: Request, context: Ctx, user: User) -> Response:
    return _page(request, context, user)


@router.post("/account/password")
def change_password(
    request: Request,
    context: Ctx,
    user: User,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
) -> Response:
    try:
        session = auth.change_password(
            context.engine,
            context.hasher,
            user=user,
            current=current,
            new=new,
            now=context.now(),
            policy=context.settings.session_policy,
            limits=context.settings.sign_in_limits,
        )
    except (InputError, TooManyAttempts) as error:
        return _refused(request, context, user, error)
    response = RedirectResponse("/account?done=password", status_code=303)
    set_session_cookie(context, response, session.token)
    return response


@router.get("/account/export.zip")
def export_everything(context: Ctx, user: User) -> Response:
    """The patient's whole diary: CSV per table and the FHIR Bundle, in one zip."""
    own = access.own_patient(context.engine, user=user)
    if own is None:
        raise InputError("only a patient's account has a diary to export")
    patient = access.patient_access(context.engine, user=user, patient_id=own)
    patient.require("export")
    return StreamingResponse(
        everything_zip(context, patient, fhir_too=True),
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="dosewise-everything.zip"'},
    )


@router.post("/account/delete")
def delete_account(
    request: Request,
    context: Ctx,
    user: User,
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if confirm.strip().lower() != "delete":
        return _page(request, context, user, status=400, error="type DELETE to confirm that everything goes")
    try:
        auth.delete_account(
            context.engine,
            context.hasher,
            user=user,
            password=password,
            now=context.now(),
            limits=context.settings.sign_in_limits,
        )
    except (InputError, TooManyAttempts) as error:
        return _refused(request, context, user, error)
    response = RedirectResponse("/?deleted=1", status_code=303)
    clear_session_cookie(response)
    remember_device(context, request, response, f"{user.user_id}:", forget=True)
    return response


def _refused(request: Request, context: Ctx, user: User, error: InputError | TooManyAttempts) -> Response:
    """The account page again with the message: 400 to fix the input, 429 to wait."""
    status = 429 if isinstance(error, TooManyAttempts) else 400
    return with_retry_after(_page(request, context, user, status=status, error=str(error)), error)
