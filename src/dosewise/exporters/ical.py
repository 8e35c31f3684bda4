"""Dose reminders as an iCalendar file (RFC 5545) that calendar apps import or subscribe to.

One VEVENT per dose at the patient's local clock time (TZID + VTIMEZONE, so 08:00 stays 08:00
across daylight-saving changes), a display alarm at the dose time, and a UID that is stable
for a drug, day, clock time and zone: importing an updated plan replaces a reminder instead of
adding a second one. :func:`build_schedule_calendar` writes a patient's schedule from now on,
the last step of a plan as a recurring event that never runs out (issue 12).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vDuration

from dosewise.domain.monograph import Monograph, cite_sources
from dosewise.domain.plan import Plan
from dosewise.domain.schedule import DoseEvent, build_dose_events, calculate_day_offsets, localize
from dosewise.domain.units import format_mg

_UID_NAMESPACE = uuid.UUID("6f1f4f8e-4a3b-5c1e-9d2a-0d05e3a1b7c4")
DOSE_EVENT_MINUTES = 10  # how long the calendar entry lasts (not clinical)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminder:
    """One dose to remind of: a planned DoseEvent, or a dose slot stored in the diary."""

    at: datetime  # aware, local
    dose_ug: int
    how: str
    step_number: int  # 1-based
    slot: int  # 0-based position among the day's clock times


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanLabel:
    """What the reminders say about their plan."""

    drug: str
    kind: str
    disclaimer: str
    sources: tuple[str, ...]


def build_dose_uid(drug: str, reminder: Reminder, time_zone: str, *, owner: str = "") -> str:
    """The same for a drug, local day and clock time, zone and slot (and ``owner``, a patient)."""
    local = reminder.at.strftime("%Y-%m-%dT%H:%M")
    seed = f"{drug}|{local}|{time_zone}|{reminder.slot}"
    return f"{uuid.uuid5(_UID_NAMESPACE, f'{owner}|{seed}' if owner else seed)}@dosewise"


def build_dose_summary(monograph: Monograph, reminder: Reminder) -> str:
    """``"Baclofen 15 mg: 1 x 10 mg tablet + 1/2 x 10 mg tablet"``."""
    return f"{monograph.display_name} {format_mg(reminder.dose_ug)} mg: {reminder.how}"


def build_calendar(
    plan: Plan,
    events: Sequence[DoseEvent],
    monograph: Monograph,
    *,
    time_zone: str,
    created: datetime,
) -> bytes:
    """The .ics bytes for ``events`` of ``plan`` (``created`` is the DTSTAMP, aware)."""
    reminders = [
        Reminder(at=e.at, dose_ug=e.dose_ug, how=e.recipe.describe(), step_number=e.step_number, slot=e.slot)
        for e in events
    ]
    label = PlanLabel(drug=plan.drug, kind=plan.kind, disclaimer=plan.disclaimer, sources=plan.sources)
    return build_reminder_calendar(label, reminders, monograph, time_zone=time_zone, created=created)


def build_reminder_calendar(
    plan: PlanLabel,
    reminders: Sequence[Reminder],
    monograph: Monograph,
    *,
    time_zone: str,
    created: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Dosewise//Dosewise dose reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{monograph.display_name} {plan.kind}")
    calendar.add("x-wr-timezone", time_zone)
    sources = ", ".join(plan.sources)
    for event in reminders:
        summary = build_dose_summary(monograph, event)
        entry = Event()
        entry.add("uid", build_dose_uid(plan.drug, event, time_zone))
        entry.add("dtstamp", created)
        entry.add("dtstart", event.at)
        entry.add("duration", timedelta(minutes=DOSE_EVENT_MINUTES))
        entry.add("summary", summary)
        entry.add(
            "description",
            f"Step {event.step_number} of the {plan.kind} plan. {plan.disclaimer} Sources: {sources}.",
        )
        entry.add("categories", ["Medication"])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(0))
        entry.add_component(alarm)
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    content: bytes = calendar.to_ical()
    return content


# --- The schedule from now on: the download and the subscription (issue 12) -----------------
#
# A plan's last step goes on as one recurring event per dose time (RRULE FREQ=DAILY, no end for
# an open-ended plan, ending with the last dose of a taper); the steps before it, where the doses
# change, are one event per dose. Calendar apps poll the subscription: an event keeps its UID
# from one poll to the next, and its SEQUENCE, DTSTAMP and LAST-MODIFIED change only when what it
# says changes (a new plan, or a recurring event whose first dose moved on because time passed).

_REVISION_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # SEQUENCE counts seconds from here (fits int32)
REFRESH_INTERVAL = timedelta(hours=1)  # how often calendar apps are asked to poll (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledPlan:
    """A plan as far as it is in force: its doses from ``since`` (aware; not before now) until
    ``until`` (aware; None: until another plan replaces it), as saved at ``revised`` (aware).
    ``left_out`` are dose times of the plan that the diary does not offer (for instance a dose
    too close to one already taken when the plan took over): no reminder for them."""

    plan: Plan
    times: tuple[time, ...]
    time_zone: str
    monograph: Monograph
    revised: datetime
    since: datetime
    until: datetime | None = None
    left_out: frozenset[datetime] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    uid: str
    start: datetime | date
    summary: str
    description: str
    revised: datetime
    alarm: bool = True
    rrule: dict[str, object] | None = None
    exdates: tuple[datetime, ...] = ()


def build_schedule_calendar(plans: Sequence[ScheduledPlan], *, name: str, owner: str, now: datetime) -> bytes:
    """The .ics bytes of the doses of ``plans`` (oldest first), each from its ``since``.

    ``owner`` makes the UIDs one patient's (``"patient-12"``); ``now`` (aware) is when the file
    is made. Dose times stay wall-clock times in each plan's zone (TZID with a VTIMEZONE)."""
    entries: list[_Entry] = []
    for scheduled in plans:
        entries.extend(_plan_entries(scheduled, owner=owner, now=now))
    entries.sort(key=_sort_key)
    calendar = Calendar()
    calendar.add("prodid", "-//Dosewise//Dosewise dose reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if plans:
        calendar.add("x-wr-timezone", plans[-1].time_zone)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for entry in entries:
        calendar.add_component(_event(entry))
    # time zone rules from shortly before the first event (not from 1970: a smaller file)
    first = min((p.since.date() for p in plans), default=now.date()) - timedelta(days=7)
    calendar.add_missing_timezones(first_date=first)
    content: bytes = calendar.to_ical()
    return content


def _sort_key(entry: _Entry) -> tuple[datetime, str]:
    start = entry.start
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(0), tzinfo=UTC)
    return start.astimezone(UTC), entry.uid


def _event(entry: _Entry) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", entry.revised.astimezone(UTC))
    event.add("last-modified", entry.revised.astimezone(UTC))
    event.add("sequence", calculate_sequence(entry.revised))
    event.add("dtstart", entry.start)
    if isinstance(entry.start, datetime):
        event.add("duration", timedelta(minutes=DOSE_EVENT_MINUTES))
    else:
        event.add("dtend", entry.start + timedelta(days=1))
    if entry.rrule is not None:
        event.add("rrule", entry.rrule)
    if entry.exdates:
        event.add("exdate", list(entry.exdates))
    event.add("summary", entry.summary)
    event.add("description", entry.description)
    event.add("categories", ["Medication"])
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT")
    if entry.alarm:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", entry.summary)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
    return event


def calculate_sequence(revised: datetime) -> int:
    """SEQUENCE of an event last changed at ``revised``: seconds since 2024, so it only grows."""
    return max(0, int((revised - _REVISION_EPOCH).total_seconds()))


def build_uid(owner: str, *parts: str) -> str:
    return f"{uuid.uuid5(_UID_NAMESPACE, '|'.join((owner, *parts)))}@dosewise"


def _safety_text(monograph: Monograph) -> tuple[str, str]:
    """The plain safety text of every dose, and its one line of sources."""
    stop = next((a for a in monograph.advice if a.code == "NEVER_STOP_ABRUPTLY"), None)
    drug = monograph.display_name
    text = (
        f"Do not stop {drug.lower()} suddenly. If you miss a dose, see the missed-dose advice in "
        "Dosewise; never take two doses together to make up for one. Agree any change with your "
        "prescriber."
    )
    sources = cite_sources(stop.source if stop else "", monograph.missed_dose.message_source)
    return text, f"Sources: {', '.join(sources)}"


def _plan_entries(scheduled: ScheduledPlan, *, owner: str, now: datetime) -> list[_Entry]:
    plan, monograph = scheduled.plan, scheduled.monograph
    zone = ZoneInfo(scheduled.time_zone)
    since = scheduled.since
    first_day = since.astimezone(zone).date()
    left_out = frozenset(moment.astimezone(UTC) for moment in scheduled.left_out)
    safety, sources = _safety_text(monograph)
    total = len(plan.steps)
    # a plan in force until another one takes over gives single doses only, up to that moment
    series = scheduled.until is None
    events = build_dose_events(
        plan,
        scheduled.times,
        zone,
        since=first_day,
        until=None if scheduled.until is None else scheduled.until.astimezone(zone).date(),
    )
    entries: list[_Entry] = []
    for event in events:
        if event.at < since or event.at.astimezone(UTC) in left_out:
            continue
        if scheduled.until is not None and event.at >= scheduled.until:
            continue
        if series and event.step_number == total:
            continue  # the last step is a recurring event below
        step = plan.steps[event.step_number - 1]
        reminder = Reminder(
            at=event.at,
            dose_ug=event.dose_ug,
            how=event.recipe.describe(),
            step_number=event.step_number,
            slot=event.slot,
        )
        summary = build_dose_summary(monograph, reminder)
        where = (
            f"Step {event.step_number} of {total} of your {plan.kind} plan: "
            f"{format_mg(step.daily_ug)} mg a day from {_day(step.start)} to {_day(step.end)}."
        )
        entries.append(
            _Entry(
                uid=build_dose_uid(plan.drug, reminder, scheduled.time_zone, owner=owner),
                start=event.at,
                summary=summary,
                description=f"{summary}.\n{where}\n{safety}\n{sources}",
                revised=scheduled.revised,
            )
        )
    if series:
        entries.extend(_series_entries(scheduled, zone, left_out, owner=owner, now=now))
        entries.extend(_day_entries(scheduled, first_day, owner=owner))
    return entries


def _series_entries(
    scheduled: ScheduledPlan, zone: ZoneInfo, left_out: frozenset[datetime], *, owner: str, now: datetime
) -> list[_Entry]:
    """The last step, one recurring event per dose time from its first dose not before ``since``."""
    plan, monograph = scheduled.plan, scheduled.monograph
    last = plan.steps[-1]
    safety, sources = _safety_text(monograph)
    entries: list[_Entry] = []
    offsets = calculate_day_offsets(scheduled.times)  # times after midnight: the next date
    for slot, (clock, offset, dose_ug, recipe) in enumerate(
        zip(scheduled.times, offsets, last.doses_ug, last.recipes, strict=True)
    ):
        if not dose_ug or recipe is None:
            continue
        shift = timedelta(days=offset)
        end_day = None if plan.open_ended else last.end + shift
        day = max(last.start + shift, scheduled.since.astimezone(zone).date())
        while (
            localize(day, clock, zone) < scheduled.since
            or localize(day, clock, zone).astimezone(UTC) in left_out
        ):
            day += timedelta(days=1)
        if end_day is not None and day > end_day:
            continue
        excluded = sorted(
            datetime.combine(moment.astimezone(zone).date(), clock, tzinfo=zone)
            for moment in left_out
            if moment.astimezone(zone).date() > day
            and (end_day is None or moment.astimezone(zone).date() <= end_day)
            and localize(moment.astimezone(zone).date(), clock, zone).astimezone(UTC) == moment
        )
        rule: dict[str, object] = {"freq": "daily"}
        if end_day is not None:
            rule["until"] = localize(end_day, clock, zone).astimezone(UTC)
        # the first dose moves on as time passes: the event changed when the dose before it was due
        before = localize(day - timedelta(days=1), clock, zone)
        revised = max(scheduled.revised, before) if before <= now else scheduled.revised
        reminder = Reminder(
            at=localize(day, clock, zone),
            dose_ug=dose_ug,
            how=recipe.describe(),
            step_number=len(plan.steps),
            slot=slot,
        )
        summary = build_dose_summary(monograph, reminder)
        if plan.open_ended:
            where = (
                f"Every day: {format_mg(last.daily_ug)} mg a day, your {plan.kind} plan from "
                f"{_day(last.start)}, until a new plan is agreed with your prescriber."
            )
            if plan.review_on is not None:
                where += f" Plan review: {_day(plan.review_on)}."
        else:
            where = (
                f"Last step of your taper: {format_mg(last.daily_ug)} mg a day until {_day(last.end)}. "
                f"{monograph.display_name} stops after that day's last dose, as agreed with your prescriber."
            )
        entries.append(
            _Entry(
                uid=build_uid(owner, plan.drug, "daily", str(slot), scheduled.time_zone),
                start=datetime.combine(day, clock, tzinfo=zone),  # wall clock, even in a DST gap
                summary=summary,
                description=f"{summary}.\n{where}\n{safety}\n{sources}",
                revised=revised,
                rrule=rule,
                exdates=tuple(excluded),
            )
        )
    return entries


def _day_entries(scheduled: ScheduledPlan, first_day: date, *, owner: str) -> list[_Entry]:
    """All-day events: a taper's stop date, an open-ended plan's review date."""
    plan, monograph = scheduled.plan, scheduled.monograph
    drug = monograph.display_name
    stop = next((a for a in monograph.advice if a.code == "NEVER_STOP_ABRUPTLY"), None)
    stop_sources = ", ".join(cite_sources(stop.source if stop else ""))
    entries: list[_Entry] = []
    if plan.stop_date is not None and plan.stop_date >= first_day:
        entries.append(
            _Entry(
                uid=build_uid(owner, plan.drug, "stopped", scheduled.time_zone),
                start=plan.stop_date,
                summary=f"{drug} stopped after a taper (agreed with the prescriber)",
                description=(
                    f"Your taper ended with the last dose on {_day(plan.end)}: no more {drug.lower()} "
                    "doses are planned. Signs of withdrawal are hallucinations, confusion, seizures, high "
                    "fever, stiff muscles and spasms coming back: if they appear, contact your prescriber at "
                    "once; in an emergency call your local emergency number.\n"
                    f"Sources: {stop_sources}"
                ),
                revised=scheduled.revised,
                alarm=False,
            )
        )
    if plan.open_ended and plan.review_on is not None and plan.review_on >= first_day:
        entries.append(
            _Entry(
                uid=build_uid(owner, plan.drug, "review", scheduled.time_zone),
                start=plan.review_on,
                summary="Plan review with the prescriber",
                description=(
                    f"Your {drug.lower()} plan is due for review with your prescriber. Keep taking your "
                    "doses as planned until a new plan is agreed: never stop suddenly.\n"
                    f"Sources: {stop_sources}"
                ),
                revised=scheduled.revised,
                alarm=False,
            )
        )
    return entries


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
