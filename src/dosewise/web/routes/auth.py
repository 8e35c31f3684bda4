"""Sign up, sign in, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import Conflict, InputError
from dosewise.services import auth
from dosewise.services.auth import NewSession, TooManyAttempts
from dosewise.services.clock import zone_named
from dosewise.web.context import (
    SESSION_COOKIE,
    AppContext,
    Ctx,
    MaybeUser,
    User,
    anonymous_csrf,
    clear_session_cookie,
    known_devices,
    remember_device,
    render,
    set_session_cookie,
)

router = APIRouter(tags=["pages"], include_in_schema=False)
Text = Annotated[str, Form()]
COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme): no open redirects."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/sign-up")
def sign_up_form(request: Request, context: Ctx, user: MaybeUser) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return render(context, request, "sign_up.html.j2", zones=COMMON_ZONES, form={})


@router.post("/sign-up", dependencies=[Depends(anonymous_csrf)])
def sign_up(
    request: Request,
    context: Ctx,
    email: Text = "",
    password: Text = "",
    display_name: Text = "",
    role: Text = "",
    time_zone: Text = "UTC",
) -> Response:
    form = {"email": email, "display_name": display_name, "role": role, "time_zone": time_zone}
    try:
        zone_named(time_zone)
        auth.sign_up(
            context.engine,
            context.hasher,
            email=email,
            password=password,
            display_name=display_name,
            role=role,
            time_zone=time_zone.strip(),
            now=context.now(),
        )
        session = start_session(context, request, email, password)
    except TooManyAttempts:  # the account exists; this address must wait to sign in
        return RedirectResponse("/sign-in", status_code=303)
    except (InputError, Conflict) as error:
        return render(
            context, request, "sign_up.html.j2", status=400, zones=COMMON_ZONES, form=form, error=str(error)
        )
    response = RedirectResponse("/", status_code=303)
    signed_in(context, request, response, session)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, context: Ctx, user: MaybeUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(context, request, "sign_in.html.j2", next=safe_next(next), email="")


@router.post("/sign-in", dependencies=[Depends(anonymous_csrf)])
def sign_in(
    request: Request,
    context: Ctx,
    email: Text = "",
    password: Text = "",
    next: Text = "/",
) -> Response:
    try:
        session = start_session(context, request, email, password)
    except (InputError, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 400
        page = render(
            context,
            request,
            "sign_in.html.j2",
            status=status,
            next=safe_next(next),
            email=email,
            error=str(error),
        )
        return with_retry_after(page, error)
    response = RedirectResponse(safe_next(next), status_code=303)
    signed_in(context, request, response, session)
    return response


@router.post("/sign-out")
def sign_out(request: Request, context: Ctx, user: User) -> Response:
    cookie_token = request.cookies.get(SESSION_COOKIE, "")
    token = context.signer.unsign(cookie_token).decode() if cookie_token else ""
    auth.sign_out(context.engine, token=token)
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session_cookie(response)
    return response


def start_session(context: AppContext, request: Request, email: str, password: str) -> NewSession:
    """Sign in (limited per known browser, else per account, account and address, and
    address; docs/adr/0017): the new session."""
    return auth.sign_in(
        context.engine,
        context.hasher,
        email=email,
        password=password,
        client=_client(request),
        now=context.now(),
        limits=context.settings.sign_in_limits,
        policy=context.settings.session_policy,
        known_devices=known_devices(context, request),
    )


def signed_in(context: AppContext, request: Request, response: Response, session: NewSession) -> None:
    """The cookies of a new sign-in: the session, and this browser remembered for the account."""
    set_session_cookie(context, response, session.token)
    if session.device:
        remember_device(context, request, response, session.device)


def with_retry_after(response: Response, error: Exception) -> Response:
    """A refused try says in a header, too, when the next one may come (RFC 9110 Retry-After)."""
    if isinstance(error, TooManyAttempts) and error.retry_after_s > 0:
        response.headers["retry-after"] = str(error.retry_after_s)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"
