"""The planner: what is due to be told, from the dose slots, the diary and the plans.

Each run looks at the moments in (cursor, now] and moves the cursor in the same transaction
as the messages it writes (their idempotency keys make a second look harmless, so two planners,
or a planner killed after writing, never make a message twice). After downtime it looks back
at most :data:`MAX_LOOK_BACK`: a dose reminder found too late is written as ``stale`` (kept,
not sent); a withdrawal-risk alert is still sent.

What it writes (thresholds: baclofen.md section 10, product defaults, per patient
``alert_settings``):
- a reminder at each dose time (patient; caregivers who ask), with one follow-up;
- ``withdrawal_warning`` to the patient and caregivers: ``missed_in_row`` doses in a row not
  taken, or ``late_hours`` beyond a due dose with nothing taken (once per gap between doses);
- ``withdrawal_urgent`` to everyone, clinicians too: ``no_dose_hours`` without a dose;
- the step-change heads-up at 18:00 the evening before the doses change;
- the plan's review date (a week before and on the day).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from dosewise.domain.notifications import (
    HEADS_UP_AT,
    REMINDER_USEFUL_FOR,
    REVIEW_REMINDER_AT,
    AlertThresholds,
    Level,
    Text,
    dose_reminder_text,
    format_mg,
    step_change_text,
    withdrawal_text,
)
from dosewise.domain.schedule import localize
from dosewise.monographs import load_monograph
from dosewise.services.clock import to_utc
from dosewise.services.notifications import (
    EVERYONE,
    FAMILY,
    PATIENT_ONLY,
    Announcement,
    Recipient,
    announce,
    recipients_of,
    thresholds_from_row,
)
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import (
    NOT_TAKEN,
    AlertSettingRow,
    DoseEventRow,
    DoseSlotRow,
    PatientRow,
    PlannerCursorRow,
    PlanRow,
)

CURSOR = "planner"
MAX_LOOK_BACK = timedelta(days=3)  # a longer outage: older moments are not looked at (setting)
FIRST_LOOK_BACK = REMINDER_USEFUL_FOR  # a new installation does not remind of the past
TAKEN = ("taken", "late")


@dataclass(slots=True)
class PlanRun:
    """What one run of the planner did."""

    since: datetime | None = None
    until: datetime | None = None
    written: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True, slots=True)
class _Slot:
    id: int
    patient_id: int
    plan_id: int
    due_at: datetime  # naive UTC
    dose_ug: int
    how: str
    step_number: int
    recorded: str | None
    drug: str
    time_zone: str
    name: str


def plan_messages(engine: Engine, *, now: datetime) -> PlanRun:
    """Write what became due in (cursor, now]; one transaction (the cursor moves with it)."""
    run = PlanRun()
    until = to_utc(now)
    with unit_of_work(engine) as session:
        cursor = _lock_cursor(session)
        since = until - FIRST_LOOK_BACK if cursor is None else max(cursor.until, until - MAX_LOOK_BACK)
        if since >= until:
            return run
        run.since, run.until = since, until
        announcements = [
            *_dose_reminders(session, since, until, now),
            *_withdrawal_alerts(session, since, until, now),
            *_daily(session, since, until),
        ]
        recipients = recipients_of(session, {a.patient_id for a in announcements})
        for item in announcements:
            run.by_kind[item.kind] += 1
        run.written = announce(session, announcements, now=now, recipients=recipients)
        run.written += _follow_ups(session, announcements, recipients, now)
        if cursor is None:
            session.add(PlannerCursorRow(name=CURSOR, until=until))
        else:
            cursor.until = until
    return run


def _lock_cursor(session: Session) -> PlannerCursorRow | None:
    """The cursor row, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
    BEGIN IMMEDIATE already holds the write lock). A second planner waits, then finds the
    window done."""
    statement = select(PlannerCursorRow).where(PlannerCursorRow.name == CURSOR)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.scalar(statement)


def _slot_columns() -> tuple[Any, ...]:
    return (
        DoseSlotRow.id,
        DoseSlotRow.patient_id,
        DoseSlotRow.plan_id,
        DoseSlotRow.due_at,
        DoseSlotRow.dose_ug,
        DoseSlotRow.how,
        DoseSlotRow.step_number,
        DoseSlotRow.recorded,
        PlanRow.drug,
        PatientRow.time_zone,
        PatientRow.name,
    )


def _slots(session: Session, *conditions: Any) -> list[_Slot]:
    rows = session.execute(
        select(*_slot_columns())
        .join(PlanRow, PlanRow.id == DoseSlotRow.plan_id)
        .join(PatientRow, PatientRow.id == DoseSlotRow.patient_id)
        .where(*conditions)
        .order_by(DoseSlotRow.due_at, DoseSlotRow.id)
    ).all()
    return [_Slot(*row) for row in rows]


def _open_slots_due(session: Session, start: datetime, end: datetime) -> list[_Slot]:
    """Slots with nothing taken (nothing recorded or skipped), due in (start, end]: the
    partial index ``ix_dose_slots_due_not_taken``."""
    return _slots(session, NOT_TAKEN, DoseSlotRow.due_at > start, DoseSlotRow.due_at <= end)


# --- dose reminders ----------------------------------------------------------------------------


def _dose_reminders(session: Session, since: datetime, until: datetime, now: datetime) -> list[Announcement]:
    found = []
    for slot in _open_slots_due(session, since, until):
        if slot.recorded is not None:  # skipped ahead of time: no reminder
            continue
        zone = ZoneInfo(slot.time_zone)
        due = slot.due_at.replace(tzinfo=UTC)
        dose_mg = slot.dose_ug / 1000
        found.append(
            Announcement(
                kind="dose_reminder",
                level="info",
                subject=f"s{slot.id}",
                patient_id=slot.patient_id,
                audience=FAMILY,
                text=dose_reminder_text(
                    drug=slot.drug,
                    dose_mg=dose_mg,
                    how=slot.how,
                    due_local=due.astimezone(zone),
                    follow_up=False,
                ),
                url=f"/patients/{slot.patient_id}/today",
                due=due,
                stale_at=due + REMINDER_USEFUL_FOR,
                payload={
                    "slot_id": slot.id,
                    "actions": DOSE_ACTIONS,
                    "drug": slot.drug,
                    "dose_mg": dose_mg,
                    "how": slot.how,
                },
                gate="dose_reminders",
            )
        )
    return found


DOSE_ACTIONS = [{"action": "taken", "title": "Taken"}, {"action": "snooze", "title": "Snooze 15 min"}]


def _follow_ups(
    session: Session, announcements: list[Announcement], recipients: dict[int, list[Recipient]], now: datetime
) -> int:
    """One follow-up per dose reminder, at each person's chosen delay (cancelled when sent if
    the dose was recorded meanwhile)."""
    follow_ups = []
    for item in announcements:
        if item.kind != "dose_reminder":
            continue
        for person in recipients.get(item.patient_id, []):
            minutes = person.prefs.follow_up_minutes
            if not minutes or person.relation not in item.audience or not person.prefs.dose_reminders:
                continue
            local_due = item.due.astimezone(ZoneInfo(person.prefs.time_zone))
            follow_due = item.due + timedelta(minutes=minutes)
            follow_ups.append(
                Announcement(
                    kind="dose_follow_up",
                    level="info",
                    subject=item.subject,
                    patient_id=item.patient_id,
                    audience=item.audience,
                    text=dose_reminder_text(
                        drug=item.payload["drug"],
                        dose_mg=item.payload["dose_mg"],
                        how=item.payload["how"],
                        due_local=local_due,
                        follow_up=True,
                    ),
                    url=item.url,
                    due=follow_due,
                    stale_at=follow_due + REMINDER_USEFUL_FOR,
                    payload=item.payload,
                    gate="dose_reminders",
                    only_user=person.user_id,
                )
            )
    return announce(session, follow_ups, now=now, recipients=recipients)


def snooze_announcement(
    slot_id: int, patient_id: int, user_id: int, *, title: str, body: str, at: datetime
) -> Announcement:
    return Announcement(
        kind="dose_snoozed",
        level="info",
        subject=f"s{slot_id}@{to_utc(at):%Y%m%dT%H%M}",
        patient_id=patient_id,
        audience=FAMILY,
        text=Text(title=title, body=body),
        url=f"/patients/{patient_id}/today",
        due=at,
        stale_at=at + REMINDER_USEFUL_FOR,
        payload={"slot_id": slot_id, "actions": DOSE_ACTIONS},
        only_user=user_id,
    )


# --- withdrawal-risk alerts --------------------------------------------------------------------


def thresholds_by_patient(session: Session, patient_ids: Iterable[int]) -> dict[int, AlertThresholds]:
    ids = sorted(set(patient_ids))
    rows = (
        session.scalars(select(AlertSettingRow).where(AlertSettingRow.patient_id.in_(ids))).all()
        if ids
        else []
    )
    return {row.patient_id: thresholds_from_row(row) for row in rows}


def _groups(session: Session, attribute: str) -> dict[int, set[int] | None]:
    """Each threshold value in use -> the patients with it (None: everyone without settings)."""
    default = getattr(AlertThresholds(), attribute)
    groups: dict[int, set[int] | None] = {default: None}
    custom: dict[int, set[int]] = defaultdict(set)
    for patient_id, value in session.execute(
        select(AlertSettingRow.patient_id, getattr(AlertSettingRow, attribute))
    ):
        custom[value].add(patient_id)
    for value, patients in custom.items():
        if value != default:
            groups[value] = patients
    return groups


def _custom_patients(session: Session) -> set[int]:
    return set(session.scalars(select(AlertSettingRow.patient_id)))


def _in_group(patient_id: int, members: set[int] | None, custom: set[int], value: int, default: int) -> bool:
    if members is None:  # the default group: patients without settings, or settings at the default
        return patient_id not in custom or value == default
    return patient_id in members


def _last_taken(session: Session, patient_ids: set[int]) -> dict[int, tuple[datetime, int]]:
    """Per patient: the last dose taken (naive UTC) and its event id."""
    if not patient_ids:
        return {}
    latest = (
        select(DoseSlotRow.patient_id, func.max(DoseEventRow.taken_at).label("taken_at"))
        .join(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .where(DoseSlotRow.patient_id.in_(sorted(patient_ids)), DoseEventRow.status.in_(TAKEN))
        .group_by(DoseSlotRow.patient_id)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.patient_id, latest.c.taken_at, func.max(DoseEventRow.id))
        .join(DoseSlotRow, DoseSlotRow.patient_id == latest.c.patient_id)
        .join(
            DoseEventRow,
            and_(DoseEventRow.slot_id == DoseSlotRow.id, DoseEventRow.taken_at == latest.c.taken_at),
        )
        .where(DoseEventRow.status.in_(TAKEN))
        .group_by(latest.c.patient_id, latest.c.taken_at)
    ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def _withdrawal_alerts(
    session: Session, since: datetime, until: datetime, now: datetime
) -> list[Announcement]:
    custom = _custom_patients(session)
    warnings = _warning_candidates(session, since, until, custom)
    urgent = _urgent_candidates(session, since, until, custom)
    last = _last_taken(session, set(warnings) | set(urgent))
    names = _patients(session, set(warnings) | set(urgent))
    monographs: dict[str, Any] = {}
    found: list[Announcement] = []
    for patient_id, (slot, why) in warnings.items():
        taken = last.get(patient_id)
        if taken is not None and taken[0] >= slot.due_at:
            continue  # a dose was taken since: not a gap
        found.append(
            _withdrawal(slot.drug, patient_id, names[patient_id], False, why, taken, monographs, now)
        )
    for patient_id, (maybe_slot, why, taken_at) in urgent.items():
        taken = last.get(patient_id)
        if maybe_slot is not None:
            if taken is not None and taken[0] >= maybe_slot.due_at:
                continue
        elif taken is None or taken[0] != taken_at or not _dose_expected(session, patient_id, taken[0], now):
            continue  # a later dose was taken, or none was due since (a finished taper)
        drug = maybe_slot.drug if maybe_slot else _drug_of(session, patient_id)
        found.append(_withdrawal(drug, patient_id, names[patient_id], True, why, taken, monographs, now))
    return found


def _warning_candidates(
    session: Session, since: datetime, until: datetime, custom: set[int]
) -> dict[int, tuple[_Slot, str]]:
    """Patients with a dose ``late_hours`` overdue, or ``missed_in_row`` not taken in a row."""
    defaults = AlertThresholds()
    thresholds = thresholds_by_patient(session, custom)
    warnings: dict[int, tuple[_Slot, str]] = {}
    for hours, members in _groups(session, "late_hours").items():
        span = timedelta(hours=hours)
        for slot in _open_slots_due(session, since - span, until - span):
            if _in_group(slot.patient_id, members, custom, hours, defaults.late_hours):
                warnings.setdefault(slot.patient_id, (slot, f"{hours}h"))
    # each dose is looked at once it is past its on-time hour
    candidates = _open_slots_due(session, since - REMINDER_USEFUL_FOR, until - REMINDER_USEFUL_FOR)
    in_row = _not_taken_in_row(session, candidates)
    for slot in candidates:
        wanted = thresholds.get(slot.patient_id, defaults).missed_in_row
        if in_row.get(slot.id, 0) >= wanted:
            warnings.setdefault(slot.patient_id, (slot, f"{wanted} in a row"))
    return warnings


def _urgent_candidates(
    session: Session, since: datetime, until: datetime, custom: set[int]
) -> dict[int, tuple[_Slot | None, str, datetime | None]]:
    """Patients reaching ``no_dose_hours`` without a dose: counted from the last dose taken,
    or from a dose due with none taken since before it (no dose ever, or long ago)."""
    default = AlertThresholds().no_dose_hours
    urgent: dict[int, tuple[_Slot | None, str, datetime | None]] = {}
    for hours, members in _groups(session, "no_dose_hours").items():
        span = timedelta(hours=hours)
        for patient_id, taken_at in _taken_between(session, since - span, until - span):
            if _in_group(patient_id, members, custom, hours, default):
                urgent.setdefault(patient_id, (None, f"{hours}h", taken_at))
        for slot in _open_slots_due(session, since - span, until - span):
            if _in_group(slot.patient_id, members, custom, hours, default):
                urgent.setdefault(slot.patient_id, (slot, f"{hours}h", None))
    return urgent


def _not_taken_in_row(session: Session, slots: list[_Slot]) -> dict[int, int]:
    """For each slot: how many slots in a row up to it (itself included) have nothing taken."""
    if not slots:
        return {}
    patients = {slot.patient_id for slot in slots}
    earliest = min(slot.due_at for slot in slots) - timedelta(days=3)
    latest = max(slot.due_at for slot in slots)
    history: dict[int, list[tuple[datetime, int, bool]]] = defaultdict(list)
    for row in session.execute(
        select(DoseSlotRow.patient_id, DoseSlotRow.due_at, DoseSlotRow.id, DoseSlotRow.recorded)
        .where(
            DoseSlotRow.patient_id.in_(sorted(patients)),
            DoseSlotRow.due_at > earliest,
            DoseSlotRow.due_at <= latest,
        )
        .order_by(DoseSlotRow.due_at, DoseSlotRow.id)
    ):
        history[row.patient_id].append((row.due_at, row.id, row.recorded in TAKEN))
    counts: dict[int, int] = {}
    for entries in history.values():
        run = 0
        for _, slot_id, taken in entries:
            run = 0 if taken else run + 1
            counts[slot_id] = run
    return counts


def _taken_between(session: Session, start: datetime, end: datetime) -> list[tuple[int, datetime]]:
    rows = session.execute(
        select(DoseSlotRow.patient_id, DoseEventRow.taken_at)
        .join(DoseSlotRow, DoseSlotRow.id == DoseEventRow.slot_id)
        .where(DoseEventRow.taken_at > start, DoseEventRow.taken_at <= end, DoseEventRow.status.in_(TAKEN))
    ).all()
    return [(row[0], row[1]) for row in rows if row[0] is not None and row[1] is not None]


def _dose_expected(session: Session, patient_id: int, after: datetime, now: datetime) -> bool:
    """Whether a dose was due after ``after`` (a finished taper expects none)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(DoseSlotRow)
            .where(
                DoseSlotRow.patient_id == patient_id,
                DoseSlotRow.due_at > after,
                DoseSlotRow.due_at <= to_utc(now),
            )
        )
        or 0
    ) > 0


def _drug_of(session: Session, patient_id: int) -> str:
    drug = session.scalar(
        select(PlanRow.drug).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
    )
    return drug or "baclofen"


def _patients(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(PatientRow.id, PatientRow.name).where(PatientRow.id.in_(sorted(ids)))).all()
    )


def _withdrawal(
    drug: str,
    patient_id: int,
    name: str,
    is_urgent: bool,
    why: str,
    taken: tuple[datetime, int] | None,
    monographs: dict[str, Any],
    now: datetime,
) -> Announcement:
    monograph = monographs.setdefault(drug, load_monograph(drug))
    advice = next(a for a in monograph.advice if a.code == "NEVER_STOP_ABRUPTLY")
    episode = f"e{taken[1]}" if taken is not None else "none"
    if is_urgent:
        hours = why.removesuffix("h")
        reason = f"taken no {drug} for {hours} hours or more"
    elif why.endswith("h"):
        reason = f"taken nothing for {why.removesuffix('h')} hours after a dose was due"
    else:
        reason = f"not taken {why.replace(' in a row', '')} doses in a row"
    texts = {
        relation: withdrawal_text(
            patient_name=name,
            urgent=is_urgent,
            reason=reason,
            warning_text=advice.message,
            warning_sources=advice.source,
            for_patient=relation == "patient",
        )
        for relation in ("patient", "caregiver", "clinician")
    }
    return Announcement(
        kind="withdrawal_urgent" if is_urgent else "withdrawal_warning",
        level="urgent" if is_urgent else "warning",
        subject=f"p{patient_id}:{episode}",
        patient_id=patient_id,
        audience=EVERYONE if is_urgent else FAMILY,
        texts=texts,  # type: ignore[arg-type]
        url=f"/patients/{patient_id}/today",
        due=now,
        stale_at=None,  # a safety alert is sent however late
        payload={"thresholds": why, "source": "baclofen.md section 10 (product default)"},
    )


# --- once a day, at a local time: heads-ups and review dates -----------------------------------


def _crossings(zone: ZoneInfo, clock: time, since: datetime, until: datetime) -> list[date]:
    """The local dates whose ``clock`` falls in (since, until] (naive UTC bounds)."""
    start = since.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    end = until.replace(tzinfo=UTC).astimezone(zone).date()
    days = []
    day = start
    while day <= end:
        moment = to_utc(localize(day, clock, zone))
        if since < moment <= until:
            days.append(day)
        day += timedelta(days=1)
    return days


def _zones(session: Session) -> dict[str, list[int]]:
    """Patients with a plan, by time zone."""
    zones: dict[str, list[int]] = defaultdict(list)
    for patient_id, zone in session.execute(
        select(PatientRow.id, PatientRow.time_zone).where(
            select(PlanRow.id).where(PlanRow.patient_id == PatientRow.id).exists()
        )
    ):
        zones[zone].append(patient_id)
    return zones


def _daily(session: Session, since: datetime, until: datetime) -> list[Announcement]:
    found: list[Announcement] = []
    for zone_name, patients in _zones(session).items():
        zone = ZoneInfo(zone_name)
        for day in _crossings(zone, HEADS_UP_AT, since, until):
            found += _heads_ups(session, zone, day, patients)
        for day in _crossings(zone, REVIEW_REMINDER_AT, since, until):
            found += _review_dates(session, zone, day, patients)
    return found


def _heads_ups(session: Session, zone: ZoneInfo, today: date, patients: list[int]) -> list[Announcement]:
    """The evening before the doses change: what changes, per dose time, and the new total."""
    start = to_utc(localize(today, time(0), zone))
    middle = to_utc(localize(today + timedelta(days=1), time(0), zone))
    end = to_utc(localize(today + timedelta(days=2), time(0), zone))
    days: dict[int, tuple[list[_Slot], list[_Slot]]] = defaultdict(lambda: ([], []))
    for chunk_start in range(0, len(patients), 900):
        chunk = patients[chunk_start : chunk_start + 900]
        for slot in _slots(
            session, DoseSlotRow.patient_id.in_(chunk), DoseSlotRow.due_at >= start, DoseSlotRow.due_at < end
        ):
            days[slot.patient_id][0 if slot.due_at < middle else 1].append(slot)
    found = []
    for patient_id, (now_slots, next_slots) in days.items():
        if not now_slots or not next_slots:
            continue  # a plan that starts or ends tomorrow says so itself
        before = {_clock(s, zone): s for s in now_slots}
        after = {_clock(s, zone): s for s in next_slots}
        changes = []
        for clock in sorted(set(before) | set(after)):
            was, becomes = before.get(clock), after.get(clock)
            if was is not None and becomes is not None and was.dose_ug == becomes.dose_ug:
                continue
            changes.append(
                (
                    clock,
                    f"{format_mg(was.dose_ug / 1000)}, {was.how}" if was else "no dose",
                    f"{format_mg(becomes.dose_ug / 1000)}, {becomes.how}" if becomes else "no dose",
                )
            )
        if not changes:
            continue
        total_mg = sum(s.dose_ug for s in next_slots) / 1000
        drug = next_slots[0].drug
        tomorrow = localize(today + timedelta(days=1), time(12), zone)
        found.append(
            Announcement(
                kind="step_change",
                level="info",
                subject=f"p{patient_id}:{today + timedelta(days=1):%Y-%m-%d}",
                patient_id=patient_id,
                audience=FAMILY,
                text=step_change_text(drug=drug, changes=changes, total_mg=total_mg, day_local=tomorrow),
                url=f"/patients/{patient_id}/plans",
                due=localize(today, HEADS_UP_AT, zone),
                stale_at=to_aware(middle),  # not worth sending after midnight
                payload={"day": (today + timedelta(days=1)).isoformat()},
                gate="heads_up",
            )
        )
    return found


def to_aware(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC)


def _clock(slot: _Slot, zone: ZoneInfo) -> str:
    return slot.due_at.replace(tzinfo=UTC).astimezone(zone).strftime("%H:%M")


def _review_dates(session: Session, zone: ZoneInfo, today: date, patients: list[int]) -> list[Announcement]:
    """A week before the plan's review date and on the day: the patient and the clinicians."""
    from dosewise.services.doses import _plan_dates

    found = []
    for chunk_start in range(0, len(patients), 900):
        chunk = patients[chunk_start : chunk_start + 900]
        for patient_id, record in session.execute(
            select(PlanRow.patient_id, PlanRow.record).where(
                PlanRow.patient_id.in_(chunk), PlanRow.superseded_at.is_(None)
            )
        ):
            review_on = _plan_dates(record)[2]
            if review_on is None or review_on not in (today, today + timedelta(days=7)):
                continue
            when = "today" if review_on == today else f"on {review_on:%a %-d %b}"
            words = Text(
                title=f"Plan review due {when}",
                body=f"The baclofen plan is due for review with the prescriber {when}: is it helping, "
                "and are there side effects? The report has the diary to bring.",
            )
            found.append(
                Announcement(
                    kind="review_date",
                    level="info",
                    subject=f"p{patient_id}:{review_on.isoformat()}:{(review_on - today).days}",
                    patient_id=patient_id,
                    audience=frozenset({"patient", "clinician"}),
                    text=words,
                    url=f"/patients/{patient_id}/report",
                    due=localize(today, REVIEW_REMINDER_AT, zone),
                    stale_at=None,
                    payload={"review_on": review_on.isoformat()},
                )
            )
    return found


# --- supply: once an hour, every patient with stock recorded ---------------------------------

SUPPLY_CURSOR = "supply"
SUPPLY_EVERY = timedelta(hours=1)  # a setting: the thresholds are days apart


def plan_supply_alerts(engine: Engine, *, now: datetime) -> int:
    """Warnings at the supply thresholds (section 10: the patient at 7 days, caregivers too at
    3, everyone urgently at 1 and when a dose cannot be made), once per threshold per refill.
    The forecasts are read outside the write transaction; only the messages are written in it."""
    from dosewise.services.supply import every_patients_thresholds, supply_statuses

    now_utc = to_utc(now)
    with read_only(engine) as session:
        cursor = session.get(PlannerCursorRow, SUPPLY_CURSOR)
        if cursor is not None and now_utc - cursor.until < SUPPLY_EVERY:
            return 0
        statuses = supply_statuses(
            session, patient_ids=None, now=now, thresholds=every_patients_thresholds(session)
        )
        names = _patients(session, {s.patient_id for s in statuses.values() if s.level != "ok"})
    announcements = [
        _supply_alert(status, names[status.patient_id], now)
        for status in statuses.values()
        if status.level != "ok"
    ]
    with unit_of_work(engine) as session:
        statement = select(PlannerCursorRow).where(PlannerCursorRow.name == SUPPLY_CURSOR)
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update()
        cursor = session.scalar(statement)
        if cursor is not None and now_utc - cursor.until < SUPPLY_EVERY:
            return 0  # another worker did this hour
        written = announce(session, announcements, now=now)
        if cursor is None:
            session.add(PlannerCursorRow(name=SUPPLY_CURSOR, until=now_utc))
        else:
            cursor.until = now_utc
    return written


SUPPLY_AUDIENCE = {"warning": PATIENT_ONLY, "caregivers": FAMILY, "urgent": EVERYONE, "out": EVERYONE}


def _supply_alert(status: Any, name: str, now: datetime) -> Announcement:
    level: Level = "urgent" if status.level in ("urgent", "out") else "warning"
    days = "less than a day" if status.days_left < 1 else f"about {status.days_left:.0f} days"
    headline = "Out of baclofen" if status.level == "out" else f"Baclofen runs out in {days}"
    texts = {
        relation: Text(
            title=("Urgent: " if level == "urgent" else "")
            + headline
            + ("" if relation == "patient" else f" ({name})"),
            body=f"{status.message} {status.explanation}",
            sources=tuple(status.sources),
        )
        for relation in ("patient", "caregiver", "clinician")
    }
    return Announcement(
        kind="supply",
        level=level,
        subject=f"p{status.patient_id}:{status.episode}:{status.level}",
        patient_id=status.patient_id,
        audience=SUPPLY_AUDIENCE[status.level],
        texts=texts,  # type: ignore[arg-type]
        url=f"/patients/{status.patient_id}/supply",
        due=now,
        stale_at=None,  # running out means an abrupt stop: always sent
        payload={"days_left": None if status.days_left == float("inf") else status.days_left},
    )
