"""Dose reminders as an iCalendar file (RFC 5545) that calendar apps import.

One VEVENT per dose at the patient's local clock time (TZID + VTIMEZONE, so 08:00 stays 08:00
across daylight-saving changes), a display alarm at the dose time, and a UID that is stable
for a drug, day, clock time and zone: importing an updated plan replaces a reminder instead of
adding a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from dosewise.domain.monograph import Monograph
from dosewise.domain.plan import Plan
from dosewise.domain.schedule import DoseEvent
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


def build_dose_uid(drug: str, reminder: Reminder, time_zone: str) -> str:
    local = reminder.at.strftime("%Y-%m-%dT%H:%M")
    return f"{uuid.uuid5(_UID_NAMESPACE, f'{drug}|{local}|{time_zone}|{reminder.slot}')}@dosewise"


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
