"""One missed-dose rule (issue 12, point 8), on SQLite and PostgreSQL with a controlled clock:
Today (``doses.today``) and the Missed service give the same answer for a dose at every moment,
from the REAL doses: the missed one, the one after it (a plan change may have moved it) and
the next one to take, never times computed from a plan's dose times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dosewise.domain.adherence import slot_state
from dosewise.domain.missed_dose import advise_missed_slot, too_late_to_take
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services import doses, patients, plans
from dosewise.services.missed_doses import advise_missed, advise_missed_from_diary

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)  # a Tuesday
NEXT = DAY + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def patient(engine):
    """08:00, 14:00, 20:00 from DAY (08:00 and 14:00 taken); at 19:00 a new plan with doses at
    09:00, 15:00 and 21:00 is saved to take over at 21:00 (a stated moment; by default it would
    take over at 20:00, the next dose time): the 20:00 dose stays, and the real dose after it
    is at 21:00, an hour later."""
    monograph = load_monograph("baclofen")
    products = parse_product_specs([], monograph)
    patient_id = patients.create_patient(
        engine, name="P", time_zone="Europe/London", now=at(DAY, 6), actor="test"
    )
    titration = build_titration(monograph, target_daily_mg=30, products=products, start=DAY)
    plans.start_plan(engine, patient_id=patient_id, plan=titration, times=parse_clock_times(None, 3),
                     zone=LONDON, now=at(DAY, 7), actor="test")  # fmt: skip
    for hour in (8, 14):
        slot = next(s for s in doses.list_day(engine, patient_id=patient_id, day=DAY, now=at(DAY, hour))
                    if s.due_at.hour == hour)  # fmt: skip
        doses.record_dose(engine, patient_id=patient_id, slot_id=slot.slot_id, status="taken",
                          now=at(DAY, hour, 5), actor="test")  # fmt: skip
    maintenance = build_maintenance(monograph, daily_mg=15, products=products, start=DAY, days=84)
    later_times = parse_clock_times("09:00,15:00,21:00", 3)
    plans.start_plan(engine, patient_id=patient_id, plan=maintenance, times=later_times, zone=LONDON,
                     now=at(DAY, 19), takes_over=at(DAY, 21), actor="test")  # fmt: skip
    return patient_id


def both_answers(engine, patient, now: datetime, clock: time):
    """Today's state and advice for the dose of ``clock`` o'clock, and the Missed service's."""
    due, _ = doses.today(engine, patient_id=patient, now=now)
    answer = advise_missed_from_diary(engine, patient_id=patient, missed=clock, now=now)
    slot = next(s for s in due.slots if s.slot_id == answer.slot.slot_id)
    assert slot == answer.slot
    by_id = advise_missed_from_diary(engine, patient_id=patient, slot_id=slot.slot_id, now=now)
    assert by_id == answer
    # the next dose named is the real next dose to take, as Today shows it
    assert answer.advice.next_dose == (due.next_dose.due_at if due.next_dose else None)
    if slot.state == "due" and (
        now - slot.due_at > doses.ON_TIME_WINDOW or answer.advice.action != "take_now"
    ):
        assert (slot, answer.advice) in due.overdue  # the very advice Today shows on the card
    else:
        assert slot.slot_id not in [s.slot_id for s, _ in due.overdue]
    return slot.state, answer.advice


@pytest.mark.parametrize(
    ("now", "clock", "state", "action", "words", "next_dose"),
    [
        # 20:10 and 20:56: the real next dose (21:00) is less than 2 h away: too late, on both pages
        (at(DAY, 20, 10), time(20), "missed", "skip", "the next dose is due 21:00 today", at(DAY, 21)),
        (at(DAY, 20, 56), time(20), "missed", "skip", "the next dose is due 21:00 today", at(DAY, 21)),
        # 21:30: the 21:00 dose came since the 20:00 one; the 21:00 one can still be taken
        (at(DAY, 21, 30), time(20), "missed", "skip", "a later dose time (21:00 today)", at(NEXT, 9)),
        (at(DAY, 21, 30), time(21), "due", "take_now", "then the next dose 09:00 tomorrow", at(NEXT, 9)),
        # the next morning: 21:00 last night may be taken until 07:00 (09:00 is then exactly 2 h away)
        (
            at(NEXT, 7),
            time(21),
            "due",
            "take_now",
            "Take the missed dose of 21:00 yesterday now",
            at(NEXT, 9),
        ),
        (at(NEXT, 7, 1), time(21), "missed", "skip", "the next dose is due 09:00 today", at(NEXT, 9)),
        # the dose of the day before, asked about by its clock time, was taken: never take it again
        (at(NEXT, 7), time(14), "on_time", "skip", "do not take it again", at(NEXT, 9)),
    ],
)
def test_today_and_the_missed_page_give_one_answer(
    engine, patient, now, clock, state, action, words, next_dose
):
    found_state, advice = both_answers(engine, patient, now, clock)
    assert (found_state, advice.action) == (state, action)
    assert words in advice.message
    assert advice.next_dose == next_dose
    assert advice.source == "NHS"


def test_the_answer_is_not_the_one_plan_times_would_give(engine, patient):
    """The bug of issue 12: at 20:56 the plan's own times said "take it now" (next 08:00)."""
    from_times = advise_missed(times=parse_clock_times(None, 3), missed=time(20), now=at(DAY, 20, 56))
    assert from_times.action == "take_now"
    _, advice = both_answers(engine, patient, at(DAY, 20, 56), time(20))
    assert advice.action == "skip"


def test_a_day_without_any_dose_taken_says_contact_the_prescriber_everywhere(engine, patient):
    later = at(NEXT, 14, 10)  # 24 h after the last dose taken (14:05)
    _, advice = both_answers(engine, patient, later, time(9))
    assert advice.action == "contact_prescriber"
    assert advice.source == "DOSEWISE"
    assert {w.code for w in advice.warnings} == {"WITHDRAWAL_RISK"}


def test_a_time_with_no_dose_names_the_real_dose_times(engine, patient):
    with pytest.raises(InputError) as error:
        advise_missed_from_diary(engine, patient_id=patient, missed=time(10), now=at(NEXT, 12))
    assert error.value.field == "missed"
    assert "14:00, 20:00, 21:00, 09:00" in str(error.value)
    with pytest.raises(NotFound):
        advise_missed_from_diary(engine, patient_id=patient, slot_id=999_999, now=at(NEXT, 12))


def test_a_diary_without_a_plan_says_so(engine):
    patient = patients.create_patient(
        engine, name="K", time_zone="Europe/London", now=at(DAY, 6), actor="test"
    )
    with pytest.raises(InputError, match="no plan yet"):
        advise_missed_from_diary(engine, patient_id=patient, missed=time(14), now=at(DAY, 15))


@pytest.mark.parametrize("minutes_before", [0, 1, 119, 120, 121, 600])
def test_the_states_and_the_advice_use_one_definition_of_too_late(monograph, minutes_before):
    missed_at, following = at(DAY, 14), at(DAY, 20)
    now = following - timedelta(minutes=minutes_before)
    window = timedelta(hours=monograph.missed_dose.window_h)
    utc = {name: moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
           for name, moment in (("due", missed_at), ("following", following), ("now", now))}  # fmt: skip
    state = slot_state(None, utc["due"], utc["following"], utc["now"], window)
    advice = advise_missed_slot(monograph.missed_dose, missed_at=missed_at, following=following, came=None,
                                next_dose=following, now=now)  # fmt: skip
    assert (state == "missed") == (advice.action == "skip") == too_late_to_take(following, now, window)
    assert (state == "missed") == (minutes_before < 120)
