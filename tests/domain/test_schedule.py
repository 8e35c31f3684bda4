"""Dated dose events keep local clock time across daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.domain.kidney import assess_creatinine_clearance
from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import (
    build_dose_events,
    calculate_day_offsets,
    check_clock_order,
    check_dose_times,
    crosses_midnight,
    find_dosing_day,
    localize,
    parse_clock_times,
)
from dosewise.domain.taper import build_taper
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError

ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


def plan_from(monograph, start):
    return build_titration(
        monograph, target_daily_mg=60, products=parse_product_specs([], monograph), start=start
    )


def test_london_spring_forward_keeps_0800(monograph):
    zone = ZoneInfo("Europe/London")  # clocks go forward on 2026-03-29
    events = build_dose_events(plan_from(monograph, date(2026, 3, 27)), parse_clock_times(None, 3), zone)
    mornings = [e.at for e in events if e.slot == 0][:4]
    assert [e.strftime("%Y-%m-%d %H:%M %Z") for e in mornings] == [
        "2026-03-27 08:00 GMT", "2026-03-28 08:00 GMT", "2026-03-29 08:00 BST", "2026-03-30 08:00 BST",
    ]  # fmt: skip
    elapsed = [m.astimezone(UTC) for m in mornings]
    gaps = {(b - a) for a, b in itertools.pairwise(elapsed)}
    assert gaps == {timedelta(hours=24), timedelta(hours=23)}  # the DST day is 23 h long


def test_every_dose_of_the_plan_becomes_one_event(monograph):
    plan = plan_from(monograph, date(2026, 12, 1))
    events = build_dose_events(plan, parse_clock_times("07:30,13:00,21:15", 3), ZoneInfo("UTC"))
    assert len(events) == 12 * 3
    assert [e.dose_ug for e in events[:3]] == [5000, 5000, 5000]
    assert events[-1].at.isoformat() == "2026-12-12T21:15:00+00:00"


def test_time_in_a_dst_gap_moves_forward():
    moved = localize(date(2026, 3, 8), time(2, 30), ZoneInfo("America/New_York"))
    assert moved.strftime("%H:%M %Z") == "03:30 EDT"


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    times=st.lists(st.builds(time, st.integers(4, 23), st.integers(0, 59)),
                   min_size=3, max_size=3, unique=True).map(sorted),
)  # fmt: skip
def test_events_keep_local_clock_time(monograph, zone, start, times):
    events = build_dose_events(plan_from(monograph, start), tuple(times), ZoneInfo(zone))
    for event in events:
        assert event.at.time().replace(tzinfo=None) == times[event.slot]  # no DST gap after 04:00
    assert [e.at for e in events] == sorted(e.at for e in events)


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        ("8am,14:00,20:00", 3, "'8am' must be HH:MM"),
        ("08:00,14:00", 3, "give 3 times"),
        ("20:00,14:00,08:00", 3, "clock order"),
        ("08:00,08:00,20:00", 3, "clock order"),
        ("24:00,14:00,20:00", 3, "'24:00' must be HH:MM"),
    ],
)
def test_malformed_times(text, count, message):
    with pytest.raises(InputError, match=message):
        parse_clock_times(text, count)


# ---------------------------------------------------------------- times that cross midnight
def test_times_may_cross_midnight_once_in_order(monograph):
    """22:00, 06:00, 14:00 is a day: its doses run from 22:00 to 14:00 the next day."""
    times = parse_clock_times("22:00,06:00,14:00", 3)
    assert calculate_day_offsets(times) == (0, 1, 1)
    assert crosses_midnight(times)
    plan = plan_from(monograph, date(2026, 12, 1))
    events = build_dose_events(plan, times, ZoneInfo("UTC"))
    first_day = [e.at.strftime("%d %H:%M") for e in events[:3]]
    assert first_day == ["01 22:00", "02 06:00", "02 14:00"]  # one day's three doses, in order
    assert [e.at for e in events] == sorted(e.at for e in events)
    # step 2 (30 mg/day) begins at 22:00 on its first day, 4 Dec: the doses before are step 1's
    by_time = {e.at.strftime("%d %H:%M"): (e.step_number, e.dose_ug) for e in events}
    assert by_time["04 14:00"] == (1, 5000)
    assert by_time["04 22:00"] == (2, 10000)
    # the last day of the plan (12 Dec) ends at 14:00 on 13 Dec
    assert events[-1].at.isoformat() == "2026-12-13T14:00:00+00:00"
    assert len(events) == 12 * 3


def test_a_day_crossing_midnight_counts_its_daily_total_from_its_first_time(monograph):
    plan = plan_from(monograph, date(2026, 12, 1))
    times = parse_clock_times("22:00,06:00,14:00", 3)
    events = build_dose_events(plan, times, ZoneInfo("Europe/London"))
    totals: dict[date, int] = {}
    for event in events:
        day = find_dosing_day(event.at, times)
        totals[day] = totals.get(day, 0) + event.dose_ug
    assert {day: total for day, total in totals.items()} == {
        day: plan.daily_ug_on(day) for day in totals
    }  # every dosing day gives exactly its step's daily total
    assert find_dosing_day(datetime(2026, 12, 2, 6, tzinfo=UTC), times) == date(2026, 12, 1)
    assert find_dosing_day(datetime(2026, 12, 2, 22, tzinfo=UTC), times) == date(2026, 12, 2)
    sorted_times = parse_clock_times(None, 3)
    assert find_dosing_day(datetime(2026, 12, 2, 6, tzinfo=UTC), sorted_times) == date(2026, 12, 2)


def test_since_keeps_the_doses_after_midnight_of_the_day_before(monograph):
    plan = plan_from(monograph, date(2026, 12, 1))
    times = parse_clock_times("22:00,06:00,14:00", 3)
    events = build_dose_events(plan, times, ZoneInfo("UTC"), since=date(2026, 12, 5))
    assert [e.at.strftime("%d %H:%M") for e in events[:3]] == ["05 06:00", "05 14:00", "05 22:00"]


def test_sorted_times_keep_the_calendar_day(monograph):
    times = parse_clock_times("08:00,14:00,20:00", 3)
    assert calculate_day_offsets(times) == (0, 0, 0)
    assert not crosses_midnight(times)
    assert check_dose_times(plan_from(monograph, date(2026, 12, 1)), times) == ()


@pytest.mark.parametrize(
    ("text", "close"),
    [
        ("08:00,08:30,09:00", ["08:00 and 08:30 (30 min apart)", "08:30 and 09:00 (30 min apart)"]),
        ("08:00,10:59,20:00", ["08:00 and 10:59 (2 h 59 min apart)"]),
        ("08:00,11:00,20:00", []),  # exactly 3 hours is fine
        ("20:00,08:00,14:00", []),  # 20:00 then 08:00 the next day: 12 hours
        ("22:00,06:00,21:00", ["21:00 and 22:00 the next day (1 h apart)"]),
        ("00:30,12:00,23:30", ["23:30 and 00:30 the next day (1 h apart)"]),
    ],
)
def test_doses_less_than_3_hours_apart_are_warned(monograph, text, close):
    plan = plan_from(monograph, date(2026, 12, 1))
    found = {f.code: f for f in check_dose_times(plan, parse_clock_times(text, 3))}
    if not close:
        assert "DOSES_CLOSE" not in found
        return
    warning = found["DOSES_CLOSE"]
    assert warning.severity == "warning" and warning.source == "DOSEWISE"
    for pair in close:
        assert pair in warning.message
    assert "Dosewise default" in warning.message and "prescriber may change" in warning.message


def test_empty_dose_times_do_not_count_for_spacing(monograph):
    """7.5 mg/day of 5 mg pieces is one evening dose: two empty times close by are no warning."""
    plan = build_titration(
        monograph, target_daily_mg=60, products=parse_product_specs([], monograph), start=date(2026, 12, 1),
        kidney=assess_creatinine_clearance(monograph.kidney, 45),
    )  # fmt: skip
    assert plan.steps[0].doses_ug == (0, 0, 5000)
    times = parse_clock_times("08:00,09:00,20:00", 3)
    message = next(f.message for f in check_dose_times(plan, times) if f.code == "DOSES_CLOSE")
    assert "08:00 and 09:00" in message  # later steps give both
    assert "09:00 and 20:00" not in message


def test_a_taper_crossing_midnight_says_when_the_last_doses_are(monograph):
    plan = build_taper(monograph, from_daily_mg=30, products=parse_product_specs([], monograph),
                       start=date(2026, 12, 1))  # fmt: skip
    info = next(f for f in check_dose_times(plan, parse_clock_times("22:00,06:00,14:00", 3)))
    assert info.code == "DAY_CROSSES_MIDNIGHT" and info.severity == "info"
    assert f"The last doses are on {plan.stop_date.isoformat()} at 06:00 and 14:00." in info.message


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    clocks=st.lists(st.integers(0, 24 * 60 - 1), min_size=3, max_size=3, unique=True),
    turn=st.integers(0, 2),
)
def test_any_day_crossing_midnight_gives_each_step_its_daily_total(monograph, zone, start, clocks, turn):
    """A rotation of sorted times is a valid day; every dosing day gives its step's total, in
    order, within 24 hours of its first dose."""
    ordered = sorted(clocks)
    times = tuple(time(m // 60, m % 60) for m in ordered[turn:] + ordered[:turn])
    check_clock_order(times)  # any rotation of a day's sorted times is a day
    plan = plan_from(monograph, start)
    events = build_dose_events(plan, times, ZoneInfo(zone))
    assert [e.at for e in events] == sorted(e.at for e in events)
    days: dict[date, list] = {}
    offsets = calculate_day_offsets(times)
    for event in events:
        # the dosing day of the dose's slot: its date less the slot's day offset (a dose time in a
        # spring-forward gap moves forward within its date, so its wall clock is not enough)
        days.setdefault(event.at.date() - timedelta(days=offsets[event.slot]), []).append(event)
    assert min(days) == start and len(days) == (plan.end - plan.start).days + 1
    for day, day_events in days.items():
        assert sum(e.dose_ug for e in day_events) == plan.daily_ug_on(day)
        assert day_events[-1].at - day_events[0].at < timedelta(hours=25)  # one dosing day (a DST day: 25 h)


@pytest.mark.parametrize(
    "text", ["20:00,14:00,08:00", "22:00,06:00,23:00", "22:00,06:00,22:00", "06:00,22:00,06:00"]
)
def test_times_that_are_not_one_day(text):
    with pytest.raises(InputError, match="cross midnight once") as raised:
        parse_clock_times(text, 3)
    assert raised.value.field == "times"


def test_a_dose_time_in_the_spring_forward_gap_keeps_the_night_in_order(monograph):
    """London, 29 March 2026: 01:00-02:00 does not exist. The 01:01 dose moves to 02:01, after
    the 02:00 dose; the events stay in time order and the day keeps its total."""
    plan = plan_from(monograph, date(2026, 3, 27))
    times = (time(0, 0), time(1, 1), time(2, 0))
    night = [
        e
        for e in build_dose_events(plan, times, ZoneInfo("Europe/London"))
        if e.at.date() == date(2026, 3, 29)
    ]
    assert [f"{e.at:%H:%M}" for e in night] == ["00:00", "02:00", "02:01"]
    assert sum(e.dose_ug for e in night) == plan.daily_ug_on(date(2026, 3, 29))
