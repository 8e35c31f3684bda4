"""Check a pharmacy or an article (issue 16): a saved page, uploaded, or its text, pasted, checked
for the signs of a rogue online pharmacy or against the label. Every signed-in user may use it
(patients, caregivers, clinicians); nothing is stored and nothing is looked up on the network.

The check routes take an upload up to :data:`UPLOAD_BODY_BYTES` (a page at the reader's 5 MB
limit and the form around it): they declare that limit to ``RequestLimits`` (web/app.py) with
:func:`upload_limits`, in place of the app's 1 MiB. A larger body is never kept: the route gets
it empty and answers with the form and "larger than the 5 MB limit" (413).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from dosewise.domain.article_check import Verdict
from dosewise.domain.pharmacy_check import PharmacyCheck
from dosewise.errors import InputError
from dosewise.exporters.article_json import CLAIMS_LISTED, article_to_dict
from dosewise.exporters.pharmacy_json import LOOKS_NOTHING_UP, pharmacy_check_to_dict
from dosewise.exporters.safety_json import NOT_A_REPLACEMENT
from dosewise.services import articles, pharmacy_checks
from dosewise.services.auth import CurrentUser
from dosewise.services.page_text import MAX_PAGE_BYTES, MAX_PASTED_CHARS, too_large
from dosewise.web.context import (
    AppContext,
    Ctx,
    MaybeUser,
    SignInRequired,
    User,
    body_too_large,
    render,
    required_user,
)
from dosewise.web.routes import api

Kind = Literal["pharmacy", "article"]
KINDS: tuple[Kind, ...] = ("pharmacy", "article")
# a page at the reader's limit, and the form around it (boundaries, the CSRF token, part headers)
UPLOAD_BODY_BYTES = MAX_PAGE_BYTES + 64 * 1024
NAME_CHARS = 80  # an uploaded file's name, as shown in a message
VERDICTS: dict[Verdict, str] = {
    "agrees": "Agrees",
    "contradicts": "Contradicts the label",
    "not_covered": "Not covered",
}

router = APIRouter(tags=["pages"], include_in_schema=False)
api_router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        **api.router.responses,
        413: {"description": "The file or pasted text is larger than the 5 MB limit", "model": api.Problem},
    },
)


def upload_limits() -> dict[str, int]:
    """The body limit of each path that takes an upload (RequestLimits applies them)."""
    return {path: UPLOAD_BODY_BYTES for kind in KINDS for path in (f"/checks/{kind}", f"/api/checks/{kind}")}


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    """What a check's form or API request brought: pasted text or a file's bytes (with its name),
    or the error to show; ``text`` is kept to show the form again as it was."""

    text: str = ""
    data: bytes | None = None
    name: str = "the file"
    error: InputError | None = None
    too_large: bool = False


def _file_name(upload: UploadFile) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:NAME_CHARS] if name else "the file"


def _too_large() -> InputError:
    """A form's body dropped as over the limit: a file, or text pasted beyond its limit (a paste
    within MAX_PASTED_CHARS always fits the body)."""
    return too_large("the file or pasted text", MAX_PAGE_BYTES, advice="save or paste only the page itself")


def _text_too_large() -> InputError:
    """A JSON body dropped as over the limit: it holds pasted text only."""
    return InputError(
        f"the pasted text is larger than the {MAX_PAGE_BYTES // (1024 * 1024)} MB limit for a page"
        f" (at most {MAX_PASTED_CHARS:,} characters): paste the page only",
        field="text",
    )


async def _read_fields(text: object, file: object) -> Submitted:
    """The pasted text or the uploaded file (not both, not neither), the file's size checked
    before it is read and never more than the limit read."""
    pasted = text if isinstance(text, str) else ""
    upload = file if isinstance(file, UploadFile) and (file.filename or file.size) else None
    if upload is None and not pasted.strip():
        problem = "paste the text of the page or choose its saved file (.html, .htm or .txt)"
        return Submitted(text=pasted, error=InputError(problem, field="text" if pasted else "file"))
    if upload is not None and pasted.strip():
        problem = "paste the text or choose a file, not both: clear the text to check the file"
        return Submitted(text=pasted, error=InputError(problem, field="text"))
    if upload is None:
        return Submitted(text=pasted)
    name = _file_name(upload)
    if upload.size is not None and upload.size > MAX_PAGE_BYTES:
        return Submitted(name=name, error=too_large(name, MAX_PAGE_BYTES, upload.size), too_large=True)
    data = await upload.read(MAX_PAGE_BYTES + 1)
    return Submitted(name=name, data=data)


async def _form_submitted(request: Request) -> tuple[Submitted, bool]:
    """The form, parsed with this route's limits (Starlette's default part size is 1 MB), and
    whether it could be parsed (if not, there is no CSRF token to check either)."""
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=UPLOAD_BODY_BYTES)
    except HTTPException as error:  # a body Starlette cannot read as a form
        return Submitted(error=InputError(f"the form could not be read: {error.detail}", field="file")), False
    try:
        return await _read_fields(form.get("text"), form.get("file")), True
    finally:
        await form.close()  # the uploaded file's temporary file (its fields stay readable)


async def _page_form(request: Request, user: MaybeUser) -> tuple[CurrentUser, Submitted]:
    """The signed-in user and their form. A body RequestLimits dropped (over the limit) or one
    that is not a form has no CSRF token to check: the answer is then the form and the message,
    and nothing is done."""
    if user is None:
        raise SignInRequired("sign in first")
    if body_too_large(request) is not None:
        return user, Submitted(error=_too_large(), too_large=True)
    submitted, parsed = await _form_submitted(request)
    if parsed:  # the CSRF check reads the form parsed above
        await required_user(request, user)
    return user, submitted


PageForm = Annotated[tuple[CurrentUser, Submitted], Depends(_page_form)]


def _page(
    context: AppContext,
    request: Request,
    *,
    status: int = 200,
    kind: Kind | None = None,
    text: str = "",
    result: dict[str, Any] | None = None,
    error: InputError | None = None,
) -> Response:
    return render(
        context,
        request,
        "checks.html.j2",
        status=status,
        kind=kind,
        text=text,
        result=result,
        error=None if error is None else str(error),
        error_field=None if error is None or kind is None else f"{kind}-{error.field or 'file'}",
        error_kind=kind if error is not None else None,
        max_mb=MAX_PAGE_BYTES // (1024 * 1024),
        verdicts=VERDICTS,
        claims_shown=CLAIMS_LISTED,
    )


def _run(kind: Kind, submitted: Submitted) -> PharmacyCheck | articles.ArticleReport:
    """The check of the uploaded bytes or the pasted text (InputError: what to fix)."""
    if kind == "pharmacy":
        if submitted.data is not None:
            return pharmacy_checks.check_pharmacy_bytes(submitted.data, name=submitted.name)
        return pharmacy_checks.check_pharmacy_text(submitted.text)
    if submitted.data is not None:
        return articles.check_article_bytes(submitted.data, name=submitted.name)
    return articles.check_article_text(submitted.text)


def _as_json(result: PharmacyCheck | articles.ArticleReport) -> dict[str, Any]:
    """The CLI's --json, with at most CLAIMS_LISTED claims of each verdict (the counts whole)."""
    if isinstance(result, articles.ArticleReport):
        return article_to_dict(result, claims_listed=CLAIMS_LISTED)
    return pharmacy_check_to_dict(result)


def _shown(result: PharmacyCheck | articles.ArticleReport) -> dict[str, Any]:
    """The CLI's JSON and what the page shows besides: the signs found, the counts."""
    data = _as_json(result)
    if isinstance(result, articles.ArticleReport):
        return {**data, "total": len(result.check.claims)}
    signs = {flag.code: flag.sign for flag in result.missing}
    return {
        **data,
        "summary": result.summary,
        "warnings": [f for f in data["flags"] if f["code"] not in signs],
        "missing": [{**f, "text": signs[f["code"]]} for f in data["flags"] if f["code"] in signs],
        "found": [
            {"text": f.text, "evidence": f.evidence, "sources": list(f.sources)}
            for f in result.found_positive
        ],
        "notice": f"{LOOKS_NOTHING_UP} {NOT_A_REPLACEMENT}",
    }


@router.get("/checks")
def checks_page(request: Request, context: Ctx, user: User) -> Response:
    return _page(context, request)


def _post(kind: Kind, request: Request, context: AppContext, submitted: Submitted) -> Response:
    error = submitted.error
    if error is None:
        try:
            result = _shown(_run(kind, submitted))
        except InputError as refused:
            error = refused
        else:
            return _page(context, request, kind=kind, text=submitted.text, result=result)
    status = 413 if submitted.too_large else 400
    return _page(context, request, status=status, kind=kind, text=submitted.text, error=error)


@router.get("/checks/pharmacy")
@router.get("/checks/article")
def checks_page_again(user: User) -> Response:
    """The address of a result, opened again (nothing is kept): the page."""
    return RedirectResponse("/checks", status_code=303)


@router.post("/checks/pharmacy")
def check_pharmacy(request: Request, context: Ctx, form: PageForm) -> Response:
    return _post("pharmacy", request, context, form[1])


@router.post("/checks/article")
def check_article(request: Request, context: Ctx, form: PageForm) -> Response:
    return _post("article", request, context, form[1])


# --- the API: the same JSON as the CLI's --json ------------------------------------------------


class PastedPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_PASTED_CHARS, description="the page's text, pasted")


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PastedPage.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the saved page"},
                        "text": {"type": "string", "description": "or its text, pasted"},
                    },
                }
            },
        },
    }
}


async def _api_submitted(request: Request) -> Submitted:
    """JSON ``{"text": ...}``, or a multipart form with ``file`` (or ``text``); a JSON body that
    does not fit is a 422, as FastAPI answers for the other routes' bodies."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body_too_large(request) is not None:
        error = _too_large() if kind == "multipart/form-data" else _text_too_large()
        return Submitted(error=error, too_large=True)
    if kind == "multipart/form-data":
        return (await _form_submitted(request))[0]
    try:
        body = PastedPage.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(
            [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors(include_url=False)]
        ) from None
    return Submitted(text=body.text)


ApiSubmitted = Annotated[Submitted, Depends(_api_submitted)]


def _api_answer(kind: Kind, submitted: Submitted) -> Response:
    """The CLI's JSON; 413 for a page over the limit; an InputError (400) for other bad input."""
    if submitted.too_large and submitted.error is not None:
        field = submitted.error.field or "file"
        return JSONResponse({"detail": f"{field}: {submitted.error}", "field": f"/{field}"}, status_code=413)
    if submitted.error is not None:
        raise submitted.error
    return JSONResponse(_as_json(_run(kind, submitted)))


@api_router.post("/checks/pharmacy", openapi_extra=UPLOAD_BODY)
def api_check_pharmacy(user: User, submitted: ApiSubmitted) -> Response:
    """Is this online pharmacy safe? The same JSON as ``dosewise check-pharmacy --json``: the
    warning signs and missing signs with their evidence and sources; never "safe"."""
    return _api_answer("pharmacy", submitted)


@api_router.post("/checks/article", openapi_extra=UPLOAD_BODY)
def api_check_article(user: User, submitted: ApiSubmitted) -> Response:
    """Does this article agree with the label? The same JSON as ``dosewise check-article --json``:
    each claim agrees, contradicts or is not covered, with the reference and its sources."""
    return _api_answer("article", submitted)
