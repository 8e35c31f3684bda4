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
    next_dose: datetime | None  # the next dose to take from now on (None: no more are planned)
    message: str
    source: str
    window_h: float
    warnings: tuple[Finding, ...] = ()


def too_late_to_take(following: datetime, now: datetime, window: timedelta) -> bool:
    """The one definition of "too late" [NHS], for the advice and for the diary's states: a
    missed dose is taken as soon as remembered unless the dose after it has come, or is due
    in less than ``window``; then it is skipped. ``following`` and ``now`` are both naive
    UTC or both aware (compared in real elapsed time, right across a daylight-saving change)."""
    if following.tzinfo is not None:
        following = following.astimezone(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return now >= following or following - now < window


def check_window(rules: MissedDoseRules, window_h: float | None) -> float:
    window = rules.window_h if window_h is None else window_h
    if not (math.isfinite(window) and 0 < window <= 12):
        raise InputError(f"the window must be between 0 and 12 hours, got {window:g}")
    return window


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
    ``now``), given the dose ``times`` and the current aware time ``now``: the one-off question,
    with the dose times as typed (a diary asks :func:`advise_missed_slot` with its real doses)."""
    if now.tzinfo is None:
        raise InputError("the current time needs a time zone")
    if missed not in times:
        listed = ", ".join(t.strftime("%H:%M") for t in times)
        raise InputError(f"the missed time {missed:%H:%M} is not one of the dose times ({listed})")
    zone = now.tzinfo
    today = now.date()
    missed_at = localize(today, missed, zone)
    if missed_at > now:  # e.g. a bedtime dose noticed the next morning
        missed_at = localize(today - timedelta(days=1), missed, zone)
    planned = [
        localize(day, t, zone)
        for day in (today - timedelta(days=1), today, today + timedelta(days=1))
        for t in times
    ]
    following = min(at for at in planned if at > missed_at)
    came = [at for at in planned if missed_at < at <= now]
    return advise_missed_slot(
        rules,
        missed_at=missed_at,
        following=following,
        came=max(came) if came else None,
        next_dose=min(at for at in planned if at > now),
        now=now,
        window_h=window_h,
        last_taken=last_taken,
    )


def advise_missed_slot(
    rules: MissedDoseRules,
    *,
    missed_at: datetime,
    following: datetime,
    came: datetime | None,
    next_dose: datetime | None,
    now: datetime,
    window_h: float | None = None,
    last_taken: datetime | None = None,
    gap_from_diary: bool = False,
) -> MissedDoseAdvice:
    """What to do about the dose due at ``missed_at``, from the doses really planned around it
    (all aware): ``following`` is when the dose after it is due (after a plan's last dose, the
    usual gap later), ``came`` the latest dose due since it and by ``now`` (None: none came),
    ``next_dose`` the next dose to take from now on (None: no more are planned). The decision
    is :func:`too_late_to_take`, the rule the diary's states use too."""
    if now.tzinfo is None or missed_at.tzinfo is None or following.tzinfo is None:
        raise InputError("the current time needs a time zone")
    window = check_window(rules, window_h)
    when = _describe(missed_at, now)
    next_text = _describe(next_dose, now) if next_dose is not None else None
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
                    (
                        f"No dose recorded in the diary for {hours:.0f} hours. If you did take your doses, "
                        "record them; if not, do not simply restart your usual dose: contact your "
                        "prescriber before resuming."
                        if gap_from_diary
                        else f"No baclofen for {hours:.0f} hours. Do not simply restart your usual dose: "
                        "contact your prescriber before resuming."
                    )
                    + " Watch for withdrawal (hallucinations, confusion, high fever, muscle rigidity, "
                    f"returning spasms): if they appear, call emergency services. {never_double}"
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
    then = (
        f"take the next one {next_text}"
        if next_text is not None
        else "keep to your plan (no more doses are planned)"
    )
    if too_late_to_take(following, now, timedelta(hours=window)):
        if now.astimezone(UTC) >= following.astimezone(UTC):
            # a later dose time has come since: the missed dose is overtaken, never doubled
            later = _describe(came or following, now)
            message = (
                f"Skip the missed dose of {when}: a later dose time ({later}) has already come. "
                f"If you took that dose, carry on and {then}. If you missed it too, ask again about "
                f"that dose. {never_double}"
            )
        elif next_text is None:
            message = (
                f"Skip the missed dose of {when}: it was the plan's last dose and it is now too late to "
                f"take it. No more doses are planned. {never_double}"
            )
        else:
            message = (
                f"Skip the missed dose of {when}: the next dose is due {_describe(following, now)}, in "
                f"less than {window:g} hours. Take that one as normal. {never_double}"
            )
        return MissedDoseAdvice(
            action="skip",
            missed_at=missed_at,
            next_dose=next_dose,
            message=message,
            source=source,
            window_h=window,
        )
    after = (
        f"then the next dose {next_text} as normal"
        if next_text is not None
        else "it is the last dose planned"
    )
    return MissedDoseAdvice(
        action="take_now",
        missed_at=missed_at,
        next_dose=next_dose,
        message=f"Take the missed dose of {when} now, {after}. {never_double}",
        source=source,
        window_h=window,
    )


def advise_recorded_dose(
    rules: MissedDoseRules,
    *,
    missed_at: datetime,
    taken_at: datetime,
    next_dose: datetime | None,
    now: datetime,
) -> MissedDoseAdvice:
    """A dose asked about as missed that the diary has as taken: never take it again [NHS]."""
    then = f" Take the next dose {_describe(next_dose, now)} as normal." if next_dose is not None else ""
    return MissedDoseAdvice(
        action="skip",
        missed_at=missed_at,
        next_dose=next_dose,
        message=(
            f"Your diary has the dose of {_describe(missed_at, now)} as taken at {taken_at:%H:%M}: do not "
            f"take it again. If that record is wrong, correct it on Today, then ask again.{then} Never take "
            "two doses together to make up for a missed one."
        ),
        source=", ".join(cite_sources(rules.message_source)),
        window_h=rules.window_h,
    )


def _describe(at: datetime, now: datetime) -> str:
    """ "14:00 today", "20:00 yesterday", "08:00 tomorrow"."""
    days = (at.date() - now.date()).days
    word = {-1: "yesterday", 0: "today", 1: "tomorrow"}.get(days, at.date().isoformat())
    return f"{at:%H:%M} {word}"
