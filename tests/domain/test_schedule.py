"""Dated dose events keep local clock time across daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import build_dose_events, localize, parse_clock_times
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
