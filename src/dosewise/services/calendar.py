"""The patient's dose calendar: the .ics download, and a revocable secret URL that calendar
apps subscribe to (issue 12).

Both give the same file: the doses from now on (never an event in the past), the last step of
the plan in force as a recurring event that never runs out (a taper's ends with its last dose,
then a "stopped" day), and the review date. It is built from the stored plan records, not from
the dose slots made ahead: a calendar app polls without signing in, and reading the feed must
never write; the recurring event needs the rule, which the record holds, and the schedule
never runs out even if the slots were not topped up. The slots are read only to leave out the
dose times the diary does not offer (a dose too close to one already taken when a plan took
over), so that the calendar and Today agree.

The subscription URL holds a random token; only its SHA-256 is kept and a request is looked up
by that hash (unknown and revoked tokens are the same "not found"). Making a new link revokes
the old one; turning it off revokes it. Both are audited.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from dosewise.domain.schedule import build_dose_events
from dosewise.errors import InputError, NotFound
from dosewise.exporters.ical import ScheduledPlan, build_schedule_calendar
from dosewise.monographs import load_monograph
from dosewise.services.audit import audit
from dosewise.services.auth import digest
from dosewise.services.clock import to_utc
from dosewise.services.patients import drug_of
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import CalendarFeedRow, DoseSlotRow, PatientRow, PlanRow
from dosewise.store.plan_codec import decode_plan

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedLink:
    """A subscription link that is on (the token itself is never kept)."""

    created_at: datetime  # UTC


def export_calendar(engine: Engine, *, patient_id: int, now: datetime) -> bytes:
    """The .ics download: the patient's doses from ``now`` on."""
    with read_only(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        if session.scalar(select(PlanRow.id).where(PlanRow.patient_id == patient_id).limit(1)) is None:
            raise InputError("there is no plan yet, so there are no doses to remind of")
        return _calendar(session, patient_id, now)


def read_feed(engine: Engine, *, token: str, now: datetime) -> bytes:
    """The subscription's .ics for a link's token; NotFound for an unknown or revoked one."""
    if not _TOKEN.fullmatch(token):
        raise NotFound("no such calendar")
    with read_only(engine) as session:
        patient_id = session.scalar(
            select(CalendarFeedRow.patient_id).where(
                CalendarFeedRow.token_hash == digest(token), CalendarFeedRow.revoked_at.is_(None)
            )
        )
        if patient_id is None:
            raise NotFound("no such calendar")
        return _calendar(session, patient_id, now)


def feed_link(engine: Engine, *, patient_id: int) -> FeedLink | None:
    """The patient's subscription link if one is on."""
    with read_only(engine) as session:
        created = session.scalar(
            select(CalendarFeedRow.created_at)
            .where(CalendarFeedRow.patient_id == patient_id, CalendarFeedRow.revoked_at.is_(None))
            .order_by(CalendarFeedRow.id.desc())
            .limit(1)
        )
    return None if created is None else FeedLink(created_at=created)


def create_feed(engine: Engine, *, patient_id: int, now: datetime, actor: str) -> str:
    """A new subscription link's token (returned once, never stored); the old link stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with unit_of_work(engine) as session:
        _lock_patient(session, patient_id)
        revoked = _revoke(session, patient_id, now)
        row = CalendarFeedRow(patient_id=patient_id, token_hash=digest(token), created_at=to_utc(now))
        session.add(row)
        session.flush()
        audit(session, now, actor, patient_id, "create", "calendar_feed", row.id, {"revoked": revoked})
    return token


def revoke_feed(engine: Engine, *, patient_id: int, now: datetime, actor: str) -> bool:
    """Turn the subscription link off; False when none was on."""
    with unit_of_work(engine) as session:
        _lock_patient(session, patient_id)
        revoked = _revoke(session, patient_id, now)
        for feed_id in revoked:
            audit(session, now, actor, patient_id, "revoke", "calendar_feed", feed_id)
    return bool(revoked)


def _lock_patient(session: Session, patient_id: int) -> None:
    """One link change at a time per patient (PostgreSQL; SQLite writers are serial anyway)."""
    found = session.scalar(select(PatientRow.id).where(PatientRow.id == patient_id).with_for_update())
    if found is None:
        raise NotFound(f"no patient {patient_id}")


def _revoke(session: Session, patient_id: int, now: datetime) -> list[int]:
    rows = session.scalars(
        select(CalendarFeedRow).where(
            CalendarFeedRow.patient_id == patient_id, CalendarFeedRow.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = to_utc(now)
    return [row.id for row in rows]


def _calendar(session: Session, patient_id: int, now: datetime) -> bytes:
    """The doses of the plans in force from ``now`` on: a plan being replaced up to the moment
    the new one takes over, then the plan in force."""
    now_utc = to_utc(now)
    rows = session.scalars(
        select(PlanRow)
        .where(
            PlanRow.patient_id == patient_id,
            or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at > now_utc),
        )
        .order_by(PlanRow.id)
    ).all()
    slots: dict[int, list[datetime]] = {}
    for plan_id, due_at in session.execute(
        select(DoseSlotRow.plan_id, DoseSlotRow.due_at)
        .where(DoseSlotRow.patient_id == patient_id, DoseSlotRow.due_at >= now_utc)
        .order_by(DoseSlotRow.due_at)
    ):
        slots.setdefault(plan_id, []).append(due_at)
    scheduled = [found for row in rows if (found := _scheduled(row, slots.get(row.id, []), now)) is not None]
    monograph = scheduled[-1].monograph if scheduled else load_monograph(drug_of(session, patient_id))
    return build_schedule_calendar(
        scheduled, name=f"{monograph.display_name} doses (Dosewise)", owner=f"patient-{patient_id}", now=now
    )


def _scheduled(row: PlanRow, due: list[datetime], now: datetime) -> ScheduledPlan | None:
    record = decode_plan(row.record)
    begins = _aware(row.takes_over_at or row.created_at)
    since = max(now.astimezone(UTC), begins)
    until = None if row.superseded_at is None else _aware(row.superseded_at)
    if until is not None and until <= since:
        return None
    # the slots made so far are the diary's doses: a dose time of the plan without one is left out
    made_until = row.slots_until or (max(due) if due else None)
    left_out: frozenset[datetime] = frozenset()
    if made_until is not None:
        zone = ZoneInfo(record.time_zone)
        end = _aware(made_until) if until is None else min(_aware(made_until), until)
        made = {_aware(moment) for moment in due}
        left_out = frozenset(
            event.at.astimezone(UTC)
            for event in build_dose_events(
                record.plan,
                record.times,
                zone,
                since=since.astimezone(zone).date(),
                until=end.astimezone(zone).date(),
            )
            if since <= event.at <= end and event.at.astimezone(UTC) not in made
        )
    return ScheduledPlan(
        plan=record.plan,
        times=record.times,
        time_zone=record.time_zone,
        monograph=load_monograph(record.plan.drug),
        revised=_aware(row.created_at),
        since=since,
        until=until,
        left_out=left_out,
    )


def _aware(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC)
