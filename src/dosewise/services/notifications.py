"""Notifications: who is told what, on which channel, and what they chose.

Everything sent goes through the outbox (``notifications``): a message is a row per recipient
and channel, written with its idempotency key in the same transaction as the event that caused
it (a triage result, a plan change, a review request) or by the planner
(:mod:`dosewise.services.reminders`); the dispatcher (:mod:`dosewise.services.delivery`) sends
it. Writing a key twice is a no-op (``ON CONFLICT DO NOTHING``), so a retry, a restart or two
planners never make two messages. The in-app list is the ``in_app`` rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dosewise.domain.notifications import (
    AlertThresholds,
    Channel,
    Kind,
    Level,
    Preferences,
    Text,
    check_quiet_hours,
    check_thresholds,
    default_preferences,
    message_key,
    release_time,
)
from dosewise.errors import InputError, NotFound
from dosewise.services.access import NotAllowed, PatientAccess
from dosewise.services.clock import from_utc, parse_clock, to_utc, zone_named
from dosewise.services.inputs import AlertThresholdsInput, NotificationPreferencesInput
from dosewise.store.database import read_connection, read_only, unit_of_work
from dosewise.store.models import (
    AccessGrantRow,
    AlertSettingRow,
    NotificationPreferenceRow,
    NotificationRow,
    PatientRow,
    PushSubscriptionRow,
    UserRow,
)

Audience = Literal["patient", "caregiver", "clinician"]
PATIENT_ONLY: frozenset[Audience] = frozenset({"patient"})
FAMILY: frozenset[Audience] = frozenset({"patient", "caregiver"})
CARE_TEAM: frozenset[Audience] = frozenset({"caregiver", "clinician"})
EVERYONE: frozenset[Audience] = frozenset({"patient", "caregiver", "clinician"})
LIST_LIMIT = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    user_id: int
    relation: Audience  # to this patient
    name: str
    prefs: Preferences


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement:
    """One thing to tell the people around a patient; :func:`announce` makes the rows."""

    kind: Kind
    level: Level
    subject: str  # what it is about, unique for the kind (the idempotency key's middle)
    patient_id: int
    audience: frozenset[Audience]
    text: Text | None = None  # the same words for everyone
    texts: dict[Audience, Text] = field(default_factory=dict)  # or words per relation
    url: str = ""
    due: datetime  # aware
    stale_at: datetime | None = None  # aware; None: a safety message, sent however late
    payload: dict[str, Any] = field(default_factory=dict)
    gate: Literal["dose_reminders", "heads_up"] | None = None  # the preference that turns it off
    exclude_user: int | None = None  # e.g. who changed the plan is not told about it
    only_user: int | None = None  # e.g. a snooze is for the one who asked

    def text_for(self, relation: Audience) -> Text:
        found = self.texts.get(relation) or self.text
        if found is None:
            raise ValueError(f"no words for {relation}")
        return found


def announce(
    target: Session | Connection,
    announcements: Sequence[Announcement],
    *,
    now: datetime,
    recipients: dict[int, list[Recipient]] | None = None,
) -> int:
    """Write the outbox rows of ``announcements`` in the caller's transaction; returns how many
    were new (a key written before is left as it was)."""
    if not announcements:
        return 0
    if recipients is None:
        recipients = recipients_of(target, {a.patient_id for a in announcements})
    rows = []
    created = to_utc(now)
    for item in announcements:
        for person in recipients.get(item.patient_id, []):
            if person.relation not in item.audience or person.user_id == item.exclude_user:
                continue
            if item.only_user is not None and person.user_id != item.only_user:
                continue
            if item.gate is not None and not getattr(person.prefs, item.gate):
                continue
            words = item.text_for(person.relation)
            zone = ZoneInfo(person.prefs.time_zone)
            due = release_time(item.due, person.prefs, zone, kind=item.kind, level=item.level)
            channels: list[Channel] = ["in_app"]
            if person.prefs.push:
                channels.append("push")
            if person.prefs.email:
                channels.append("email")
            for channel in channels:
                rows.append(
                    {
                        "key": message_key(item.kind, item.subject, person.user_id, channel),
                        "user_id": person.user_id,
                        "patient_id": item.patient_id,
                        "channel": channel,
                        "kind": item.kind,
                        "level": item.level,
                        "title": words.title[:200],
                        "body": words.body,
                        "url": item.url,
                        "payload": json.dumps({**item.payload, "sources": list(words.sources)}),
                        "due_at": to_utc(due),
                        # held by quiet hours: still worth sending for as long after release
                        "stale_at": None
                        if item.stale_at is None
                        else to_utc(item.stale_at + (due - item.due)),
                        "status": "pending",
                        "attempts": 0,
                        "created_at": created,
                    }
                )
    return insert_messages(target, rows)


def insert_messages(target: Session | Connection, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping keys already written (one statement per 500 rows)."""
    if not rows:
        return 0
    dialect = target.get_bind().dialect.name if isinstance(target, Session) else target.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(NotificationRow).on_conflict_do_nothing(index_elements=["key"])
    new = 0
    for start in range(0, len(rows), 500):
        result = target.execute(statement.returning(NotificationRow.id), rows[start : start + 500])
        new += len(result.all())
    return new


def recipients_of(target: Session | Connection, patient_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The patient's own account and the caregivers and clinicians let in, with their
    preferences (defaults where they set none), for many patients in two statements."""
    ids = sorted(set(patient_ids))
    found: dict[int, list[Recipient]] = defaultdict(list)
    if not ids:
        return found
    columns = (
        UserRow.id,
        UserRow.role,
        UserRow.display_name,
        NotificationPreferenceRow,
    )
    for chunk in _chunks(ids, 900):
        owners: Sequence[Any] = target.execute(
            select(PatientRow.id.label("patient_id"), PatientRow.time_zone, *columns)
            .join(UserRow, UserRow.id == PatientRow.user_id)
            .outerjoin(NotificationPreferenceRow, NotificationPreferenceRow.user_id == UserRow.id)
            .where(PatientRow.id.in_(chunk))
        ).all()
        for row in owners:
            found[row.patient_id].append(_recipient(row, "patient"))
        team: Sequence[Any] = target.execute(
            select(
                AccessGrantRow.patient_id,
                AccessGrantRow.role.label("relation"),
                PatientRow.time_zone,
                *columns,
            )
            .join(UserRow, UserRow.id == AccessGrantRow.user_id)
            .join(PatientRow, PatientRow.id == AccessGrantRow.patient_id)
            .outerjoin(NotificationPreferenceRow, NotificationPreferenceRow.user_id == UserRow.id)
            .where(AccessGrantRow.patient_id.in_(chunk), AccessGrantRow.revoked_at.is_(None))
        ).all()
        for row in team:
            found[row.patient_id].append(_recipient(row, row.relation))
    return found


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _recipient(row: Any, relation: Audience) -> Recipient:
    stored = row[-1] if isinstance(row[-1], NotificationPreferenceRow) else None
    role = row.role
    return Recipient(
        user_id=row.id,
        relation=relation,
        name=row.display_name,
        prefs=preferences_from_row(stored) if stored else default_preferences(role, row.time_zone),
    )


def preferences_from_row(row: NotificationPreferenceRow) -> Preferences:
    return Preferences(
        push=row.push,
        email=row.email,
        dose_reminders=row.dose_reminders,
        heads_up=row.heads_up,
        follow_up_minutes=row.follow_up_minutes,
        quiet_start=parse_clock(row.quiet_start) if row.quiet_start else None,
        quiet_end=parse_clock(row.quiet_end) if row.quiet_end else None,
        time_zone=row.time_zone,
        stored=True,
    )


# --- preferences -------------------------------------------------------------------------------


def user_time_zone(session: Session, user_id: int) -> str:
    """The zone of the user's own diary, else of the first patient they care for, else UTC."""
    own = session.scalar(select(PatientRow.time_zone).where(PatientRow.user_id == user_id).limit(1))
    if own:
        return own
    cared = session.scalar(
        select(PatientRow.time_zone)
        .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
        .where(AccessGrantRow.user_id == user_id, AccessGrantRow.revoked_at.is_(None))
        .order_by(AccessGrantRow.id)
        .limit(1)
    )
    return cared or "UTC"


def preferences(engine: Engine, *, user_id: int) -> Preferences:
    with read_only(engine) as session:
        row = session.get(NotificationPreferenceRow, user_id)
        if row is not None:
            return preferences_from_row(row)
        user = session.get(UserRow, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return default_preferences(user.role, user_time_zone(session, user_id))


FOLLOW_UP_CHOICES = (0, 15, 30, 60)  # minutes (settings of the form)


def save_preferences(
    engine: Engine,
    *,
    user_id: int,
    choice: NotificationPreferencesInput,
    now: datetime,
    email_available: bool,
) -> Preferences:
    """Keep a person's choices (validated first: nothing is stored when one is wrong)."""
    start = parse_clock(choice.quiet_start, field="quiet_start") if choice.quiet_start else None
    end = parse_clock(choice.quiet_end, field="quiet_end") if choice.quiet_end else None
    check_quiet_hours(start, end)
    if choice.follow_up_minutes not in FOLLOW_UP_CHOICES:
        raise InputError(
            f"the follow-up is one of {', '.join(map(str, FOLLOW_UP_CHOICES))} minutes",
            field="follow_up_minutes",
        )
    if choice.email and not email_available:
        raise InputError("email is not set up on this server: ask its administrator", field="email")
    with unit_of_work(engine) as session:
        zone = zone_named(choice.time_zone).key if choice.time_zone else user_time_zone(session, user_id)
        row = session.get(NotificationPreferenceRow, user_id)
        if row is None:
            row = NotificationPreferenceRow(user_id=user_id)
            session.add(row)
        row.push, row.email = choice.push, choice.email
        row.dose_reminders, row.heads_up = choice.dose_reminders, choice.heads_up
        row.follow_up_minutes = choice.follow_up_minutes
        row.quiet_start = start.strftime("%H:%M") if start else None
        row.quiet_end = end.strftime("%H:%M") if end else None
        row.time_zone = zone
        row.updated_at = to_utc(now)
        session.flush()
        return preferences_from_row(row)


# --- push subscriptions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str


def subscribe(
    engine: Engine, *, user_id: int, subscription: SubscriptionInput, now: datetime, allow_loopback_http: bool
) -> int:
    """Keep a browser's push subscription (the endpoint checked against SSRF first); the same
    endpoint again moves it to this user with the new keys."""
    from dosewise.services.push_endpoints import check_push_endpoint

    endpoint = check_push_endpoint(subscription.endpoint, allow_loopback_http=allow_loopback_http)
    _check_key(subscription.p256dh, "p256dh", 65)
    _check_key(subscription.auth, "auth", 16)
    with unit_of_work(engine) as session:
        row = session.scalar(select(PushSubscriptionRow).where(PushSubscriptionRow.endpoint == endpoint))
        if row is None:
            row = PushSubscriptionRow(endpoint=endpoint, created_at=to_utc(now), failures=0)
            session.add(row)
        row.user_id, row.p256dh, row.auth = user_id, subscription.p256dh, subscription.auth
        session.flush()
        return row.id


def _check_key(value: str, name: str, length: int) -> None:
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length:
        raise InputError(f"the subscription's {name} key must be {length} bytes in base64url", field=name)


def unsubscribe(engine: Engine, *, user_id: int, endpoint: str) -> bool:
    from sqlalchemy import delete

    with unit_of_work(engine) as session:
        gone = session.execute(
            delete(PushSubscriptionRow).where(
                PushSubscriptionRow.user_id == user_id, PushSubscriptionRow.endpoint == endpoint
            )
        )
        return bool(getattr(gone, "rowcount", 0))


def subscription_count(engine: Engine, *, user_id: int) -> int:
    with read_connection(engine) as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(PushSubscriptionRow)
                .where(PushSubscriptionRow.user_id == user_id)
            ).scalar_one()
        )


# --- the in-app list ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class InAppMessage:
    id: int
    patient_id: int | None
    kind: str
    level: str
    title: str
    body: str
    url: str
    due_at: datetime  # on the reader's clock
    read: bool
    sources: tuple[str, ...]
    actions: tuple[str, ...]  # "taken", "snooze" while the dose is still open


def inbox(engine: Engine, *, user_id: int, now: datetime, limit: int = LIST_LIMIT) -> list[InAppMessage]:
    """The person's messages that are due, newest first (with the reader's time zone)."""
    with read_only(engine) as session:
        prefs_zone = ZoneInfo(_zone_of(session, user_id))
        rows = session.scalars(
            select(NotificationRow)
            .where(
                NotificationRow.user_id == user_id,
                NotificationRow.channel == "in_app",
                NotificationRow.due_at <= to_utc(now),
                NotificationRow.status.in_(("pending", "sending", "sent")),
            )
            .order_by(NotificationRow.due_at.desc(), NotificationRow.id.desc())
            .limit(limit)
        ).all()
    return [
        InAppMessage(
            id=row.id,
            patient_id=row.patient_id,
            kind=row.kind,
            level=row.level,
            title=row.title,
            body=row.body,
            url=row.url,
            due_at=from_utc(row.due_at, prefs_zone),
            read=row.read_at is not None,
            sources=tuple(json.loads(row.payload).get("sources", [])),
            actions=tuple(a["action"] for a in json.loads(row.payload).get("actions", [])),
        )
        for row in rows
    ]


def unread_count(engine: Engine, *, user_id: int, now: datetime) -> int:
    with read_connection(engine) as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(NotificationRow)
                .where(
                    NotificationRow.user_id == user_id,
                    NotificationRow.channel == "in_app",
                    NotificationRow.due_at <= to_utc(now),
                    NotificationRow.read_at.is_(None),
                    NotificationRow.status.in_(("pending", "sending", "sent")),
                )
            ).scalar_one()
        )


def mark_read(engine: Engine, *, user_id: int, now: datetime, message_id: int | None = None) -> int:
    """Mark one message (or all that are due) as read."""
    condition = and_(
        NotificationRow.user_id == user_id,
        NotificationRow.channel == "in_app",
        NotificationRow.read_at.is_(None),
        NotificationRow.due_at <= to_utc(now),
    )
    if message_id is not None:
        condition = and_(condition, NotificationRow.id == message_id)
    with unit_of_work(engine) as session:
        done = session.execute(update(NotificationRow).where(condition).values(read_at=to_utc(now)))
        return int(getattr(done, "rowcount", 0))


def _zone_of(session: Session, user_id: int) -> str:
    row = session.get(NotificationPreferenceRow, user_id)
    return row.time_zone if row is not None else user_time_zone(session, user_id)


# --- a patient's alert thresholds (a clinician's choice) -------------------------------------


def alert_thresholds(engine: Engine, *, patient_id: int) -> AlertThresholds:
    """The patient's thresholds: a clinician's, else section 10's product defaults."""
    with read_only(engine) as session:
        row = session.get(AlertSettingRow, patient_id)
        return AlertThresholds() if row is None else thresholds_from_row(row)


def thresholds_from_row(row: AlertSettingRow) -> AlertThresholds:
    return AlertThresholds(
        missed_in_row=row.missed_in_row,
        late_hours=row.late_hours,
        no_dose_hours=row.no_dose_hours,
        supply_warn_days=row.supply_warn_days,
        supply_caregivers_days=row.supply_caregivers_days,
        supply_urgent_days=row.supply_urgent_days,
        customized=True,
    )


ONLY_CLINICIANS = (
    "only the patient's clinician, with an account verified by an administrator, sets the alert thresholds"
)


def may_set_thresholds(caller: PatientAccess) -> bool:
    """A clinician power (ADR 0016): loosening the withdrawal alerts needs a verified clinician."""
    return caller.may_override


def set_alert_thresholds(
    engine: Engine,
    *,
    caller: PatientAccess,
    values: AlertThresholdsInput | None,
    now: datetime,
    actor: str,
) -> AlertThresholds:
    """The patient's verified clinician sets the thresholds (``None``: back to the product
    defaults); anyone else is refused."""
    if not may_set_thresholds(caller):
        raise NotAllowed(ONLY_CLINICIANS)
    patient_id = caller.patient_id
    from dataclasses import asdict

    from dosewise.services.audit import audit

    chosen = AlertThresholds() if values is None else check_thresholds(values.model_dump())
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        row = session.get(AlertSettingRow, patient_id)
        before = None if row is None else {k: getattr(row, k) for k in THRESHOLD_FIELDS}
        if values is None:
            if row is not None:
                session.delete(row)
        else:
            if row is None:
                row = AlertSettingRow(patient_id=patient_id)
                session.add(row)
            for name in THRESHOLD_FIELDS:
                setattr(row, name, getattr(chosen, name))
            row.updated_by, row.updated_at = actor, to_utc(now)
        after = {k: v for k, v in asdict(chosen).items() if k in THRESHOLD_FIELDS}
        audit(
            session,
            now,
            actor,
            patient_id,
            "set_alert_thresholds",
            "alert_settings",
            patient_id,
            {"before": before, "after": None if values is None else after},
        )
    return chosen


THRESHOLD_FIELDS = (
    "missed_in_row",
    "late_hours",
    "no_dose_hours",
    "supply_warn_days",
    "supply_caregivers_days",
    "supply_urgent_days",
)
