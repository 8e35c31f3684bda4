"""Dose reminders in the patient's own calendar app: the page that explains the download and
the subscription link, and the feed that calendar apps poll.

The feed (``GET /calendar/{token}.ics``) is the one page that needs no sign-in: the secret
token in its URL is the key, as with any calendar subscription. It is kept on a router of its
own (:data:`feed_router`), outside the signed-in pages that the authorization tests walk.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.exporters.ical import REFRESH_INTERVAL
from dosewise.services import calendar, doses
from dosewise.services.access import PatientAccess
from dosewise.web.context import AppContext, Ctx, Patient, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)
feed_router = APIRouter(tags=["calendar"], include_in_schema=False)

# Calendar apps poll far less often than this; a browser or proxy may reuse the answer for
# this long (private: never a shared cache). A setting, not a clinical number.
FEED_MAX_AGE_S = 300


@feed_router.get("/calendar/{token}.ics")
def feed(token: str, context: Ctx) -> Response:
    """The subscription: no sign-in, no CSRF (it only reads); an unknown or revoked token is 404."""
    content = calendar.read_feed(context.engine, token=token, now=context.now())
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={
            "cache-control": f"private, max-age={FEED_MAX_AGE_S}",
            "content-disposition": 'inline; filename="dosewise.ics"',
            "x-robots-tag": "noindex, nofollow",
        },
    )


def calendar_page(
    context: AppContext, request: Request, patient: PatientAccess, *, token: str | None = None
) -> Response:
    link = (
        calendar.feed_link(context.engine, patient_id=patient.patient_id) if patient.can("manage") else None
    )
    notice = {"off": "The calendar link is off: calendar apps can no longer read it."}.get(
        request.query_params.get("done", "")
    )
    zone = ZoneInfo(patient.time_zone)
    routine = doses.due_now(context.engine, patient_id=patient.patient_id, now=context.now()).routine
    stopped_on = routine.stop_date if routine.stopped else None  # Today's rule, not a second one
    return render(
        context,
        request,
        "calendar.html.j2",
        patient=patient,
        link=link,
        urls=_urls(context, request, token) if token is not None else None,
        manage=patient.can("manage"),
        notice=notice,
        stopped_on=stopped_on,
        link_made=link.created_at.replace(tzinfo=UTC).astimezone(zone) if link is not None else None,
        refresh_hours=int(REFRESH_INTERVAL.total_seconds() // 3600),
    )


def _urls(context: AppContext, request: Request, token: str) -> dict[str, str]:
    """The link as ``webcal://`` (opens the calendar app) and as ``https://`` (to paste)."""
    scheme = "https" if context.settings.secure_cookies else request.url.scheme
    path = f"{request.url.netloc}/calendar/{token}.ics"
    return {"webcal": f"webcal://{path}", "web": f"{scheme}://{path}"}


@router.get("/patients/{patient_id}/calendar")
def calendar_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return calendar_page(context, request, patient)


@router.post("/patients/{patient_id}/calendar/link")
def make_link(request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    """A new link, shown once; the old one stops working."""
    patient.require("manage")
    token = calendar.create_feed(
        context.engine, patient_id=patient.patient_id, now=context.now(), actor=user.actor
    )
    return calendar_page(context, request, patient, token=token)


@router.post("/patients/{patient_id}/calendar/off")
def turn_off(request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    patient.require("manage")
    calendar.revoke_feed(context.engine, patient_id=patient.patient_id, now=context.now(), actor=user.actor)
    return RedirectResponse(f"/patients/{patient.patient_id}/calendar?done=off", status_code=303)
