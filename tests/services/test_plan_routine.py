"""A daily routine people can trust (issue 12), on SQLite and PostgreSQL with a controlled clock:
plans never end in nothing, a plan change takes over cleanly at the next dose time, a large
rise needs a reason, a past start is explicit, only the patient or a clinician changes a plan,
and Save commits exactly the previewed plan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dosewise.errors import InputError
from dosewise.services import doses, patients, plans
from dosewise.services.access import NotAllowed
from dosewise.services.plans import PlanRequest, RiseNeedsConfirmation
from dosewise.store.database import unit_of_work
from dosewise.store.models import AuditRow, DoseEventRow, DoseSlotRow, PlanRow

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)
SECRET = "a-test-secret-that-is-long-enough-for-drafts"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@dataclass(frozen=True)
class Caller:
    relation: str
    may_override: bool = False


PATIENT, CAREGIVER, CLINICIAN = Caller("owner"), Caller("caregiver"), Caller("clinician", may_override=True)


@pytest.fixture
def patient(engine):
    return patients.create_patient(engine, name="P", time_zone="Europe/London", now=at(DAY, 7), actor="test")


def save(engine, patient, now, caller=PATIENT, confirm_rise=None, **fields):
    request = PlanRequest(**{"kind": "titration", "start": now.date(), **fields})
    built = plans.build_plan(request, caller=caller, today=now.date())
    return plans.save_plan(
        engine, patient_id=patient, built=built, time_zone="Europe/London", now=now, actor="test",
        caller=caller, confirm_rise=confirm_rise,
    )  # fmt: skip


def day_doses(engine, patient, day, now):
    return [(s.due_at.strftime("%H:%M"), s.dose_ug / 1000) for s in doses.list_day(
        engine, patient_id=patient, day=day, now=now)]  # fmt: skip


def slot_count(engine, **where):
    with unit_of_work(engine) as session:
        query = select(func.count()).select_from(DoseSlotRow)
        for name, value in where.items():
            query = query.where(getattr(DoseSlotRow, name) == value)
        return session.scalar(query)


def test_a_titration_goes_on_at_its_last_step_and_never_runs_out(engine, patient):
    save(engine, patient, at(DAY, 7), target_mg_day=30)  # 15 mg/day for 3 days, then 30
    end = DAY + timedelta(days=5)  # the titration's last day
    for offset in range(1, 31):
        day = end + timedelta(days=offset)
        assert day_doses(engine, patient, day, at(DAY, 7)) == [("08:00", 10), ("14:00", 10), ("20:00", 10)], (
            day
        )
    current = plans.current_plan(engine, patient_id=patient)
    assert current.record.plan.open_ended and current.record.plan.review_on == DAY + timedelta(
        days=3, weeks=12
    )
    # 200 days later the slots are made ahead again (a rolling horizon), once
    later = at(DAY + timedelta(days=200), 9)
    made = plans.keep_slots_ahead(engine, now=later)
    assert made > 0 and plans.keep_slots_ahead(engine, now=later) == 0
    assert day_doses(engine, patient, later.date() + timedelta(days=30), later) == [
        ("08:00", 10), ("14:00", 10), ("20:00", 10),
    ]  # fmt: skip
    with unit_of_work(engine) as session:
        dues = session.scalars(select(DoseSlotRow.due_at)).all()
    assert len(dues) == len(set(dues))  # no slot twice
    # the days between the first horizon and the top-up are there too: nothing is skipped
    assert len(day_doses(engine, patient, DAY + timedelta(days=100), later)) == 3


def test_a_change_at_21_after_the_21_dose_was_taken_shows_one_21_dose(engine, patient):
    save(engine, patient, at(DAY, 7), target_mg_day=30, times="09:00,15:00,21:00")
    evening = [s for s in doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 20, 50))][-1]
    doses.record_dose(engine, patient_id=patient, slot_id=evening.slot_id, status="taken",
                      now=at(DAY, 20, 50), actor="test")  # fmt: skip
    # 21:00: a new plan (5 mg -> 10 mg doses, within the step limit) with the same dose times
    save(engine, patient, at(DAY, 21), kind="maintenance", mg_day=30, times="09:00,15:00,21:00")
    today = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 21, 1))
    assert [(s.due_at.strftime("%H:%M"), s.recorded) for s in today if s.due_at.hour == 21] == [
        ("21:00", "taken")
    ]
    tomorrow = day_doses(engine, patient, DAY + timedelta(days=1), at(DAY, 21, 1))
    assert tomorrow == [("09:00", 10), ("15:00", 10), ("21:00", 10)]  # only the new plan's


def test_the_old_plans_later_doses_are_cancelled_not_missed(engine, patient):
    first = save(engine, patient, at(DAY, 7), target_mg_day=30)
    second = save(engine, patient, at(DAY, 13), kind="maintenance", mg_day=15)
    slots = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY + timedelta(days=1), 9))
    assert [(s.plan_id, s.due_at.hour) for s in slots] == [(first, 8), (second, 14), (second, 20)]
    assert slot_count(engine, plan_id=first) == 1  # its 14:00 on, and its open-ended horizon, are gone
    with unit_of_work(engine) as session:
        old = session.get(PlanRow, first)
        assert old.superseded_at == old.slots_until == datetime(2026, 12, 1, 14, 0)
    assert plans.keep_slots_ahead(engine, now=at(DAY + timedelta(days=70), 9)) > 0
    assert slot_count(engine, plan_id=first) == 1  # a replaced plan is never topped up


def test_a_future_plan_takes_over_on_its_first_day(engine, patient):
    first = save(engine, patient, at(DAY, 7), target_mg_day=30)
    monday = DAY + timedelta(days=6)
    second = save(engine, patient, at(DAY, 10), kind="maintenance", mg_day=30, start=monday)
    assert {s.plan_id for s in doses.list_day(engine, patient_id=patient, day=monday - timedelta(days=1),
                                             now=at(DAY, 10))} == {first}  # fmt: skip
    assert {s.plan_id for s in doses.list_day(engine, patient_id=patient, day=monday, now=at(DAY, 10))} == {
        second
    }


def test_a_plan_saved_before_a_scheduled_one_begins_replaces_both(engine, patient):
    """In force: A. Saved for next Monday: B. Before Monday, C replaces them: from C's first dose
    only C's doses are due (A's are not left beside them), and B never begins."""
    first = save(engine, patient, at(DAY, 7), target_mg_day=30)
    monday = DAY + timedelta(days=6)
    scheduled = save(engine, patient, at(DAY, 10), kind="maintenance", mg_day=15, start=monday)
    wednesday = DAY + timedelta(days=1)
    third = save(
        engine,
        patient,
        at(DAY, 11),
        kind="maintenance",
        mg_day=30,
        start=wednesday,
        times="09:30,15:30,21:30",
    )
    for day in (
        wednesday,
        wednesday + timedelta(days=1),
        monday,
        monday + timedelta(days=3),
    ):
        slots = doses.list_day(engine, patient_id=patient, day=day, now=at(DAY, 11))
        assert [(s.plan_id, s.due_at.strftime("%H:%M"), s.dose_ug / 1000) for s in slots] == [
            (third, "09:30", 10.0), (third, "15:30", 10.0), (third, "21:30", 10.0)
        ], day  # fmt: skip
    assert slot_count(engine, plan_id=scheduled) == 0
    with unit_of_work(engine) as session:
        replaced = session.get(PlanRow, first)
        # on Wednesday, from the first dose time of either plan (A's 08:00: cancelled)
        assert replaced.superseded_at == replaced.slots_until == datetime(2026, 12, 2, 8, 0)
        assert session.get(PlanRow, scheduled).superseded_at == datetime(2026, 12, 2, 8, 0)
    assert plans.keep_slots_ahead(engine, now=at(DAY + timedelta(days=70), 9)) > 0
    late = doses.list_day(
        engine, patient_id=patient, day=DAY + timedelta(days=69), now=at(DAY + timedelta(days=70), 9)
    )
    assert {s.plan_id for s in late} == {third}


def test_a_change_while_a_plan_is_scheduled_takes_over_at_the_next_dose_of_either(engine, patient):
    """With a plan scheduled for next week, a change saved at 15:30 for today at 09:00, 15:00 and
    21:00 still takes over at the plan in force's next dose (20:00, cancelled): one evening dose,
    as without the scheduled plan, never 20:00 and 21:00."""
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    save(engine, patient, at(DAY, 9), kind="maintenance", mg_day=30, start=DAY + timedelta(days=6))
    save(engine, patient, at(DAY, 15, 30), kind="maintenance", mg_day=30, times="09:00,15:00,21:00")
    assert day_doses(engine, patient, DAY, at(DAY, 15, 30)) == [
        ("08:00", 10.0),
        ("14:00", 10.0),
        ("21:00", 10.0),
    ]


def test_a_plan_scheduled_for_a_later_day_with_other_times_takes_that_whole_day(engine, patient):
    """Doses at 08:00, 14:00, 20:00; a plan saved today for next Monday at 09:30, 15:30, 21:30:
    on Monday the old 08:00 dose is not kept before the new 09:30 one (two doses 90 minutes
    apart): the new plan takes over at the first dose time of that day, of either plan."""
    first = save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    monday = DAY + timedelta(days=6)
    second = save(
        engine, patient, at(DAY, 10), kind="maintenance", mg_day=30, start=monday, times="09:30,15:30,21:30"
    )
    sunday = [(s.plan_id, s.due_at.strftime("%H:%M")) for s in doses.list_day(
        engine, patient_id=patient, day=monday - timedelta(days=1), now=at(DAY, 10))]  # fmt: skip
    assert sunday == [(first, "08:00"), (first, "14:00"), (first, "20:00")]
    assert day_doses(engine, patient, monday, at(DAY, 10)) == [
        ("09:30", 10.0),
        ("15:30", 10.0),
        ("21:30", 10.0),
    ]
    assert {s.plan_id for s in doses.list_day(engine, patient_id=patient, day=monday, now=at(DAY, 10))} == {
        second
    }


def test_a_taper_ends_with_an_explicit_stop_and_no_later_doses(engine, patient):
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    save(engine, patient, at(DAY, 7, 30), kind="taper", from_mg_day=30)
    plan = plans.current_plan(engine, patient_id=patient).record.plan
    assert not plan.open_ended and plan.stop_date is not None
    last_day = plan.stop_date - timedelta(days=1)
    assert day_doses(engine, patient, last_day, at(DAY, 8))
    later = at(plan.stop_date + timedelta(days=40), 9)
    assert plans.keep_slots_ahead(engine, now=later) == 0
    for offset in range(0, 30):
        assert day_doses(engine, patient, plan.stop_date + timedelta(days=offset), later) == []
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.max(DoseSlotRow.due_at))) < datetime.combine(
            plan.stop_date, datetime.min.time()
        )


def test_a_rise_beyond_the_step_limit_needs_a_reason(engine, patient):
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=15)
    with pytest.raises(
        RiseNeedsConfirmation, match=r"from 15 to 60 mg/day .* 15 mg/day a step may rise \[US-TAB"
    ):
        save(engine, patient, at(DAY, 9), kind="maintenance", mg_day=60, caller=CLINICIAN)
    with pytest.raises(RiseNeedsConfirmation):
        save(engine, patient, at(DAY, 9), kind="maintenance", mg_day=60, caller=CLINICIAN, confirm_rise="   ")
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(PlanRow)) == 1  # nothing stored
    # 15 -> 30 is one step: no confirmation
    plan_id = save(engine, patient, at(DAY, 9), kind="maintenance", mg_day=30)
    # 30 -> 60 with the prescriber's reason: saved, and the reason is in the plan and the audit trail
    reason = "Dr Lee: 20 mg three times daily from today (letter of 30 Nov)"
    rise = save(
        engine, patient, at(DAY, 10), kind="maintenance", mg_day=60, caller=CLINICIAN, confirm_rise=reason
    )
    assert rise != plan_id
    with unit_of_work(engine) as session:
        row = session.get(PlanRow, rise)
        assert (row.reason, row.entered_as) == (reason, "clinician")
        written = select(AuditRow.detail).where(AuditRow.entity_id == rise, AuditRow.action == "start_plan")
        detail = json.loads(session.scalars(written).one())
    assert detail["rise_confirmed"] == reason
    # measured from the dose taken now (15: the 30 mg/day plan has not begun), not the plan saved last
    assert (detail["daily_mg_before"], detail["daily_mg_after"]) == (15, 60)


def test_a_start_in_the_past_is_explicit_and_makes_no_missed_doses(engine, patient):
    earlier = DAY - timedelta(days=4)
    with pytest.raises(InputError, match="in the past") as raised:
        save(engine, patient, at(DAY, 11), target_mg_day=30, start=earlier)
    assert raised.value.field == "start"
    save(engine, patient, at(DAY, 11), target_mg_day=30, start=earlier, started_earlier=True)
    adherence = doses.adherence(engine, patient_id=patient, first_day=earlier, last_day=DAY, now=at(DAY, 12))
    assert (adherence.total.planned, adherence.total.missed) == (2, 0)  # only what is still to come
    today = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 11))
    # day 5 of the titration: already 10 mg doses, from the next dose time (14:00) on
    assert [(s.due_at.hour, s.dose_ug) for s in today] == [(14, 10_000), (20, 10_000)]


def test_only_the_patient_or_a_clinician_changes_the_plan(engine, patient):
    with pytest.raises(NotAllowed):
        save(engine, patient, at(DAY, 7), target_mg_day=30, caller=CAREGIVER)
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(PlanRow)) == 0
    plan_id = save(engine, patient, at(DAY, 7), target_mg_day=30)
    stored = plans.current_plan(engine, patient_id=patient)
    assert stored.entered_as == "patient" and stored.needs_confirmation
    with pytest.raises(NotAllowed):
        plans.confirm_plan(
            engine, patient_id=patient, plan_id=plan_id, now=at(DAY, 9), actor="test", caller=PATIENT
        )
    plans.confirm_plan(
        engine, patient_id=patient, plan_id=plan_id, now=at(DAY, 9), actor="user:9", caller=CLINICIAN
    )
    stored = plans.current_plan(engine, patient_id=patient)
    assert stored.confirmed_by == "user:9" and not stored.needs_confirmation


def test_no_new_dose_within_three_hours_of_a_dose_taken(engine, patient):
    save(engine, patient, at(DAY, 7), target_mg_day=30)  # 08:00, 14:00, 20:00
    noon = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 13))[1]
    doses.record_dose(engine, patient_id=patient, slot_id=noon.slot_id, status="taken", now=at(DAY, 13, 30),
                      actor="test")  # fmt: skip
    # at 13:45 a plan with a 15:00 dose: 15:00 is within 3 h of the dose taken at 13:30
    save(engine, patient, at(DAY, 13, 45), kind="maintenance", mg_day=15, times="09:00,15:00,21:00")
    today = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 13, 45))
    assert [(s.due_at.strftime("%H:%M"), s.recorded) for s in today] == [("08:00", None), ("14:00", "taken"),
                                                                        ("21:00", None)]  # fmt: skip
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(DoseEventRow)) == 1


def test_save_commits_exactly_the_previewed_plan(engine, patient):
    request = PlanRequest(kind="titration", target_mg_day=60, start=DAY)
    built = plans.build_plan(request, today=DAY)
    inputs = {"kind": "titration", "target_mg_day": 60, "start": DAY.isoformat()}
    token = plans.seal_draft(
        SECRET, patient_id=patient, inputs=inputs, built=built, time_zone="Europe/London"
    )
    draft = plans.open_draft(SECRET, token, patient_id=patient)
    assert draft.inputs == inputs
    plans.check_draft(draft, built, time_zone="Europe/London")  # the same plan: fine
    other = plans.build_plan(PlanRequest(kind="titration", target_mg_day=80, start=DAY), today=DAY)
    with pytest.raises(InputError, match="not the one that was previewed"):
        plans.check_draft(draft, other, time_zone="Europe/London")
    with pytest.raises(InputError, match="another patient"):
        plans.open_draft(SECRET, token, patient_id=patient + 1)
    with pytest.raises(InputError, match="cannot be read"):
        plans.open_draft(SECRET, token[:-3] + "abc", patient_id=patient)
    with pytest.raises(InputError, match="cannot be read"):
        plans.open_draft("another-secret-that-is-also-long-enough", token, patient_id=patient)
    with pytest.raises(InputError, match="preview the plan before saving"):
        plans.open_draft(SECRET, "", patient_id=patient)


def test_a_patient_who_stops_opening_dosewise_still_has_missed_doses_counted(engine, patient):
    """90 days later, past the first horizon of slots: the clinician's flags count the missed doses."""
    from dosewise.services import clinic

    save(engine, patient, at(DAY, 7), target_mg_day=30)
    later = at(DAY + timedelta(days=90), 21)
    flags = clinic.attention(engine, patient_id=patient, name="P", relation="clinician", now=later)
    assert flags.missed >= 3 * 6  # the week before: every dose, none recorded


def test_a_day_without_any_dose_in_the_diary_is_never_take_it_now(engine, patient):
    """24 hours or more with no dose taken (none recorded since the first planned dose counts):
    "do not simply restart", not "take it now" [baclofen.md 10]; a fresh plan's first dose is fine."""
    save(engine, patient, at(DAY, 7), target_mg_day=30)
    due, _ = doses.today(engine, patient_id=patient, now=at(DAY, 8, 30))
    assert due.overdue == ()  # half an hour after its time the 08:00 dose is simply due
    due, _ = doses.today(engine, patient_id=patient, now=at(DAY, 9, 30))
    assert [advice.action for _, advice in due.overdue] == ["take_now"]
    later = DAY + timedelta(days=2)
    due, _ = doses.today(engine, patient_id=patient, now=at(later, 8, 30))
    [(_, advice)] = due.overdue
    assert (
        advice.action == "contact_prescriber"
        and "No dose recorded in the diary for 48 hours" in advice.message
    )
    # the doses were taken but not ticked: recording yesterday evening's makes it a usual missed dose
    yesterday = doses.list_day(
        engine, patient_id=patient, day=later - timedelta(days=1), now=at(later, 8, 30)
    )
    evening = at(later - timedelta(days=1), 20, 5)
    doses.correct_dose(engine, patient_id=patient, slot_id=yesterday[-1].slot_id, change="taken",
                       taken_at=evening, now=at(later, 8, 30), actor="test")  # fmt: skip
    due, _ = doses.today(engine, patient_id=patient, now=at(later, 9, 30))
    assert [advice.action for _, advice in due.overdue] == ["take_now"]


def test_workers_topping_up_at_once_make_each_slot_once(engine, patient):
    """Four threads (on PostgreSQL: four connections) top up the same plan at the same moment:
    one moves the horizon and makes the slots, the others find it moved; no slot twice."""
    from concurrent.futures import ThreadPoolExecutor

    save(engine, patient, at(DAY, 7), target_mg_day=30)
    later = at(DAY + timedelta(days=120), 9)
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda _: plans.keep_slots_ahead(engine, now=later), range(4)))
    assert sorted(made)[:3] == [0, 0, 0] and made.count(0) == 3 and max(made) > 0
    with unit_of_work(engine) as session:
        dues = session.scalars(select(DoseSlotRow.due_at)).all()
    assert len(dues) == len(set(dues))


def test_saving_plans_in_a_row_is_no_way_round_the_rise_confirmation(engine, patient):
    """15 mg/day in force; 30, then 45 saved a minute apart before either began: the 45 is a
    rise of 30 from what is taken now, so it needs a reason."""
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=15)
    save(engine, patient, at(DAY, 9), kind="maintenance", mg_day=30)
    with pytest.raises(RiseNeedsConfirmation, match="from 15 to 45 mg/day"):
        save(engine, patient, at(DAY, 9, 1), kind="maintenance", mg_day=45)


def test_a_jump_between_two_steps_of_the_new_plan_needs_a_reason_too(engine, patient):
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=15)
    with pytest.raises(RiseNeedsConfirmation, match="from 15 to 60 mg/day from one step to the next"):
        save(engine, patient, at(DAY, 9), kind="clinician", steps=("1:5,5,5", "7:20,20,20"))


def test_a_change_before_the_old_plans_next_dose_takes_over_then(engine, patient):
    """Saved at 19:00 with the old plan's 20:00 dose to come and the new plan's first at 21:00:
    the change takes over at 20:00 (the next dose time), so there are never two doses an hour
    apart; the new plan's 21:00 is the next dose."""
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    save(engine, patient, at(DAY, 19), kind="maintenance", mg_day=30, times="09:00,15:00,21:00")
    evening = [(s.due_at.strftime("%H:%M"), s.state) for s in doses.list_day(
        engine, patient_id=patient, day=DAY, now=at(DAY, 19, 5)) if s.due_at.hour >= 19]  # fmt: skip
    assert evening == [("21:00", "upcoming")]
    with unit_of_work(engine) as session:
        old = session.scalars(select(PlanRow).order_by(PlanRow.id)).first()
        assert old.superseded_at == datetime(2026, 12, 1, 20, 0)


def test_the_preview_and_save_leave_out_the_same_dose(engine, patient):
    """14:00 taken at 14:05; at 15:30 a plan with 09:00, 16:00, 23:30: the change says the 16:00
    dose is left out (within 3 h of a dose taken), and Save makes no 16:00 dose."""
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    two = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 14))[1]
    doses.record_dose(engine, patient_id=patient, slot_id=two.slot_id, status="taken", now=at(DAY, 14, 5),
                      actor="test")  # fmt: skip
    request = PlanRequest(kind="maintenance", mg_day=30, start=DAY, times="09:00,16:00,23:30")
    built = plans.build_plan(request, today=DAY)
    change = plans.plan_change(engine, patient_id=patient, built=built, time_zone="Europe/London",
                               now=at(DAY, 15, 30))  # fmt: skip
    assert [moment.strftime("%H:%M") for moment in change.left_out] == ["16:00"]
    plans.save_plan(engine, patient_id=patient, built=built, time_zone="Europe/London", now=at(DAY, 15, 30),
                    actor="test")  # fmt: skip
    day = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 15, 31))
    assert [s.due_at.strftime("%H:%M") for s in day if s.due_at.hour >= 15] == ["23:30"]


def test_the_long_gap_warning_stays_between_doses(engine, patient):
    """28 h and 29.5 h after the last dose taken: the warning holds, also when no dose is due
    (the 2 hours before each dose), and the Today page shows it."""
    save(engine, patient, at(DAY, 7), kind="maintenance", mg_day=30)
    first = doses.list_day(engine, patient_id=patient, day=DAY, now=at(DAY, 8))[0]
    doses.record_dose(engine, patient_id=patient, slot_id=first.slot_id, status="taken", now=at(DAY, 8),
                      actor="test")  # fmt: skip
    for moment in (at(DAY + timedelta(days=1), 12), at(DAY + timedelta(days=1), 13, 30)):
        due, _ = doses.today(engine, patient_id=patient, now=moment)
        assert due.no_dose_hours is not None and due.no_dose_hours >= 24, moment
    due, _ = doses.today(engine, patient_id=patient, now=at(DAY, 13, 30))
    assert due.no_dose_hours is None
