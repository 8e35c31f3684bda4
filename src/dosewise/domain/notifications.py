"""What Dosewise tells people unasked, and when: pure rules (no clock, no store).

The thresholds are baclofen.md section 10's product defaults ("Withdrawal-risk alerts",
"Supply"), changeable per patient by a clinician within :data:`THRESHOLD_LIMITS` (limits of the
form, not clinical numbers). Quiet hours hold back what can wait; a dose reminder of one's own
dose and an urgent or emergency alert never wait.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from dosewise.errors import InputError

Level = Literal["info", "warning", "urgent", "emergency"]
Channel = Literal["in_app", "push", "email"]
CHANNELS: tuple[Channel, ...] = ("in_app", "push", "email")
Kind = Literal[
    "dose_reminder",
    "dose_follow_up",
    "dose_snoozed",
    "step_change",
    "withdrawal_warning",
    "withdrawal_urgent",
    "triage_alert",
    "supply",
    "review_date",
    "plan_changed",
    "review_request",
    "review_answer",
]
# What a dose reminder is worth late: after this it is not sent (the catch-up policy). The
# on-time window of the diary (services.doses.ON_TIME_WINDOW, a setting): a reminder an hour
# late is noise; the missed-dose advice on Today takes over.
REMINDER_USEFUL_FOR = timedelta(hours=1)
SNOOZE = timedelta(minutes=15)  # the "Snooze 15 min" (a setting, not clinical)
DEFAULT_FOLLOW_UP_MINUTES = 30  # one follow-up if nothing is recorded (a setting)
HEADS_UP_AT = time(18, 0)  # "the evening before" a step changes (a setting)
REVIEW_REMINDER_AT = time(9, 0)  # the morning of the plan's review date (a setting)
SECTION_10 = "baclofen.md section 10 (product default)"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertThresholds:
    """Withdrawal-risk and supply thresholds of one patient (product defaults, section 10)."""

    missed_in_row: int = 2  # scheduled doses in a row not taken: alert patient and caregivers
    late_hours: int = 12  # hours beyond a due dose with nothing taken: the same alert
    no_dose_hours: int = 24  # hours without a dose: urgent, clinicians too
    supply_warn_days: int = 7
    supply_caregivers_days: int = 3
    supply_urgent_days: int = 1
    customized: bool = False  # set by a clinician for this patient (else the product defaults)


# The form's limits (not clinical numbers): a threshold outside is a typo.
THRESHOLD_LIMITS: dict[str, tuple[int, int]] = {
    "missed_in_row": (1, 6),
    "late_hours": (2, 24),
    "no_dose_hours": (12, 72),
    "supply_warn_days": (1, 30),
    "supply_caregivers_days": (1, 30),
    "supply_urgent_days": (1, 30),
}
THRESHOLD_LABELS = {
    "missed_in_row": "doses in a row not taken",
    "late_hours": "hours beyond a due dose with nothing taken",
    "no_dose_hours": "hours without any dose (urgent)",
    "supply_warn_days": "days of supply left: warn the patient",
    "supply_caregivers_days": "days of supply left: warn caregivers too",
    "supply_urgent_days": "days of supply left: urgent",
}


def check_thresholds(values: dict[str, int]) -> AlertThresholds:
    """Thresholds from a clinician's form, or InputError saying which to fix."""
    for name, (low, high) in THRESHOLD_LIMITS.items():
        value = values.get(name)
        if value is None:
            raise InputError(f"{THRESHOLD_LABELS[name]}: a whole number is needed", field=name)
        if not low <= value <= high:
            raise InputError(f"{THRESHOLD_LABELS[name]} must be between {low} and {high}", field=name)
    if not values["supply_urgent_days"] <= values["supply_caregivers_days"] <= values["supply_warn_days"]:
        raise InputError(
            "supply days must run warn >= caregivers >= urgent (e.g. 7, 3, 1)", field="supply_caregivers_days"
        )
    if values["late_hours"] >= values["no_dose_hours"]:
        raise InputError(
            "the hours without any dose must be more than the hours beyond a due dose", field="no_dose_hours"
        )
    return AlertThresholds(
        **{f.name: values[f.name] for f in fields(AlertThresholds) if f.name in values}, customized=True
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    """One person's notification preferences."""

    push: bool = True
    email: bool = False
    dose_reminders: bool = True
    heads_up: bool = True
    follow_up_minutes: int = DEFAULT_FOLLOW_UP_MINUTES
    quiet_start: time | None = None
    quiet_end: time | None = None
    time_zone: str = "UTC"
    stored: bool = False  # False: the defaults of the person's role


def default_preferences(role: str, time_zone: str) -> Preferences:
    """A patient gets their dose reminders; a caregiver the heads-ups and alerts; a clinician
    the alerts only (their list is where they work)."""
    return Preferences(
        dose_reminders=role == "patient",
        heads_up=role in ("patient", "caregiver"),
        time_zone=time_zone,
    )


def check_quiet_hours(start: time | None, end: time | None) -> None:
    if (start is None) != (end is None):
        raise InputError("quiet hours need both a start and an end, or neither", field="quiet_start")
    if start is not None and start == end:
        raise InputError("quiet hours must start and end at different times", field="quiet_end")


def is_quiet(moment: time, start: time | None, end: time | None) -> bool:
    """Whether a clock time falls in quiet hours (which may cross midnight: 22:00-07:00)."""
    if start is None or end is None:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def can_wait(kind: Kind, level: Level) -> bool:
    """What quiet hours may hold back: not one's own dose reminders, not urgent alerts."""
    return level in ("info", "warning") and kind not in ("dose_reminder", "dose_follow_up", "dose_snoozed")


def release_time(due: datetime, prefs: Preferences, zone: tzinfo, *, kind: Kind, level: Level) -> datetime:
    """When a message due at ``due`` goes out for this person (the end of quiet hours if it
    falls in them and can wait). Aware in, aware out."""
    if not can_wait(kind, level) or prefs.quiet_start is None or prefs.quiet_end is None:
        return due
    local = due.astimezone(zone)
    if not is_quiet(local.time(), prefs.quiet_start, prefs.quiet_end):
        return due
    end_day = local.date() if local.time() < prefs.quiet_end else local.date() + timedelta(days=1)
    from dosewise.domain.schedule import localize

    return localize(end_day, prefs.quiet_end, zone)


def message_key(kind: str, subject: str, user_id: int, channel: str) -> str:
    """The idempotency key: what, about what, to whom, how."""
    return f"{kind}:{subject}:u{user_id}:{channel}"


def format_mg(dose_mg: float) -> str:
    return f"{dose_mg:g} mg"


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A message's words: title, body, the sources of what it says."""

    title: str
    body: str
    sources: tuple[str, ...] = ()


def dose_reminder_text(*, drug: str, dose_mg: float, how: str, due_local: datetime, follow_up: bool) -> Text:
    clock = due_local.strftime("%H:%M")
    if follow_up:
        return Text(
            title=f"Did you take your {clock} {drug}?",
            body=f"{format_mg(dose_mg)} ({how}) was due at {clock}. Tap Taken if you have taken it; "
            "if not, open Dosewise for what to do now.",
        )
    return Text(
        title=f"{drug.capitalize()} {format_mg(dose_mg)} due at {clock}",
        body=f"Take {how}. Tap Taken when you have taken it.",
    )


def step_change_text(
    *, drug: str, changes: list[tuple[str, str, str]], total_mg: float, day_local: datetime
) -> Text:
    """``changes``: (time, was, becomes) per dose time that changes on ``day_local``'s date. The
    date is written out: the words stay true if quiet hours hold the message past midnight."""
    parts = [f"{clock} dose {becomes} (was {was})" for clock, was, becomes in changes]
    day = day_local.strftime("%a %-d %b")
    return Text(
        title=f"Your {drug} doses change on {day}",
        body=f"From {day}: {'; '.join(parts)}. {format_mg(total_mg)} a day in all. "
        "As agreed with your prescriber.",
    )


def withdrawal_text(
    *,
    patient_name: str,
    urgent: bool,
    reason: str,
    warning_text: str,
    warning_sources: str,
    for_patient: bool,
) -> Text:
    """The withdrawal-risk alert; the signs and "never stop suddenly" come from the monograph."""
    who = "You have" if for_patient else f"{patient_name} has"
    if urgent:
        return Text(
            title=("Urgent: " if for_patient else f"Urgent ({patient_name}): ")
            + "no baclofen dose for a day",
            body=f"{who} {reason}. {warning_text} Watch for hallucinations, confusion, high fever, "
            "muscle rigidity or returning spasms: with any of these, call emergency services. "
            "Do not simply restart a high dose: contact the prescriber now.",
            sources=(*_keys(warning_sources), "DOSEWISE"),
        )
    return Text(
        title=("Doses missed" if for_patient else f"Doses missed ({patient_name})") + ": risk of withdrawal",
        body=f"{who} {reason}. {warning_text} Open Dosewise for what to do with the missed doses.",
        sources=(*_keys(warning_sources), "DOSEWISE"),
    )


def _keys(sources: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in sources.split(",") if key.strip())
