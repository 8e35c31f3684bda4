"""A plan becomes dated dose events at the patient's clock times in their time zone.

Clock times are wall-clock times: 08:00 stays 08:00 local across a daylight-saving change.
A time that does not exist on a spring-forward day (02:30 in a 02:00-03:00 gap) moves forward
by the gap, as a wall clock would.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dosewise.domain.plan import Plan
from dosewise.domain.products import Recipe
from dosewise.errors import InputError

# Product defaults (not clinical numbers): waking-day times, evenly spaced.
DEFAULT_CLOCK_TIMES: dict[int, tuple[time, ...]] = {
    3: (time(8), time(14), time(20)),
    4: (time(8), time(12), time(16), time(20)),
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseEvent:
    """One dose to take: when (time-zone aware), how much, and how to make it."""

    at: datetime
    dose_ug: int
    recipe: Recipe
    step_number: int  # 1-based
    slot: int  # 0-based position among the day's clock times


def parse_clock_times(text: str | None, doses_per_day: int) -> tuple[time, ...]:
    """``"08:00,14:00,20:00"`` -> times; the product default for ``None``."""
    if text is None:
        if doses_per_day not in DEFAULT_CLOCK_TIMES:
            raise InputError(f"give the dose times for {doses_per_day} doses a day", field="times")
        return DEFAULT_CLOCK_TIMES[doses_per_day]
    parsed: list[time] = []
    for part in text.split(","):
        match = _CLOCK.match(part.strip())
        if match is None:
            raise InputError(
                f"time {part.strip()!r} must be HH:MM on a 24-hour clock, e.g. 08:00,14:00,20:00"
            )
        parsed.append(time(int(match[1]), int(match[2])))
    if len(parsed) != doses_per_day:
        raise InputError(f"give {doses_per_day} times for {doses_per_day} doses a day, got {len(parsed)}")
    if any(later <= earlier for earlier, later in itertools.pairwise(parsed)):
        raise InputError("times must be in clock order within one day, each later than the one before")
    return tuple(parsed)


def localize(day: date, clock: time, zone: tzinfo) -> datetime:
    """The aware datetime at ``clock`` on ``day`` in ``zone``; a time in a DST gap moves forward."""
    naive = datetime.combine(day, clock)
    local = naive.replace(tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:  # nonexistent wall time
        return round_trip
    return local


def build_dose_events(
    plan: Plan,
    times: tuple[time, ...],
    zone: tzinfo,
    *,
    until: date | None = None,
    since: date | None = None,
) -> list[DoseEvent]:
    """The doses of ``plan`` as dated events, in order, on the days from ``since`` (default:
    the plan's start) through the plan's last step, or through ``until`` for an open-ended plan,
    which continues at its last step's doses (a taper ends on its stop date whatever ``until``
    says). Empty slots give no event."""
    if len(times) != plan.doses_per_day:
        raise InputError(f"give {plan.doses_per_day} times for this plan, got {len(times)}")
    last_day = plan.end if until is None or not plan.open_ended else max(plan.end, until)
    day = max(plan.start, since) if since is not None else plan.start
    events: list[DoseEvent] = []
    numbers = {id(step): number for number, step in enumerate(plan.steps, start=1)}
    while day <= last_day:
        step = plan.step_on(day)
        if step is None:
            break
        for slot, (clock, dose, recipe) in enumerate(zip(times, step.doses_ug, step.recipes, strict=True)):
            if dose and recipe is not None:
                events.append(
                    DoseEvent(
                        at=localize(day, clock, zone),
                        dose_ug=dose,
                        recipe=recipe,
                        step_number=numbers[id(step)],
                        slot=slot,
                    )
                )
        day += timedelta(days=1)
    return events
