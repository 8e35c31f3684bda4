"""What every route needs: the app context, the signed-in user, the patient, CSRF, rendering.

Routes get these as ``Annotated`` dependencies (``Ctx``, ``User``, ``Patient``...). A route that
takes a patient id goes through :func:`patient_for`, which answers 404 for a patient the user
may not see, checked against the database on every request.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, Signer
from sqlalchemy import Engine

from dosewise.errors import DosewiseError, NotFound
from dosewise.services import access, auth
from dosewise.services.access import PatientAccess
from dosewise.services.auth import CurrentUser
from dosewise.web.settings import Settings

SESSION_COOKIE = "dosewise_session"
ANON_CSRF_COOKIE = "dosewise_csrf"  # for the forms before sign-in (sign in, sign up)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# A browser that signed in to an account: a signed list of "user id:nonce" entries (the newest
# first, a few accounts at most), so it is limited by its own failed sign-ins only (ADR 0017).
DEVICE_COOKIE = "dosewise_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_DEVICE_ENTRIES = 5
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The scope key RequestLimits sets when it dropped a body over an upload route's own limit: the
# body's size (as far as it was counted). The route answers with its form and the message.
BODY_TOO_LARGE = "dosewise.body_too_large"


# A row id in a path: larger numbers cannot be ids (and would overflow the database's integers).
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]  # MAX_ID


class SignInRequired(DosewiseError):
    """Anonymous request to a page or API that needs an account."""


class CsrfFailed(DosewiseError):
    pass


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    signer: Signer
    hasher: Any  # argon2.PasswordHasher
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(tz=UTC))

    def now(self) -> datetime:
        """The time now (aware); tests and walk-throughs may give the app another clock."""
        return self.clock()


def build_context(
    settings: Settings, engine: Engine, templates_dir: Path, clock: Callable[[], datetime] | None = None
) -> AppContext:
    from argon2 import PasswordHasher

    templates = Jinja2Templates(directory=str(templates_dir))
    # select_autoescape() only knows .html: our .html.j2 templates must be escaped too
    templates.env.autoescape = True
    templates.env.globals["csrf_field"] = CSRF_FIELD
    hasher = PasswordHasher(
        time_cost=settings.argon2.time_cost,
        memory_cost=settings.argon2.memory_kib,
        parallelism=settings.argon2.parallelism,
    )
    signer = Signer(settings.secret_key, salt="dosewise-session")
    context = AppContext(settings=settings, engine=engine, templates=templates, signer=signer, hasher=hasher)
    return context if clock is None else replace(context, clock=clock)


async def get_context(request: Request) -> AppContext:
    """Async: nothing to wait for, so FastAPI runs it without a trip to the thread pool."""
    context: AppContext = request.app.state.context
    return context


Ctx = Annotated[AppContext, Depends(get_context)]


def _session_token(context: AppContext, request: Request) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return context.signer.unsign(cookie).decode()
    except BadSignature:
        return None


MAX_ID = 2_147_483_647


def _path_patient(request: Request) -> int | None:
    """The patient id in the path, if it is one (the route's own check answers otherwise)."""
    raw = request.path_params.get("patient_id")
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None


def optional_user(request: Request, context: Ctx) -> CurrentUser | None:
    """The signed-in user. On a patient's path their access to that patient is read in the
    same statement (and kept for :func:`patient_for`): one query per request for both."""
    cached: CurrentUser | None = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    token = _session_token(context, request)
    if token is None:
        return None
    now, policy = context.now(), context.settings.session_policy
    patient_id = _path_patient(request)
    if patient_id is None:
        user = auth.session_user(context.engine, token=token, now=now, policy=policy)
    else:
        user, found = access.session_access(
            context.engine, token=token, patient_id=patient_id, now=now, policy=policy
        )
        request.state.patient_access = (patient_id, user, found)
    request.state.user = user
    return user


MaybeUser = Annotated[CurrentUser | None, Depends(optional_user)]


async def required_user(request: Request, user: MaybeUser) -> CurrentUser:
    if user is None:
        raise SignInRequired("sign in first")
    if request.method in UNSAFE:
        await _check_csrf(request, user.csrf_token)
    return user


User = Annotated[CurrentUser, Depends(required_user)]


def body_too_large(request: Request) -> int | None:
    """The size of a body RequestLimits dropped as over this upload route's limit, else None."""
    size = request.scope.get(BODY_TOO_LARGE)
    return size if isinstance(size, int) else None


async def _check_csrf(request: Request, expected: str) -> None:
    """Forms carry the token in a hidden field; the JSON API in the X-CSRF-Token header."""
    if request.url.path.startswith("/api/"):
        given = request.headers.get(CSRF_HEADER, "")
    else:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        given = value if isinstance(value, str) else ""
    if not given or not hmac.compare_digest(given, expected):
        raise CsrfFailed(
            "this form has expired or did not come from Dosewise: go back, reload the page and try again"
        )


async def anonymous_csrf(request: Request) -> None:
    """Double-submit check for the sign-in and sign-up forms (no session yet)."""
    if request.method in UNSAFE:
        await _check_csrf(request, request.cookies.get(ANON_CSRF_COOKIE, "") or secrets.token_hex(8))


async def patient_for(request: Request, patient_id: Id, user: User, context: Ctx) -> PatientAccess:
    """The patient in the path, if this user may see them (else 404, same as a missing id).

    Read from the database in this request: with the session (:func:`optional_user`), else
    on its own."""
    read: tuple[int, CurrentUser | None, PatientAccess | None] | None = getattr(
        request.state, "patient_access", None
    )
    if read is not None and read[0] == patient_id and read[1] is user:
        if read[2] is None:
            raise NotFound("no such patient")
        return read[2]
    return await run_in_threadpool(access.patient_access, context.engine, user=user, patient_id=patient_id)


Patient = Annotated[PatientAccess, Depends(patient_for)]


def set_session_cookie(context: AppContext, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        context.signer.sign(token).decode(),
        # the server ends the session (idle limit, absolute lifetime); the cookie lasts the
        # absolute lifetime, the longest any session can
        max_age=int(context.settings.session_policy.absolute_lifetime.total_seconds()),
        httponly=True,
        secure=context.settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _device_signer(context: AppContext) -> Signer:
    return Signer(context.settings.secret_key, salt="dosewise-device")


def known_devices(context: AppContext, request: Request) -> tuple[str, ...]:
    """The entries of this browser's device cookie (none when missing or tampered with)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie or len(cookie) > 1024:
        return ()
    try:
        value = _device_signer(context).unsign(cookie).decode()
    except (BadSignature, UnicodeDecodeError):
        return ()
    return tuple(entry for entry in value.split(",") if entry)[:MAX_DEVICE_ENTRIES]


def remember_device(
    context: AppContext, request: Request, response: Response, device: str, *, forget: bool = False
) -> None:
    """Put ``device`` (an account's "user id:nonce") first in the browser's device cookie, or
    take that account's entry out (``forget``: the account was deleted)."""
    account = device.split(":", 1)[0] + ":"
    others = [entry for entry in known_devices(context, request) if not entry.startswith(account)]
    entries = (others if forget else [device, *others])[:MAX_DEVICE_ENTRIES]
    if not entries:
        response.delete_cookie(DEVICE_COOKIE, path="/")
        return
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer(context).sign(",".join(entries)).decode(),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        secure=context.settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def render(
    context: AppContext,
    request: Request,
    template: str,
    *,
    status: int = 200,
    patient: PatientAccess | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page, with the user, the patient in view and the CSRF token for its forms."""
    user: CurrentUser | None = getattr(request.state, "user", None)
    token = user.csrf_token if user is not None else None
    new_anon_token = None
    if token is None:
        token = request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(32)
        if request.cookies.get(ANON_CSRF_COOKIE) != token:
            new_anon_token = token
    unread = 0
    if user is not None:
        from dosewise.services.notifications import unread_count

        unread = unread_count(context.engine, user_id=user.user_id, now=context.now())
    response = context.templates.TemplateResponse(
        request,
        template,
        {"user": user, "patient": patient, "csrf_token": token, "unread": unread, **values},
        status_code=status,
    )
    if new_anon_token is not None:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            new_anon_token,
            httponly=True,
            secure=context.settings.secure_cookies,
            samesite="strict",
            path="/",
        )
    return response


def render_error(context: AppContext, request: Request, status: int, message: str) -> HTMLResponse:
    if not hasattr(request.state, "user"):  # a path no route matched: still show who is signed in
        optional_user(request, context)
    return render(context, request, "error.html.j2", status=status, status_code=status, message=message)
