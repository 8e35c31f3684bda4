"""Missed-dose advice: window edges, midnight, the next morning, DST [NHS]."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from dosewise.domain.missed_dose import advise_missed_dose
from dosewise.errors import InputError

TIMES = (time(8), time(14), time(20))
LONDON = ZoneInfo("Europe/London")


def advise(monograph, missed, now, times=TIMES, **kwargs):
    return advise_missed_dose(monograph.missed_dose, times=times, missed=missed, now=now, **kwargs)


@pytest.mark.parametrize(
    ("now", "action", "next_dose"),
    [
        (datetime(2026, 12, 1, 15, 0, tzinfo=LONDON), "take_now", "2026-12-01T20:00:00+00:00"),
        (datetime(2026, 12, 1, 17, 59, tzinfo=LONDON), "take_now", "2026-12-01T20:00:00+00:00"),
        (datetime(2026, 12, 1, 18, 0, tzinfo=LONDON), "take_now", "2026-12-01T20:00:00+00:00"),  # exactly 2 h
        (datetime(2026, 12, 1, 18, 1, tzinfo=LONDON), "skip", "2026-12-01T20:00:00+00:00"),  # 1 h 59 min
        (datetime(2026, 12, 1, 18, 30, tzinfo=LONDON), "skip", "2026-12-01T20:00:00+00:00"),
    ],
)
def test_window_edges(monograph, now, action, next_dose):
    advice = advise(monograph, time(14), now)
    assert (advice.action, advice.next_dose.isoformat()) == (action, next_dose)
    assert "Never take two doses together" in advice.message
    assert advice.source == "NHS"


def test_bedtime_dose_noticed_before_midnight_is_taken(monograph):
    advice = advise(monograph, time(20), datetime(2026, 12, 1, 23, 30, tzinfo=LONDON))
    assert advice.action == "take_now"
    assert advice.next_dose.isoformat() == "2026-12-02T08:00:00+00:00"


def test_bedtime_dose_noticed_next_morning(monograph):
    early = advise(monograph, time(20), datetime(2026, 12, 2, 5, 0, tzinfo=LONDON))
    assert early.missed_at.isoformat() == "2026-12-01T20:00:00+00:00"  # yesterday's dose
    assert early.action == "take_now"  # 08:00 is 3 h away
    late = advise(monograph, time(20), datetime(2026, 12, 2, 7, 30, tzinfo=LONDON))
    assert late.action == "skip"
    assert "20:00 yesterday" in late.message


def test_just_after_midnight_uses_yesterday(monograph):
    advice = advise(monograph, time(20), datetime(2026, 12, 2, 0, 5, tzinfo=LONDON))
    assert advice.missed_at.date().isoformat() == "2026-12-01"


def test_dst_counts_real_hours(monograph):
    # Clocks go forward at 01:00 on 2026-03-29 in London: 00:30 -> 02:00 is 30 real minutes.
    times = (time(2), time(10), time(18))
    advice = advise(monograph, time(18), datetime(2026, 3, 29, 0, 30, tzinfo=LONDON), times=times)
    assert advice.action == "skip"  # 02:00 BST is only 30 min away in real time
    # Clocks go back at 02:00 on 2026-10-25: 00:30 -> 02:00 is 2.5 real hours.
    advice = advise(monograph, time(18), datetime(2026, 10, 25, 0, 30, tzinfo=LONDON), times=times)
    assert advice.action == "take_now"


@pytest.mark.parametrize(
    ("times", "missed", "now"),
    [
        ((time(8), time(20)), time(20), datetime(2026, 3, 10, 9, 30, tzinfo=LONDON)),  # 08:00 came since
        (TIMES, time(14), datetime(2026, 12, 1, 21, 0, tzinfo=LONDON)),  # 20:00 came since
        (TIMES, time(14), datetime(2026, 12, 1, 20, 0, tzinfo=LONDON)),  # 20:00 is due right now
        (TIMES, time(8), datetime(2026, 12, 1, 15, 0, tzinfo=LONDON)),  # 14:00 came since
    ],
)
def test_a_later_dose_time_overtakes_the_missed_one(monograph, times, missed, now):
    advice = advise(monograph, missed, now, times=times)
    assert advice.action == "skip"
    assert "a later dose time" in advice.message


def test_window_is_a_setting(monograph):
    now = datetime(2026, 12, 1, 17, 0, tzinfo=LONDON)  # 3 h before 20:00
    assert advise(monograph, time(14), now).action == "take_now"
    assert advise(monograph, time(14), now, window_h=4).action == "skip"


def test_a_day_without_doses_needs_the_prescriber(monograph):
    now = datetime(2026, 12, 2, 15, 0, tzinfo=LONDON)
    advice = advise(monograph, time(14), now, last_taken=datetime(2026, 12, 1, 14, 0, tzinfo=LONDON))
    assert advice.action == "contact_prescriber"
    assert "contact your prescriber before resuming" in advice.message
    assert [w.code for w in advice.warnings] == ["WITHDRAWAL_RISK"]
    recent = advise(monograph, time(14), now, last_taken=datetime(2026, 12, 2, 8, 0, tzinfo=LONDON))
    assert recent.action == "take_now"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"missed": time(13)}, "13:00 is not one of the dose times"),
        ({"window_h": 0}, "between 0 and 12"),
        ({"window_h": float("nan")}, "between 0 and 12"),
        ({"last_taken": datetime(2026, 12, 9, tzinfo=LONDON)}, "cannot be later than now"),
    ],
)
def test_bad_missed_dose_input(monograph, kwargs, message):
    arguments = {"missed": time(14), "now": datetime(2026, 12, 1, 15, tzinfo=LONDON), **kwargs}
    with pytest.raises(InputError, match=message):
        advise(monograph, **arguments)
