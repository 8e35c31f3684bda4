"""The web app's composition root: ``create_app(settings)`` builds everything; nothing at import.

Run it with ``uvicorn --factory dosewise.web.app:app_from_environment`` (``make run`` does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dosewise.errors import Conflict, DosewiseError, InputError, NotFound, SafetyRefusal
from dosewise.services.access import NotAllowed
from dosewise.services.auth import TooManyAttempts
from dosewise.store.database import build_engine, ensure_schema
from dosewise.web.context import AppContext, CsrfFailed, SignInRequired, build_context, render_error
from dosewise.web.settings import Settings

HERE = Path(__file__).parent
# No inline scripts or styles anywhere; charts are images (data: URIs). The standalone report
# sets its own, narrower policy (it has no scripts at all).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every response (a route may set a narrower CSP)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.extra = [(b"strict-transport-security", b"max-age=31536000")] if https else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"cache-control" not in names:  # personal health data: never in shared caches
                    static = scope["path"].startswith("/static/")
                    headers.append((b"cache-control", b"public, max-age=3600" if static else b"no-store"))
                headers.extend(h for h in (*SECURITY_HEADERS, *self.extra) if h[0] not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The app; ``clock`` (aware "now") lets tests and walk-throughs control the time."""
    engine = build_engine(settings.database_url)
    context = build_context(settings, engine, HERE / "templates", clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ensure_schema(engine)
        scheduler = None
        if settings.worker == "inline":  # make run: reminders without a second process
            from dosewise.worker.app import build_worker, start_in_background

            worker = build_worker(engine, secret_key=settings.secret_key, reach=settings.reach, clock=clock)
            scheduler = start_in_background(worker)
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        engine.dispose()

    app = FastAPI(
        title="Dosewise",
        version="0.1.0",
        description="Safe oral baclofen therapy. Decision support: agree every plan with the prescriber.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads scripts from a CDN; the OpenAPI document is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.context = context
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_error_handlers(app)

    for router in routers():
        app.include_router(router)
    from dosewise.web.routes.calendar import feed_router  # no sign-in: the secret URL is the key

    app.include_router(feed_router)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """A trivial endpoint: the load benchmark's ceiling."""
        return {"status": "ok"}

    return app


def routers() -> list[APIRouter]:
    """One router per resource, in the order they are tried."""
    from dosewise.web.routes import (
        access,
        account,
        admin,
        api,
        auth,
        calendar,
        diary,
        install,
        notifications,
        patients,
        plans,
        profile,
        report,
        review_requests,
        safety,
        supply,
        today,
        triage_history,
    )

    return [
        *(
            m.router
            for m in (
                auth,
                account,
                patients,
                today,
                plans,
                diary,
                safety,
                report,
                calendar,
                access,
                profile,
                api,
                install,
                admin,
            )
        ),
        triage_history.router,
        triage_history.api_router,
        notifications.router,
        notifications.api_router,
        supply.router,
        supply.api_router,
        review_requests.router,
        review_requests.api_router,
    ]


def route_table() -> list[APIRoute]:
    """Every page and API route, the public calendar feed included (the authorization tests
    walk this list)."""
    from dosewise.web.routes.calendar import feed_router

    return [
        route
        for router in (*routers(), feed_router)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def app_from_environment() -> FastAPI:
    """The uvicorn factory: settings from DOSEWISE_* environment variables."""
    return create_app(Settings.from_environment())


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


STATUS = {
    InputError: 400,
    SafetyRefusal: 422,
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    TooManyAttempts: 429,
    CsrfFailed: 403,
}


def _problem(error: Exception, message: str) -> dict[str, Any]:
    """The API's answer to a DosewiseError: the detail, and what an interface needs to act."""
    body: dict[str, Any] = {"detail": message}
    if isinstance(error, SafetyRefusal):
        body["overridable"] = error.overridable
    field = getattr(error, "field", None)
    if isinstance(error, DosewiseError) and field is not None:
        body["field"] = f"/{field}"  # a JSON pointer into the request body
        body["detail"] = f"{field}: {message}"
    return body


def _validation_problem(error: RequestValidationError, problems: str) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": problems}
    first: list[object] = list(error.errors()[0]["loc"]) if error.errors() else []
    if len(first) > 1 and first[0] == "body":  # a JSON pointer to the first input to fix
        body["field"] = "/" + "/".join(str(part) for part in first[1:])
    return body


def _add_error_handlers(app: FastAPI) -> None:
    context: AppContext = app.state.context

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form sent after the session ended: back to its page
            from urllib.parse import urlsplit

            referer = urlsplit(request.headers.get("referer", ""))
            same_site = referer.netloc in ("", request.url.netloc)
            target = referer.path if same_site and referer.path.startswith("/") else "/"
        from urllib.parse import quote

        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(DosewiseError)
    async def dosewise_error(request: Request, error: Exception) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
        message = str(error) if not isinstance(error, NotFound) else "Not found."
        if _is_api(request):
            response: Response = JSONResponse(_problem(error, message), status_code=status)
        else:
            response = render_error(context, request, status, message)
        if isinstance(error, TooManyAttempts) and error.retry_after_s > 0:
            response.headers["retry-after"] = str(error.retry_after_s)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_api(request) or error.status_code == 405:
            return JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
        message = "Not found." if error.status_code == 404 else str(error.detail)
        return render_error(context, request, error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:]) or 'request'}: {item['msg']}"
            for item in error.errors()
        )
        if _is_api(request):
            return JSONResponse(_validation_problem(error, problems), status_code=422)
        return render_error(context, request, 400, f"Check what you entered: {problems}")
