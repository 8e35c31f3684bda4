"""The benefit review read from a stored diary, on SQLite and PostgreSQL (baclofen.md section 10).

Each diary, by hand: a labelled titration to 60 mg/day [US-TAB] saved on 4 Jan 2026, starting
5 Jan: 15 mg/day 5-7 Jan, 30 8-10 Jan, 45 11-13 Jan, 60 from 14 Jan. Baseline: the 14 days
before 5 Jan (22 Dec - 4 Jan). Six weeks at 60 mg/day on 24 Feb (14 Jan + 41 days); the current
scores are those of 11-24 Feb. An improvement is a fall of 1 (Penn 0-4) or 2 (stiffness 0-10)
or more (product defaults).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import NotFound
from dosewise.services import patients, plans, symptoms
from dosewise.services.benefit import review_benefits, review_patient_benefit
from dosewise.store.database import read_only
from dosewise.store.models import PlanRow

LONDON = ZoneInfo("Europe/London")
TIMES = parse_clock_times(None, 3)
REVIEW_AT = datetime(2026, 2, 24, 12, 0, tzinfo=LONDON)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def make_diary(engine, monograph, name, *, baseline, current, side_effects=None):
    """A patient with baseline entries from 28 Dec, the titration, and entries from 18 Feb;
    ``side_effects``: (day, {name: severity}) entries at the titration steps."""
    patient = patients.create_patient(engine, name=name, time_zone="Europe/London", now=at(date(2025, 12, 1)),
                                      actor="test")  # fmt: skip
    for number, (penn, nrs) in enumerate(baseline):
        record(engine, patient, date(2025, 12, 28) + timedelta(days=number), penn, nrs)
    plan = build_titration(monograph, target_daily_mg=60, products=parse_product_specs([], monograph),
                           start=date(2026, 1, 5))  # fmt: skip
    plans.start_plan(engine, patient_id=patient, plan=plan, times=TIMES, zone=LONDON,
                     now=at(date(2026, 1, 4), 18), actor="test")  # fmt: skip
    for day, effects in side_effects or []:
        record(engine, patient, day, 3, 7, effects)
    for number, (penn, nrs) in enumerate(current):
        record(engine, patient, date(2026, 2, 18) + timedelta(days=number), penn, nrs)
    return patient


def record(engine, patient, day, penn, nrs, effects=None):
    symptoms.record_symptoms(engine, patient_id=patient, now=at(day), penn_frequency=penn,
                             penn_severity=None if penn == 0 else 2, spasticity_nrs=nrs,
                             side_effects=effects, actor="test")  # fmt: skip


BASELINE = [(3, 7), (3, 7), (3, 6), (3, 6)]  # Penn 3.0, stiffness 6.5
NO_CHANGE = [(3, 6), (3, 6), (2, 6), (2, 6)]  # Penn 2.5 (-0.5), stiffness 6.0 (-0.5)
BETTER = [(1, 4), (1, 4), (2, 4), (2, 4)]  # Penn 1.5 (-1.5), stiffness 4.0 (-2.5)


def test_no_clear_benefit_is_flagged_from_the_stored_diary(engine, monograph):
    patient = make_diary(engine, monograph, "A", baseline=BASELINE, current=NO_CHANGE)
    review = review_patient_benefit(engine, patient_id=patient, now=REVIEW_AT)
    assert review.status == "no_clear_benefit"
    assert review.message.startswith(
        "no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal"
    )
    assert "3.0 before titration, 2.5 now (-0.5)" in review.message
    assert "6.5 before, 6.0 now (-0.5)" in review.message
    assert (review.titration_start, review.stable_since) == (date(2026, 1, 5), date(2026, 1, 14))


def test_improvement_is_benefit_and_the_review_changes_no_plan(engine, monograph):
    patient = make_diary(engine, monograph, "B", baseline=BASELINE, current=BETTER)
    with read_only(engine) as session:
        before = session.execute(select(PlanRow.id, PlanRow.superseded_at, PlanRow.record)).all()
    review = review_patient_benefit(engine, patient_id=patient, now=REVIEW_AT)
    assert review.status == "benefit"
    with read_only(engine) as session:
        assert session.execute(select(PlanRow.id, PlanRow.superseded_at, PlanRow.record)).all() == before


def test_before_six_weeks_is_too_early(engine, monograph):
    patient = make_diary(engine, monograph, "C", baseline=BASELINE, current=NO_CHANGE[:2])
    review = review_patient_benefit(engine, patient_id=patient, now=at(date(2026, 2, 20), 12))
    assert review.status == "too_early"
    assert review.message == "too early: 5 weeks at 60 mg/day; review from 2026-02-24"


def test_side_effects_rising_at_each_step(engine, monograph):
    steps = [
        (date(2026, 1, 9), {"dizziness": 1}),  # 30 mg/day: 1
        (date(2026, 1, 12), {"dizziness": 1, "nausea": 1}),  # 45 mg/day: 2
        (date(2026, 1, 15), {"dizziness": 2, "nausea": 2}),  # 60 mg/day: 4
        (date(2026, 1, 16), {"dizziness": 2, "nausea": 2}),
    ]
    patient = make_diary(engine, monograph, "D", baseline=BASELINE, current=[], side_effects=steps)
    review = review_patient_benefit(engine, patient_id=patient, now=at(date(2026, 1, 20), 12))
    assert review.side_effects is not None
    assert review.side_effects.rising
    assert "30 mg/day: 1.0, 45 mg/day: 2.0, 60 mg/day: 4.0" in review.side_effects.message


def test_a_list_of_patients_is_two_statements(engine, monograph):
    ids = [
        make_diary(engine, monograph, "E", baseline=BASELINE, current=NO_CHANGE),
        make_diary(engine, monograph, "F", baseline=BASELINE, current=BETTER),
        make_diary(engine, monograph, "G", baseline=BASELINE[:2], current=BETTER),
        patients.create_patient(
            engine, name="H", time_zone="Europe/London", now=at(date(2025, 12, 1)), actor="test"
        ),
    ]
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = review_benefits(engine, patient_ids=ids, now=REVIEW_AT)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [found[i].status for i in ids] == [
        "no_clear_benefit",
        "benefit",
        "not_enough_data",
        "not_enough_data",
    ]
    assert "baseline (before titration): 2 entries" in found[ids[2]].reasons[0]
    assert len(statements) == 2


def test_no_such_patient(engine):
    with pytest.raises(NotFound):
        review_patient_benefit(engine, patient_id=999, now=REVIEW_AT)


def test_a_scheduled_plan_replaced_before_it_began_cuts_off_no_plan(engine, monograph):
    # 4 Jan: the titration to 60 mg/day from 5 Jan (60 from 14 Jan). 1 Feb: a plan saved to start
    # on 1 Mar (30 mg/day). 2 Feb: a titration to 45 mg/day from 3 Feb takes over instead, so the
    # 1 Mar plan is replaced before its first day. From 3 Feb: 15 mg/day 3-5 Feb, 30 6-8 Feb, 45
    # from 9 Feb, and 45 goes on (the plan in force): on 20 Mar, 40 days at 45 mg/day.
    products = parse_product_specs([], monograph)
    patient = patients.create_patient(engine, name="S", time_zone="Europe/London", now=at(date(2025, 12, 1)),
                                      actor="test")  # fmt: skip
    for start, target, saved in (
        (date(2026, 1, 5), 60, at(date(2026, 1, 4), 18)),
        (date(2026, 3, 1), 30, at(date(2026, 2, 1), 10)),
        (date(2026, 2, 3), 45, at(date(2026, 2, 2), 10)),
    ):
        plan = build_titration(monograph, target_daily_mg=target, products=products, start=start)
        plans.start_plan(engine, patient_id=patient, plan=plan, times=TIMES, zone=LONDON, now=saved,
                         actor="test", confirm_rise="checked")  # fmt: skip
    review = review_patient_benefit(engine, patient_id=patient, now=at(date(2026, 3, 20), 12))
    assert [(p.first_day, p.daily_ug) for p in review.periods][-4:] == [
        (date(2026, 1, 14), 60000),
        (date(2026, 2, 3), 15000),
        (date(2026, 2, 6), 30000),
        (date(2026, 2, 9), 45000),
    ]
    assert review.periods[-1].last_day is None
    assert (review.stable_daily_ug, review.stable_since) == (45000, date(2026, 2, 9))
    assert review.status == "too_early"
    assert review.message == "too early: 5 weeks at 45 mg/day; review from 2026-03-22"


LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # UTC-8 in winter, UTC-7 from 8 Mar 2026


def la(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOS_ANGELES)


def test_the_windows_are_counted_in_the_patients_local_days(engine, monograph):
    # Los Angeles, doses at 07:00, 15:00 and 23:30; every entry at 22:30 local, which is the next
    # day in UTC. 5 Jan 23:00: a titration to 60 mg/day from that day takes over at 23:30 (6 Jan
    # 07:30 UTC): 15 mg/day from 5 Jan, 30 from 8, 45 from 11, 60 from 14 Jan. 1 Feb 23:00: 45
    # mg/day from that day, taking over at 23:30 (2 Feb 07:30 UTC): stable from 1 Feb (local),
    # 6 weeks on 14 Mar (1 Feb + 41). Baseline: 22 Dec - 4 Jan; current on 14 Mar: 1-14 Mar.
    times = parse_clock_times("07:00,15:00,23:30", 3)
    products = parse_product_specs([], monograph)
    patient = patients.create_patient(engine, name="LA", time_zone="America/Los_Angeles",
                                      now=la(date(2025, 12, 1), 9), actor="test")  # fmt: skip

    def entry(day: date, penn: int, nrs: int) -> None:
        symptoms.record_symptoms(engine, patient_id=patient, now=la(day, 22, 30), penn_frequency=penn,
                                 penn_severity=None if penn == 0 else 2, spasticity_nrs=nrs,
                                 actor="test")  # fmt: skip

    entry(date(2025, 12, 21), 0, 0)  # the day before the baseline (22 Dec in UTC)
    for day in (date(2025, 12, 22), date(2025, 12, 23), date(2025, 12, 24), date(2026, 1, 4)):
        entry(day, 3, 7)  # 4 Jan 22:30 is 5 Jan in UTC: still the baseline
    titration = build_titration(monograph, target_daily_mg=60, products=products, start=date(2026, 1, 5))
    plans.start_plan(engine, patient_id=patient, plan=titration, times=times, zone=LOS_ANGELES,
                     now=la(date(2026, 1, 5), 23), actor="test")  # fmt: skip
    lower = build_maintenance(monograph, daily_mg=45, products=products, start=date(2026, 2, 1), days=28)
    plans.start_plan(engine, patient_id=patient, plan=lower, times=times, zone=LOS_ANGELES,
                     now=la(date(2026, 2, 1), 23), actor="test")  # fmt: skip
    entry(date(2026, 2, 28), 0, 0)  # the day before the current window (1 Mar in UTC)
    for day in (date(2026, 3, 11), date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 14)):
        entry(day, 2, 6)

    # 13 Mar 22:45 local is 14 Mar in UTC: 41 days at 45 mg/day, one short of 6 weeks
    early = review_patient_benefit(engine, patient_id=patient, now=la(date(2026, 3, 13), 22, 45))
    assert early.today == date(2026, 3, 13)
    assert early.status == "too_early"
    assert early.message == "too early: 5 weeks at 45 mg/day; review from 2026-03-14"

    review = review_patient_benefit(engine, patient_id=patient, now=la(date(2026, 3, 14), 22, 45))
    assert review.today == date(2026, 3, 14)
    assert (review.periods[0].first_day, review.periods[0].daily_ug) == (date(2026, 1, 5), 15000)
    assert (review.titration_start, review.stable_since, review.stable_daily_ug) == (
        date(2026, 1, 5),
        date(2026, 2, 1),
        45000,
    )
    assert review.baseline is not None and review.current is not None
    assert (review.baseline.first_day, review.baseline.last_day, review.baseline.entries) == (
        date(2025, 12, 22),
        date(2026, 1, 4),
        4,
    )
    assert (review.baseline.penn_frequency, review.baseline.stiffness_nrs) == (3.0, 7.0)
    assert (review.current.first_day, review.current.last_day, review.current.entries) == (
        date(2026, 3, 1),
        date(2026, 3, 14),
        4,
    )
    assert (review.current.penn_frequency, review.current.stiffness_nrs) == (2.0, 6.0)
    assert review.status == "benefit"  # Penn 3.0 -> 2.0: a fall of 1.0


def test_a_plan_entered_as_already_under_way_is_not_a_start_from_nothing(engine, monograph):
    """A patient on 30 mg/day since June enters that maintenance plan in January ("started
    earlier"), after two weeks of diary entries: those entries were on baclofen, not before it.
    The review must not read them as the scores before baclofen and say "no clear benefit:
    consider a slow withdrawal"; the scores before June are unknown: not enough data."""
    from dosewise.services.plans import PlanRequest

    patient = patients.create_patient(engine, name="M", time_zone="Europe/London", now=at(date(2025, 12, 1)),
                                      actor="test")  # fmt: skip
    for number, (penn, nrs) in enumerate(BASELINE):
        record(engine, patient, date(2025, 12, 28) + timedelta(days=number), penn, nrs)
    request = PlanRequest(kind="maintenance", mg_day=30, start=date(2025, 6, 1), started_earlier=True)
    entered = at(date(2026, 1, 4), 18)
    built = plans.build_plan(request, caller=_PATIENT, today=entered.date())
    plans.save_plan(engine, patient_id=patient, built=built, time_zone="Europe/London", now=entered,
                    actor="test", caller=_PATIENT)  # fmt: skip
    for number, (penn, nrs) in enumerate(NO_CHANGE):
        record(engine, patient, date(2026, 2, 18) + timedelta(days=number), penn, nrs)
    review = review_patient_benefit(engine, patient_id=patient, now=REVIEW_AT)
    assert review.status == "not_enough_data"
    assert not review.flagged and review.list_flags == ()
    assert "withdrawal" not in review.message
    assert review.titration_start == date(2025, 6, 1)


class _Caller:
    relation = "owner"
    may_override = False


_PATIENT = _Caller()
