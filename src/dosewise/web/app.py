"""The web app's composition root: ``create_app(settings)`` builds everything; nothing at import.

Run it with ``uvicorn --factory dosewise.web.app:app_from_environment`` (``make run`` does).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dosewise.errors import Conflict, DosewiseError, InputError, NotFound, SafetyRefusal
from dosewise.services.access import NotAllowed
from dosewise.services.auth import TooManyAttempts
from dosewise.store.database import build_engine, ensure_schema
from dosewise.web.context import (
    BODY_TOO_LARGE,
    AppContext,
    CsrfFailed,
    SignInRequired,
    build_context,
    render_error,
)
from dosewise.web.settings import Settings

HERE = Path(__file__).parent
LOG = logging.getLogger("dosewise.web")
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
                # no "server" header: the app sets none, and drops one a layer below added
                headers = [
                    (name, value) for name, value in message.get("headers", []) if name.lower() != b"server"
                ]
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


NUL_MESSAGE = "a NUL character (\\u0000) is not allowed; remove it and send again"
SERVER_ERROR = "something went wrong on our side; it has been logged"


# A body over an upload route's limit is read and dropped up to this size, so that the browser
# sending it reads the answer (a server that closes a connection with unread data resets it);
# past it the connection is closed after the answer.
UPLOAD_DRAIN_BYTES = 64 * 1024 * 1024


def _describe_size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB ({limit} bytes)" if mib == int(mib) else f"{limit} bytes"


class RequestLimits:
    """Reads a request's body before the app does, within ``max_bytes``: past it the answer is
    413 at once (by its Content-Length, or counted as a body without one streams in), so a huge
    body is never held in memory. A NUL character in the path, the query, a form or JSON value
    (PostgreSQL cannot store one) is refused with 400 (pages) or 422 (API) naming the field.
    The app then reads the body from memory.

    ``upload_limits``: the paths that take a file upload (declared by their routes), each with
    its own limit in place of ``max_bytes``. A body over it is not kept: it is read and dropped
    (up to :data:`UPLOAD_DRAIN_BYTES`, so that a browser still sending it gets the answer), and
    the route is called with an empty body and the size in ``scope[BODY_TOO_LARGE]``, to answer
    with its form and the message. Their multipart bodies are not searched for NUL (a binary
    file is the route's to refuse; nothing they read is stored)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        context: AppContext,
        upload_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.context = context
        self.upload_limits = dict(upload_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload_limit = self.upload_limits.get(str(scope.get("path", "")))
        limit = self.max_bytes if upload_limit is None else upload_limit
        too_large = f"the request is too large: at most {_describe_size(limit)} is accepted"
        declared = headers.get("content-length", "")
        declared_bytes = int(declared) if declared.isascii() and declared.isdigit() else None
        if declared_bytes is not None and declared_bytes > limit:
            if upload_limit is None:
                await self._refuse(scope, send, 413, too_large)
            else:
                await self._too_large_upload(scope, receive, send, declared_bytes, 0)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > limit:
                if upload_limit is None:
                    await self._refuse(scope, send, 413, too_large)
                else:
                    chunks.clear()
                    await self._too_large_upload(scope, receive, send, size, size if more else None)
                return
            chunks.append(chunk)
            if not more:
                break
        body = b"".join(chunks)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        found = _find_nul(scope, headers, b"" if upload_limit is not None and multipart else body)
        if found is not None:
            name, pointer = found
            await self._refuse(
                scope, send, 422 if _is_api_path(scope) else 400, f"{name}: {NUL_MESSAGE}", pointer
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # waits for the client to go away, as the server's would
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large_upload(
        self, scope: Scope, receive: Receive, send: Send, size: int, read: int | None
    ) -> None:
        """A body over an upload route's limit: the rest read and dropped (``read``: bytes read so
        far, None when it all came), then the route answers with an empty body and the size."""
        close = size > UPLOAD_DRAIN_BYTES
        while read is not None and not close:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            read += len(message.get("body", b""))
            close = read > UPLOAD_DRAIN_BYTES
            if not message.get("more_body", False):
                break
        replayed = False

        async def empty() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.disconnect"} if close else await receive()

        async def closing(message: Message) -> None:
            if close and message["type"] == "http.response.start":  # the rest was never read
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app({**scope, BODY_TOO_LARGE: max(size, read or 0)}, empty, closing)

    async def _refuse(
        self, scope: Scope, send: Send, status: int, message: str, pointer: str | None = None
    ) -> None:
        response: Response
        if _is_api_path(scope):
            body: dict[str, Any] = {"detail": message}
            if pointer is not None:
                body["field"] = pointer
            response = JSONResponse(body, status_code=status)
        else:
            text = message if status == 413 else f"Check what you entered: {message}"
            response = await _error_page(self.context, scope, status, text)
        if status == 413:  # the rest of the body is never read: the connection cannot be reused
            response.headers["connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _is_api_path(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


async def _error_page(context: AppContext, scope: Scope, status: int, message: str) -> Response:
    """The error page (with who is signed in); plain text if even that cannot be made."""
    from fastapi.responses import PlainTextResponse

    try:
        return await run_in_threadpool(render_error, context, Request(scope, _no_body), status, message)
    except Exception:
        LOG.exception("the error page could not be made")
        return PlainTextResponse(message, status_code=status)


def _find_nul(scope: Scope, headers: Headers, body: bytes) -> tuple[str, str | None] | None:
    """Where a NUL character is: (the field's name, its JSON pointer in the body or None)."""
    if "\x00" in str(scope.get("path", "")):
        return "the address", None
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return f"{key.replace(chr(0), '')} (in the address)", None
    if b"\x00" in body:
        return "the request", None
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded" and b"%00" in body:
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return key.replace("\x00", ""), None
    if b"\\u0000" in body:
        try:
            pointer = _nul_pointer(json.loads(body), "")
        except (ValueError, RecursionError):  # not JSON (or nested too deep): the route says so
            return None
        if pointer is not None:
            return pointer[1:].replace("\x00", ""), pointer.replace("\x00", "")
    return None


def _nul_pointer(value: Any, at: str) -> str | None:
    """The JSON pointer of the first text with a NUL in it (a key's, or a value's)."""
    if isinstance(value, str):
        return at if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if isinstance(key, str) and "\x00" in key:
            return here
        found = _nul_pointer(item, here)
        if found is not None:
            return found
    return None


class ServerErrors:
    """A failure nobody expected: logged with its traceback, answered with 500 (JSON for the
    API, the error page for pages) and not raised further. Raised, it would make uvicorn close
    the connection after the 500, and the client's next request on it would fail too."""

    def __init__(self, app: ASGIApp, *, context: AppContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            LOG.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # half a response is out: only the server can end it (it closes)
                raise
            response: Response
            if _is_api_path(scope):
                response = JSONResponse({"detail": SERVER_ERROR}, status_code=500)
            else:
                response = await _error_page(self.context, scope, 500, SERVER_ERROR)
            await response(scope, _no_body, send)


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
    # outermost last: the real client address, then headers on every answer (errors too), then
    # the 500 for a failure, then the body limit and NUL check before anything reads the body
    from dosewise.web.routes.checks import upload_limits

    app.add_middleware(
        RequestLimits, max_bytes=settings.max_body_bytes, context=context, upload_limits=upload_limits()
    )
    app.add_middleware(ServerErrors, context=context)
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    # X-Forwarded-For is believed from the configured proxies only (uvicorn runs with
    # --no-proxy-headers, else it believes it from loopback before the app sees the request)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
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
        alternatives,
        api,
        auth,
        calendar,
        checks,
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
                alternatives,
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
        checks.router,
        checks.api_router,
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
