"""A plan becomes dated dose events at the patient's clock times in their time zone.

Clock times are wall-clock times: 08:00 stays 08:00 local across a daylight-saving change.
A time that does not exist on a spring-forward day (02:30 in a 02:00-03:00 gap) moves forward
by the gap, as a wall clock would.

The times of a day are in order and may cross midnight once (baclofen.md section 10): with
22:00, 06:00, 14:00 a *dosing day* runs from 22:00 to 14:00 the next day. A plan's day (a step's
daily total, its first and last day) is that dosing day: it begins at the first time, so the
06:00 and 14:00 doses of a step's day fall on the next calendar date. Sorted times (08:00,
14:00, 20:00) are the plain case: the dosing day is the calendar day.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dosewise.domain.advice import gather_sources
from dosewise.domain.findings import Finding
from dosewise.domain.plan import Plan
from dosewise.domain.products import Recipe
from dosewise.errors import InputError

# Product default [DOSEWISE] (baclofen.md section 10): doses at least this far apart. Plans warn
# below it; a plan change never makes a dose this close to one already taken.
MIN_DOSE_SPACING = timedelta(hours=3)
MIN_DOSE_SPACING_SOURCE = "DOSEWISE"
_DAY = timedelta(days=1)

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
    check_clock_order(tuple(parsed))
    return tuple(parsed)


def check_clock_order(times: Sequence[time]) -> None:
    """The times of one dosing day: in order, each later than the one before, crossing midnight at
    most once and ending before the first time comes round again (22:00,06:00,14:00 is a day;
    20:00,14:00,08:00 is not)."""
    crossings = sum(1 for earlier, later in itertools.pairwise(times) if later < earlier)
    repeated = any(later == earlier for earlier, later in itertools.pairwise(times))
    if repeated or crossings > 1 or (crossings == 1 and times[-1] >= times[0]):
        raise InputError(
            "times must be in clock order through one day, each later than the one before; they may "
            "cross midnight once (e.g. 22:00,06:00,14:00: the day's doses run from 22:00 to 14:00)",
            field="times",
        )


def calculate_day_offsets(times: Sequence[time]) -> tuple[int, ...]:
    """For each time, the days after the dosing day's first date it falls on: 0, or 1 after the
    times cross midnight (22:00, 06:00, 14:00 -> 0, 1, 1)."""
    offsets = [0]
    for earlier, later in itertools.pairwise(times):
        offsets.append(offsets[-1] + (1 if later < earlier else 0))
    return tuple(offsets)


def crosses_midnight(times: Sequence[time]) -> bool:
    return any(calculate_day_offsets(times))


def find_dosing_day(moment: datetime, times: Sequence[time]) -> date:
    """The plan day a local ``moment`` belongs to: its date, or the day before when the times
    cross midnight and ``moment`` is before the day's first time (06:00 of 22:00, 06:00, 14:00)."""
    if crosses_midnight(times) and moment.time().replace(tzinfo=None) < times[0]:
        return moment.date() - _DAY
    return moment.date()


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
    offsets = calculate_day_offsets(times)
    # a dosing day that began the day before ``since`` may have doses on ``since`` (after midnight)
    day = max(plan.start, since - timedelta(days=offsets[-1])) if since is not None else plan.start
    events: list[DoseEvent] = []
    numbers = {id(step): number for number, step in enumerate(plan.steps, start=1)}
    while day <= last_day:
        step = plan.step_on(day)
        if step is None:
            break
        for slot, (clock, offset, dose, recipe) in enumerate(
            zip(times, offsets, step.doses_ug, step.recipes, strict=True)
        ):
            if since is not None and day + timedelta(days=offset) < since:
                continue
            if dose and recipe is not None:
                events.append(
                    DoseEvent(
                        at=localize(day + timedelta(days=offset), clock, zone),
                        dose_ug=dose,
                        recipe=recipe,
                        step_number=numbers[id(step)],
                        slot=slot,
                    )
                )
        day += timedelta(days=1)
    # in order of time: a dose time in a spring-forward gap moves forward by the gap (01:01 ->
    # 02:01 in London) and can pass the next dose time of that night (02:00); each dose keeps
    # its own amount, so the day's total is unchanged (the spacing warning flags such times)
    events.sort(key=lambda event: event.at)
    return events


def check_dose_times(plan: Plan, times: Sequence[time]) -> tuple[Finding, ...]:
    """What the dose times mean for this plan: doses of a day less than :data:`MIN_DOSE_SPACING`
    apart, the last dose of a day and the first of the next included (a Dosewise default the
    prescriber may change), and a day that crosses midnight (what "a day" then is)."""
    findings: list[Finding] = []
    close = _close_doses(plan, times)
    if close:
        hours = MIN_DOSE_SPACING.total_seconds() / 3600
        pairs = "; ".join(
            f"{a:%H:%M} and {b:%H:%M}{' the next day' if next_day else ''} ({_duration(gap)} apart)"
            for a, b, next_day, gap in close
        )
        findings.append(
            Finding(
                code="DOSES_CLOSE",
                severity="warning",
                message=(
                    f"Doses less than {hours:g} hours apart: {pairs}. Dosewise default: doses at least "
                    f"{hours:g} hours apart; the prescriber may change this. Spread the dose times out, "
                    "or agree them with the prescriber."
                ),
                source=MIN_DOSE_SPACING_SOURCE,
            )
        )
    if crosses_midnight(times):
        offsets = calculate_day_offsets(times)
        first, last = times[0], times[-1]
        message = (
            f"The dose times cross midnight: each day's doses run from {first:%H:%M} to {last:%H:%M} "
            f"the next day. A step's daily total is the doses from {first:%H:%M} on one day to "
            f"{last:%H:%M} on the next, and each step begins at {first:%H:%M} on its first day."
        )
        if plan.stop_date is not None:
            after = [
                t
                for t, offset, dose in zip(times, offsets, plan.steps[-1].doses_ug, strict=True)
                if offset and dose
            ]
            if after:
                listed = " and ".join(f"{t:%H:%M}" for t in after)
                message += f" The last doses are on {plan.stop_date.isoformat()} at {listed}."
        findings.append(
            Finding(code="DAY_CROSSES_MIDNIGHT", severity="info", message=message, source="DOSEWISE")
        )
    return tuple(findings)


def add_dose_time_findings(plan: Plan, times: Sequence[time]) -> Plan:
    """``plan`` with the findings of :func:`check_dose_times` among its warnings."""
    found = check_dose_times(plan, times)
    if not found:
        return plan
    warnings = (*plan.warnings, *found)
    return replace(plan, warnings=warnings, sources=gather_sources(*plan.sources, findings=found))


def _close_doses(plan: Plan, times: Sequence[time]) -> list[tuple[time, time, bool, timedelta]]:
    """(earlier, later, later is on the next dosing day, gap) for doses given less than
    :data:`MIN_DOSE_SPACING` apart on any step, each pair once, in the order of the day."""
    offsets = calculate_day_offsets(times)
    moments = [
        datetime.combine(date(2000, 1, 1) + timedelta(days=o), t) for t, o in zip(times, offsets, strict=True)
    ]
    found: dict[tuple[int, int], tuple[time, time, bool, timedelta]] = {}
    for step in plan.steps:
        given = [slot for slot, dose in enumerate(step.doses_ug) if dose]
        pairs = [(a, b, False) for a, b in itertools.pairwise(given)]
        if len(given) > 1:
            pairs.append((given[-1], given[0], True))  # the last dose, then the next day's first
        for a, b, next_day in pairs:
            gap = moments[b] + (_DAY if next_day else timedelta()) - moments[a]
            if gap < MIN_DOSE_SPACING:
                found.setdefault((a, b), (times[a], times[b], next_day, gap))
    return [found[key] for key in sorted(found)]


def _duration(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes:02d} min" if minutes else "")
