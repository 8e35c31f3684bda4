"""Missed-dose advice (clinical reference section 5) [NHS].

Take the missed dose as soon as remembered, unless the next dose is due in less than the
window (2 h by default, a setting): then skip it and take the next as normal. Never take two
doses together. Time until the next dose is real elapsed time, so a daylight-saving change is
counted right. After 24 h or more without a dose (product default), do not simply resume:
contact the prescriber and watch for withdrawal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from dosewise.domain.findings import Finding
from dosewise.domain.monograph import MissedDoseRules, cite_sources
from dosewise.domain.schedule import localize
from dosewise.errors import InputError

MissedAction = Literal["take_now", "skip", "contact_prescriber"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedDoseAdvice:
    action: MissedAction
    missed_at: datetime
    next_dose: datetime
    message: str
    source: str
    window_h: float
    warnings: tuple[Finding, ...] = ()


def advise_missed_dose(
    rules: MissedDoseRules,
    *,
    times: tuple[time, ...],
    missed: time,
    now: datetime,
    window_h: float | None = None,
    last_taken: datetime | None = None,
) -> MissedDoseAdvice:
    """What to do about the dose due at ``missed`` (today, or yesterday if that is later than
    ``now``), given the dose ``times`` and the current aware time ``now``."""
    if now.tzinfo is None:
        raise InputError("the current time needs a time zone")
    if missed not in times:
        listed = ", ".join(t.strftime("%H:%M") for t in times)
        raise InputError(f"the missed time {missed:%H:%M} is not one of the dose times ({listed})")
    window = rules.window_h if window_h is None else window_h
    if not (math.isfinite(window) and 0 < window <= 12):
        raise InputError(f"the window must be between 0 and 12 hours, got {window:g}")
    zone = now.tzinfo
    today = now.date()
    missed_at = localize(today, missed, zone)
    if missed_at > now:  # e.g. a bedtime dose noticed the next morning
        missed_at = localize(today - timedelta(days=1), missed, zone)
    next_dose = min(
        at
        for day in (today, today + timedelta(days=1))
        for t in times
        if (at := localize(day, t, zone)) > now
    )
    until_next = next_dose.astimezone(UTC) - now.astimezone(UTC)
    when = _describe(missed_at, now)
    next_text = _describe(next_dose, now)
    never_double = "Never take two doses together to make up for a missed one."
    if last_taken is not None:
        if last_taken.tzinfo is None:
            raise InputError("the time of the last dose taken needs a time zone")
        gap = now.astimezone(UTC) - last_taken.astimezone(UTC)
        if gap < timedelta(0):
            raise InputError("the last dose taken cannot be later than now")
        if gap >= timedelta(hours=rules.long_gap_h):
            hours = gap.total_seconds() / 3600
            return MissedDoseAdvice(
                action="contact_prescriber",
                missed_at=missed_at,
                next_dose=next_dose,
                message=(
                    f"No baclofen for {hours:.0f} hours. Do not simply restart your usual dose: contact "
                    "your prescriber before resuming. Watch for withdrawal (hallucinations, confusion, "
                    "high fever, muscle rigidity, returning spasms): if they appear, call emergency "
                    f"services. {never_double}"
                ),
                source=rules.long_gap_source,
                window_h=window,
                warnings=(
                    Finding(
                        code="WITHDRAWAL_RISK",
                        severity="warning",
                        message=(
                            f"Doses missed for {rules.long_gap_h:g} hours or more in a row: stopping "
                            "suddenly can cause hallucinations, seizures and high fever."
                        ),
                        source="US-TAB, OZO, LYV",
                    ),
                ),
            )
    source = ", ".join(cite_sources(rules.message_source, rules.window_source))
    passed = [
        at
        for day in (today - timedelta(days=1), today)
        for t in times
        if missed_at < (at := localize(day, t, zone)) <= now
    ]
    if passed:  # a later dose time has come since: the missed dose is overtaken, never doubled
        later = _describe(max(passed), now)
        return MissedDoseAdvice(
            action="skip",
            missed_at=missed_at,
            next_dose=next_dose,
            message=(
                f"Skip the missed dose of {when}: a later dose time ({later}) has already come. "
                f"If you took that dose, carry on and take the next one {next_text}. If you missed it "
                f"too, ask again about that dose. {never_double}"
            ),
            source=source,
            window_h=window,
        )
    if until_next < timedelta(hours=window):
        return MissedDoseAdvice(
            action="skip",
            missed_at=missed_at,
            next_dose=next_dose,
            message=(
                f"Skip the missed dose of {when}: the next dose is due {next_text}, in less than "
                f"{window:g} hours. Take that one as normal. {never_double}"
            ),
            source=source,
            window_h=window,
        )
    return MissedDoseAdvice(
        action="take_now",
        missed_at=missed_at,
        next_dose=next_dose,
        message=(
            f"Take the missed dose of {when} now, then the next dose {next_text} as normal. {never_double}"
        ),
        source=source,
        window_h=window,
    )


def _describe(at: datetime, now: datetime) -> str:
    """ "14:00 today", "20:00 yesterday", "08:00 tomorrow"."""
    days = (at.date() - now.date()).days
    word = {-1: "yesterday", 0: "today", 1: "tomorrow"}.get(days, at.date().isoformat())
    return f"{at:%H:%M} {word}"
