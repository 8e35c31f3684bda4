""" "Taken" and "Snooze 15 min" from a notification, without opening the app.

A dose reminder's push carries a signed token (itsdangerous, the app's secret key) naming the
slot, the patient and the person it was sent to; the service worker posts it back with the
action. The token is a capability for that one dose only, valid for :data:`TOKEN_LIFETIME`,
and is checked against the person's access at use (a caregiver let out cannot use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Engine, select

from dosewise.domain.notifications import SNOOZE, dose_reminder_text
from dosewise.errors import InputError
from dosewise.services.notifications import announce
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import AccessGrantRow, DoseSlotRow, PatientRow, PlanRow

SALT = "dosewise-notification-action"
TOKEN_LIFETIME = timedelta(hours=12)
Action = Literal["taken", "snooze"]


def action_signer(secret_key: str) -> Callable[[int, int, int], str]:
    serializer = URLSafeTimedSerializer(secret_key, salt=SALT)

    def sign(slot_id: int, patient_id: int, user_id: int) -> str:
        return str(serializer.dumps([slot_id, patient_id, user_id]))

    return sign


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionDone:
    action: Action
    message: str
    patient_id: int


def act(engine: Engine, *, secret_key: str, token: str, action: str, now: datetime) -> ActionDone:
    """Do what the notification's button says; InputError when the token is bad or old."""
    from dosewise.services.doses import record_dose

    if action not in ("taken", "snooze"):
        raise InputError("the action is 'taken' or 'snooze'", field="action")
    try:
        slot_id, patient_id, user_id = URLSafeTimedSerializer(secret_key, salt=SALT).loads(
            token, max_age=int(TOKEN_LIFETIME.total_seconds())
        )
    except SignatureExpired:
        raise InputError(
            "this reminder has expired: open Dosewise to record the dose", field="token"
        ) from None
    except (BadSignature, ValueError, TypeError):
        raise InputError("this reminder's button is not valid: open Dosewise", field="token") from None
    _check_access(engine, patient_id=patient_id, user_id=user_id)
    if action == "taken":
        record = record_dose(
            engine, patient_id=patient_id, slot_id=slot_id, status="taken", now=now, actor=f"user:{user_id}"
        )
        zone_time = _local(engine, patient_id, record.taken_at) or "now"
        word = "Recorded" if record.created else "Already recorded"
        return ActionDone(
            action="taken", message=f"{word}: dose taken at {zone_time}.", patient_id=patient_id
        )
    at = now + SNOOZE
    with unit_of_work(engine) as session:
        slot = session.execute(
            select(
                DoseSlotRow.due_at,
                DoseSlotRow.dose_ug,
                DoseSlotRow.how,
                DoseSlotRow.recorded,
                PlanRow.drug,
                PatientRow.time_zone,
            )
            .join(PlanRow, PlanRow.id == DoseSlotRow.plan_id)
            .join(PatientRow, PatientRow.id == DoseSlotRow.patient_id)
            .where(DoseSlotRow.id == slot_id, DoseSlotRow.patient_id == patient_id)
        ).first()
        if slot is None:
            raise InputError("this dose is no longer in the plan: open Dosewise", field="token")
        if slot.recorded is not None:
            return ActionDone(
                action="snooze", message="This dose is already recorded.", patient_id=patient_id
            )
        from dosewise.services.reminders import snooze_announcement

        zone = ZoneInfo(slot.time_zone)
        words = dose_reminder_text(
            drug=slot.drug,
            dose_mg=slot.dose_ug / 1000,
            how=slot.how,
            due_local=slot.due_at.replace(tzinfo=UTC).astimezone(zone),
            follow_up=True,
        )
        announce(
            session,
            [snooze_announcement(slot_id, patient_id, user_id, title=words.title, body=words.body, at=at)],
            now=now,
        )
    return ActionDone(
        action="snooze",
        message=f"Reminding you again at {at.astimezone(zone):%H:%M}.",
        patient_id=patient_id,
    )


def _check_access(engine: Engine, *, patient_id: int, user_id: int) -> None:
    with read_only(engine) as session:
        owner = session.scalar(select(PatientRow.user_id).where(PatientRow.id == patient_id))
        if owner == user_id:
            return
        grant = session.scalar(
            select(AccessGrantRow.id).where(
                AccessGrantRow.patient_id == patient_id,
                AccessGrantRow.user_id == user_id,
                AccessGrantRow.role == "caregiver",
                AccessGrantRow.revoked_at.is_(None),
            )
        )
    if grant is None:
        raise InputError("you can no longer record doses for this person", field="token")


def _local(engine: Engine, patient_id: int, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    with read_only(engine) as session:
        zone = session.scalar(select(PatientRow.time_zone).where(PatientRow.id == patient_id))
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone or "UTC")).strftime("%H:%M")
