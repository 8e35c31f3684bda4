"""Notifications: the in-app list, each person's preferences and quiet hours, the browser's push
subscription, the buttons of a reminder, and a patient's alert thresholds (set by a clinician)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dosewise.domain.notifications import (
    SECTION_10,
    THRESHOLD_LABELS,
    THRESHOLD_LIMITS,
    AlertThresholds,
    Preferences,
)
from dosewise.errors import InputError
from dosewise.services import notifications
from dosewise.services.access import NotAllowed, PatientAccess
from dosewise.services.delivery import load_vapid_key
from dosewise.services.inputs import (
    AlertThresholdsInput,
    NotificationActionInput,
    NotificationPreferencesInput,
    PushEndpointInput,
    PushSubscriptionInput,
)
from dosewise.services.notification_actions import act
from dosewise.web.context import AppContext, Ctx, Patient, User, render
from dosewise.web.forms import Submitted, read_form
from dosewise.web.routes.api import router as _api

API_RESPONSES = dict(_api.responses)  # the API's error bodies (Problem), as the other API routes

router = APIRouter(tags=["pages"], include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["notifications"], responses=API_RESPONSES)
NOTICES = {"saved": "Saved. Messages from now on follow these choices.", "read": "All marked as read."}
FOLLOW_UP_LABELS = {0: "No follow-up", 15: "After 15 minutes", 30: "After 30 minutes", 60: "After 1 hour"}


def _email_available(context: AppContext) -> bool:
    return context.settings.reach.smtp is not None


@router.get("/notifications")
def inbox_page(request: Request, context: Ctx, user: User) -> Response:
    messages = notifications.inbox(context.engine, user_id=user.user_id, now=context.now())
    return render(
        context,
        request,
        "notifications.html.j2",
        messages=messages,
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


@router.post("/notifications/read")
def read_all(context: Ctx, user: User) -> Response:
    notifications.mark_read(context.engine, user_id=user.user_id, now=context.now())
    return RedirectResponse("/notifications?done=read", status_code=303)


def _settings_page(
    context: AppContext,
    request: Request,
    user_id: int,
    prefs: Preferences,
    *,
    form: dict[str, Any] | None = None,
    error: InputError | None = None,
    status: int = 200,
) -> Response:
    return render(
        context,
        request,
        "notification_settings.html.j2",
        status=status,
        prefs=prefs,
        form=form or _form_of(prefs),
        follow_up_labels=FOLLOW_UP_LABELS,
        email_available=_email_available(context),
        vapid_key=load_vapid_key(context.settings.reach).public_key,
        browsers=notifications.subscription_count(context.engine, user_id=user_id),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=None if error is None else str(error),
        error_field=None if error is None else (error.field or "push"),
    )


def _form_of(prefs: Preferences) -> dict[str, Any]:
    values = asdict(prefs)
    values["quiet_start"] = prefs.quiet_start.strftime("%H:%M") if prefs.quiet_start else ""
    values["quiet_end"] = prefs.quiet_end.strftime("%H:%M") if prefs.quiet_end else ""
    return values


@router.get("/notifications/settings")
def settings_page(request: Request, context: Ctx, user: User) -> Response:
    prefs = notifications.preferences(context.engine, user_id=user.user_id)
    return _settings_page(context, request, user.user_id, prefs)


async def _preferences_form(request: Request) -> Submitted[NotificationPreferencesInput]:
    # every box is sent by the form: an unticked one is "no"
    return await read_form(
        request,
        NotificationPreferencesInput,
        {"push": False, "email": False, "dose_reminders": False, "heads_up": False},
    )


@router.post("/notifications/settings")
def save_settings(
    request: Request,
    context: Ctx,
    user: User,
    submitted: Annotated[Submitted[NotificationPreferencesInput], Depends(_preferences_form)],
) -> Response:
    try:
        if submitted.model is None:
            raise submitted.error or InputError("check the form", field="push")
        notifications.save_preferences(
            context.engine,
            user_id=user.user_id,
            choice=submitted.model,
            now=context.now(),
            email_available=_email_available(context),
        )
    except InputError as error:
        prefs = notifications.preferences(context.engine, user_id=user.user_id)
        form = {**_form_of(prefs), **submitted.values}
        for box in ("push", "email", "dose_reminders", "heads_up"):
            form[box] = str(submitted.values.get(box, "")).lower() in ("on", "true", "1", "yes")
        return _settings_page(context, request, user.user_id, prefs, form=form, error=error, status=400)
    return RedirectResponse("/notifications/settings?done=saved", status_code=303)


# --- a patient's alert thresholds -------------------------------------------------------------


def _alerts_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    chosen: AlertThresholds,
    *,
    form: dict[str, Any] | None = None,
    error: InputError | None = None,
    status: int = 200,
) -> Response:
    return render(
        context,
        request,
        "alert_settings.html.j2",
        status=status,
        patient=patient,
        chosen=chosen,
        defaults=AlertThresholds(),
        form=form or asdict(chosen),
        labels=THRESHOLD_LABELS,
        limits=THRESHOLD_LIMITS,
        source=SECTION_10,
        can_edit=notifications.may_set_thresholds(patient),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=None if error is None else str(error),
        error_field=None if error is None else (error.field or "missed_in_row"),
    )


@router.get("/patients/{patient_id}/alerts")
def alerts_page(request: Request, context: Ctx, patient: Patient) -> Response:
    chosen = notifications.alert_thresholds(context.engine, patient_id=patient.patient_id)
    return _alerts_page(context, request, patient, chosen)


async def _thresholds_form(request: Request) -> Submitted[AlertThresholdsInput]:
    return await read_form(request, AlertThresholdsInput)


@router.post("/patients/{patient_id}/alerts")
def save_alerts(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[AlertThresholdsInput], Depends(_thresholds_form)],
) -> Response:
    if not notifications.may_set_thresholds(patient):  # refused before the form's own mistakes
        raise NotAllowed(notifications.ONLY_CLINICIANS)
    try:
        if submitted.model is None:
            raise submitted.error or InputError("check the form", field="missed_in_row")
        notifications.set_alert_thresholds(
            context.engine,
            caller=patient,
            values=submitted.model,
            now=context.now(),
            actor=user.actor,
        )
    except InputError as error:
        chosen = notifications.alert_thresholds(context.engine, patient_id=patient.patient_id)
        return _alerts_page(
            context,
            request,
            patient,
            chosen,
            form={**asdict(chosen), **submitted.values},
            error=error,
            status=400,
        )
    return RedirectResponse(f"/patients/{patient.patient_id}/alerts?done=saved", status_code=303)


@router.post("/patients/{patient_id}/alerts/reset")
def reset_alerts(context: Ctx, user: User, patient: Patient) -> Response:
    notifications.set_alert_thresholds(
        context.engine, caller=patient, values=None, now=context.now(), actor=user.actor
    )
    return RedirectResponse(f"/patients/{patient.patient_id}/alerts?done=saved", status_code=303)


# --- the JSON API ------------------------------------------------------------------------------


@api_router.get("/notifications")
def list_notifications(context: Ctx, user: User) -> dict[str, Any]:
    messages = notifications.inbox(context.engine, user_id=user.user_id, now=context.now())
    return {
        "unread": sum(1 for m in messages if not m.read),
        "notifications": [
            {
                **asdict(m),
                "due_at": m.due_at.isoformat(),
                "sources": list(m.sources),
                "actions": list(m.actions),
            }
            for m in messages
        ],
    }


@api_router.post("/notifications/read", status_code=200)
def api_read_all(context: Ctx, user: User) -> dict[str, int]:
    return {"marked": notifications.mark_read(context.engine, user_id=user.user_id, now=context.now())}


@api_router.get("/notifications/preferences")
def get_preferences(context: Ctx, user: User) -> dict[str, Any]:
    return _preferences_json(notifications.preferences(context.engine, user_id=user.user_id), context)


@api_router.put("/notifications/preferences")
def put_preferences(body: NotificationPreferencesInput, context: Ctx, user: User) -> dict[str, Any]:
    saved = notifications.save_preferences(
        context.engine,
        user_id=user.user_id,
        choice=body,
        now=context.now(),
        email_available=_email_available(context),
    )
    return _preferences_json(saved, context)


def _preferences_json(prefs: Preferences, context: AppContext) -> dict[str, Any]:
    values = _form_of(prefs)
    values.pop("stored", None)
    return {**values, "email_available": _email_available(context)}


@api_router.get("/push/key")
def push_key(context: Ctx) -> dict[str, str]:
    """The application server key (VAPID public key) for ``pushManager.subscribe``."""
    return {"public_key": load_vapid_key(context.settings.reach).public_key}


@api_router.post("/push/subscriptions", status_code=201)
def add_subscription(body: PushSubscriptionInput, context: Ctx, user: User) -> dict[str, Any]:
    subscription_id = notifications.subscribe(
        context.engine,
        user_id=user.user_id,
        subscription=notifications.SubscriptionInput(
            endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
        ),
        now=context.now(),
        allow_loopback_http=context.settings.reach.allow_loopback_push,
    )
    return {
        "id": subscription_id,
        "browsers": notifications.subscription_count(context.engine, user_id=user.user_id),
    }


@api_router.delete("/push/subscriptions")
def remove_subscription(body: PushEndpointInput, context: Ctx, user: User) -> dict[str, Any]:
    removed = notifications.unsubscribe(context.engine, user_id=user.user_id, endpoint=body.endpoint)
    return {
        "removed": removed,
        "browsers": notifications.subscription_count(context.engine, user_id=user.user_id),
    }


@api_router.post("/notification-actions")
def notification_action(body: NotificationActionInput, context: Ctx) -> Response:
    """A reminder's "Taken" or "Snooze 15 min", from the service worker: the signed token is
    the key (no session: the browser may have none when the notification is tapped)."""
    done = act(
        context.engine,
        secret_key=context.settings.secret_key,
        token=body.token,
        action=body.action,
        now=context.now(),
    )
    return JSONResponse({"action": done.action, "message": done.message, "patient_id": done.patient_id})


@api_router.get("/patients/{patient_id}/alert-settings")
def get_alert_settings(context: Ctx, patient: Patient) -> dict[str, Any]:
    chosen = notifications.alert_thresholds(context.engine, patient_id=patient.patient_id)
    return {**asdict(chosen), "source": SECTION_10 if not chosen.customized else "set by a clinician"}


@api_router.put("/patients/{patient_id}/alert-settings")
def put_alert_settings(
    body: AlertThresholdsInput, context: Ctx, user: User, patient: Patient
) -> dict[str, Any]:
    chosen = notifications.set_alert_thresholds(
        context.engine, caller=patient, values=body, now=context.now(), actor=user.actor
    )
    return {**asdict(chosen), "source": "set by a clinician"}
