"""The prescriber's report over the daily routine (issue 12 point 10): a titration, a plan change
and a taper over a year; replaced plans one line each, the current plan in full, each missed
dose once, the chart from the slots in force, and a one-year diary that stays a few pages."""

from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from dosewise.exporters.report import daily_series, render_report_html, render_report_pdf
from dosewise.services import notes, patients, plans
from dosewise.services.clock import to_utc
from dosewise.services.reports import LEVEL_DAYS, diary_span, gather_report
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import DoseEventRow, DoseSlotRow, PlanRow, SymptomEntryRow

ZONE = ZoneInfo("America/New_York")
FIRST = date(2025, 12, 1)
CHANGE = datetime(2026, 1, 15, 21, 0, tzinfo=ZONE)  # the clinician's change, after the 20:00 dose
TAPER = datetime(2026, 10, 20, 7, 0, tzinfo=ZONE)  # the patient enters the prescriber's taper
NOW = datetime(2026, 11, 30, 22, 0, tzinfo=ZONE)
LAST = NOW.date()
REASON = "spasms still disabling at night (visit of 15 January)"


@dataclass(frozen=True)
class Caller:
    may_override: bool
    relation: str


CLINICIAN = Caller(may_override=True, relation="clinician")


@dataclass(frozen=True)
class Diary:
    patient: int
    titration: int
    maintenance: int
    taper: int | None
    double_booked: datetime  # a time with a skipped slot of the old plan and a missed one of the new


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZONE)


def _advance(engine, patient: int, since: datetime, until: datetime, counter: list[int]) -> None:
    """Time passes from ``since`` to ``until``: the rolling horizon is topped up as the app
    would, and the doses due before ``until`` are recorded (most taken, some late, skipped or
    never recorded), with two symptom entries a day and a note a week."""
    moment = since
    while moment < until:
        plans.keep_slots_ahead(engine, now=moment, patient_id=patient)
        moment += timedelta(days=7)
    plans.keep_slots_ahead(engine, now=until, patient_id=patient)
    with unit_of_work(engine) as session:
        due = session.execute(
            select(DoseSlotRow.id, DoseSlotRow.due_at)
            .outerjoin(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
            .where(
                DoseSlotRow.patient_id == patient,
                DoseEventRow.id.is_(None),
                DoseSlotRow.due_at >= to_utc(since),
                DoseSlotRow.due_at < to_utc(until),
            )
            .order_by(DoseSlotRow.due_at)
        ).all()
        events = []
        for slot_id, due_at in due:
            counter[0] += 1
            number = counter[0]
            if number % 29 == 0:
                continue  # missed: nothing recorded
            status = "skipped" if number % 31 == 0 else ("late" if number % 13 == 0 else "taken")
            taken = (
                None if status == "skipped" else due_at + timedelta(minutes=150 if status == "late" else 10)
            )
            events.append({"slot_id": slot_id, "status": status, "taken_at": taken, "recorded_at": due_at})
        if events:
            session.execute(insert(DoseEventRow), events)
        entries = []
        day = since.date()
        while day < until.date():
            offset = (day - FIRST).days
            for hour in (9, 21):
                frequency = (offset // 30 + hour) % 5
                entries.append(
                    {
                        "patient_id": patient,
                        "recorded_at": to_utc(_local(day, time(hour))),
                        "penn_frequency": frequency,
                        "penn_severity": None if frequency == 0 else 1 + offset % 3,
                        "spasticity_nrs": (offset // 20 + hour) % 11,
                        "side_effects": '[{"key": "drowsiness", "severity": 1}]' if offset % 7 == 0 else "[]",
                        "note": "",
                    }
                )
            day += timedelta(days=1)
        if entries:
            session.execute(insert(SymptomEntryRow), entries)
    day = since.date()
    while day < until.date():
        if day.weekday() == 6:
            notes.add_note(
                engine, patient_id=patient, text=f"week {(day - FIRST).days // 7 + 1}: walked to the shop",
                now=_local(day, time(18)), actor="t",
            )  # fmt: skip
        day += timedelta(days=1)


def build_routine_diary(engine, *, until: datetime = NOW) -> Diary:
    """A year on baclofen: the patient enters a titration to 45 mg/day (a clinician confirms
    it), a clinician changes it to 60 mg/day maintenance at 21:00 on 15 January with a reason,
    and the patient enters a taper on 20 October, which stops the doses in November."""
    start = _local(FIRST, time(7))
    patient = patients.create_patient(engine, name="Rosa Routine", time_zone=str(ZONE), now=start, actor="t")
    counter = [0]
    titration = plans.save_plan(
        engine,
        patient_id=patient,
        built=plans.build_plan(plans.PlanRequest(kind="titration", target_mg_day=45), today=FIRST),
        time_zone=str(ZONE),
        now=start,
        actor="user:1",
    )
    plans.confirm_plan(
        engine,
        patient_id=patient,
        plan_id=titration,
        now=_local(date(2025, 12, 3), time(10)),
        actor="user:2",
        caller=CLINICIAN,
    )
    _advance(engine, patient, start, CHANGE, counter)
    # the patient says at 20:30 that they will skip tomorrow's 08:00 dose; the new plan (which
    # takes over at 08:00) still has its own 08:00 dose, which is then never recorded
    double_booked = _local(date(2026, 1, 16), time(8))
    with unit_of_work(engine) as session:
        old_slot = session.scalar(
            select(DoseSlotRow.id).where(
                DoseSlotRow.plan_id == titration, DoseSlotRow.due_at == to_utc(double_booked)
            )
        )
        session.execute(
            insert(DoseEventRow),
            [{"slot_id": old_slot, "status": "skipped", "taken_at": None, "recorded_at": to_utc(CHANGE)}],
        )
    maintenance = plans.save_plan(
        engine,
        patient_id=patient,
        built=plans.build_plan(plans.PlanRequest(kind="maintenance", mg_day=60), today=CHANGE.date()),
        time_zone=str(ZONE),
        now=CHANGE,
        actor="user:2",
        caller=CLINICIAN,
        confirm_rise=REASON,
    )
    counter[0] = 28  # the new plan's first dose (08:00, the 29th counted) is never recorded
    _advance(engine, patient, CHANGE, min(TAPER, until), counter)
    diary = Diary(
        patient=patient, titration=titration, maintenance=maintenance, taper=None, double_booked=double_booked
    )
    if until <= TAPER:
        return diary
    taper = plans.save_plan(
        engine,
        patient_id=patient,
        built=plans.build_plan(plans.PlanRequest(kind="taper", from_mg_day=60), today=TAPER.date()),
        time_zone=str(ZONE),
        now=TAPER,
        actor="user:1",
        confirm_rise="the prescriber stops baclofen: no benefit after a trial",
    )
    _advance(engine, patient, TAPER, until, counter)
    return replace(diary, taper=taper)


@pytest.fixture
def year(engine):
    """The year's diary, on SQLite and on PostgreSQL."""
    return engine, build_routine_diary(engine)


@pytest.fixture
def year_on_sqlite(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'year.sqlite3'}")
    upgrade_database(engine)
    yield engine, build_routine_diary(engine)
    engine.dispose()


def _report(engine, diary: Diary, *, levels: bool = False):
    return gather_report(
        engine, patient_id=diary.patient, first_day=FIRST, last_day=LAST, now=NOW, levels=levels
    )


def test_replaced_plans_one_line_each_and_the_current_plan_in_full(year):
    engine, diary = year
    assert diary_span(engine, patient_id=diary.patient, now=NOW) == (FIRST, LAST)
    data = _report(engine, diary)
    assert [plan.plan_id for plan in data.plans] == [diary.titration, diary.maintenance, diary.taper]
    current = data.current_plan
    assert current is not None and current.plan_id == diary.taper
    titration, maintenance = data.earlier_plans
    stop = current.plan.stop_date
    assert stop == date(2026, 11, 3) and current.stopped_on == stop
    # in force from the takeover (the first dose time after saving) to the next takeover
    assert titration.describe_dates() == "2025-12-01 08:00 to 2026-01-16 08:00"
    assert maintenance.describe_dates() == "2026-01-16 08:00 to 2026-10-20 08:00"
    assert current.describe_dates() == f"2026-10-20 08:00 to the stop on {stop}"
    for earlier, later in itertools.pairwise(data.plans):  # never "started" after it was "replaced"
        assert earlier.in_force_from < earlier.superseded_at == later.in_force_from
    assert titration.describe_doses() == "15 → 30 → 45 mg/day"
    assert maintenance.describe_doses() == "60 mg/day"
    assert current.describe_doses() == "45 → 30 → 15 mg/day, then stopped"
    assert titration.describe_entry() == "entered by the patient, confirmed by the clinician on 2025-12-03"
    assert maintenance.describe_entry() == "entered by a clinician" and maintenance.reason == REASON
    assert current.describe_entry() == "entered by the patient, not confirmed by a clinician"

    html = render_report_html(data)
    plans_section = html[html.index('id="plans"') : html.index('id="doses"')]
    lines = plans_section[plans_section.index('<ul class="plans">') : plans_section.index("</ul>")]
    assert lines.count("<li>") == 2  # one line per replaced plan, with who, why and its sources
    assert "<strong>2025-12-01 08:00 to 2026-01-16 08:00</strong>: titration, 15 → 30 → 45 mg/day" in lines
    assert f"entered by a clinician; why: {REASON}" in lines
    assert lines.count("[US-TAB, OZO, LYV, FLQ, PMS, UK]") == 2
    # the current plan in full, once: its steps, its stop, its warnings and sources
    assert plans_section.count("<tbody>") == 1 and plans_section.count("<tr><td>") == len(current.plan.steps)
    assert f"Stopped on {stop} after a taper" in plans_section
    assert html.count("Steps of at most 15 mg/day") == 1
    assert "Sources of this plan: FR, PMS, NHS, US-TAB, OZO, LYV." in plans_section
    assert "agree every plan and change with the prescriber" in plans_section
    assert "stay at 45 mg/day" not in html  # a replaced plan's advice is not printed again
    assert "started" not in plans_section


def test_each_missed_dose_once(year):
    engine, diary = year
    data = _report(engine, diary)
    dues = [slot.due_at for slot in data.doses]
    assert len(dues) == len(set(dues)) and dues == sorted(dues)
    # the old plan's skipped 08:00 dose and the new plan's own 08:00 dose: one dose, skipped
    both = [slot for slot in data.slots if slot.due_at == diary.double_booked]
    assert sorted(slot.plan_id for slot in both) == [diary.titration, diary.maintenance]
    (one,) = [slot for slot in data.doses if slot.due_at == diary.double_booked]
    assert (one.plan_id, one.state) == (diary.titration, "skipped")
    missed = [slot for slot in data.doses if slot.state == "missed"]
    assert data.adherence.total.missed == len(missed) > 12
    assert data.adherence.total.planned == len(data.doses) == len(data.slots) - 1
    html = render_report_html(data)
    section = html[html.index("Doses missed or skipped, by day") : html.index('id="symptoms"')]
    january = section[section.index("January 2026") :].split("</tr>")[0]
    missed_cell, skipped_cell = january.split("</td><td>")[1:3]
    assert "16 (08:00" in skipped_cell and "16 (08:00" not in missed_cell
    for slot in missed:  # every missed dose, once, under its month and day
        month = section[section.index(f"{slot.due_at:%B %Y}") :].split("</tr>")[0]
        cell = month.split("</td><td>")[1]
        (day,) = [item for item in cell.split("; ") if item.startswith(f"{slot.due_at.day} (")]
        assert f"{slot.due_at:%H:%M}" in day


def test_the_chart_shows_the_dose_in_force_at_each_time(year_on_sqlite):
    engine, diary = year_on_sqlite
    data = _report(engine, diary)
    points = {point.day: point for point in daily_series(data)}
    expected = {
        date(2025, 12, 1): 15, date(2025, 12, 4): 30, date(2025, 12, 7): 45,
        date(2026, 1, 15): 45,  # changed at 21:00, after the day's doses: the new plan from 08:00 next day
        date(2026, 1, 16): 60,  # not 75: the replaced plan's skipped 08:00 dose is not added
        date(2026, 10, 19): 60, date(2026, 10, 20): 45, date(2026, 10, 24): 30, date(2026, 11, 2): 15,
        date(2026, 11, 3): 0, date(2026, 11, 29): 0,  # stopped after the taper
    }  # fmt: skip
    assert {day: points[day].planned_mg for day in expected} == expected
    assert max(point.planned_mg for point in points.values()) == 60
    assert all(point.taken_mg <= point.planned_mg for point in points.values())
    assert points[date(2026, 1, 16)].taken_mg == 20  # 14:00 taken; 08:00 skipped (old) and 20:00 skipped


def test_a_one_year_diary_is_a_few_pages(year_on_sqlite, tmp_path):
    engine, diary = year_on_sqlite
    data = _report(engine, diary, levels=True)
    assert data.long_range
    last_taken = max(slot.taken_at for slot in data.doses if slot.taken_at)
    assert data.levels is not None and data.levels.times[-1] - data.levels.times[0] <= timedelta(days=29)
    assert data.levels.times[0] >= last_taken - timedelta(days=LEVEL_DAYS, hours=1)
    html = render_report_html(data)
    assert html.count("<svg") == 2
    pdf = tmp_path / "year.pdf"
    pdf.write_bytes(render_report_pdf(data, html))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    # it was 6 with most doses cut off; then everything, summarized; 7 with the benefit review
    # and the other treatments of issue 16
    assert 3 <= pages <= 7
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    body = text.stdout
    for month in ("Dec 2025", "Jun 2026", "Nov 2026"):  # a row per month, not per dose
        assert month in body
    assert "Doses missed or skipped, by day" in body and "taken late at" not in body
    assert f"page {pages} of {pages}" in body
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True)
    assert all(page.stat().st_size > 3000 for page in tmp_path.glob("page-*.png"))  # no blank pages


def test_the_report_makes_the_doses_ahead_of_an_open_ended_plan(engine):
    """Months after the last visit to the app, the report still finds the maintenance doses
    (gather_report tops up the rolling horizon before reading them)."""
    until = datetime(2026, 3, 1, 12, tzinfo=ZONE)
    diary = build_routine_diary(engine, until=until)
    # the report's default range ends today: the doses made ahead are a horizon, not an end
    assert diary_span(engine, patient_id=diary.patient, now=until) == (FIRST, until.date())
    later = datetime(2026, 7, 1, 12, tzinfo=ZONE)
    data = gather_report(
        engine, patient_id=diary.patient, first_day=date(2026, 6, 1), last_day=date(2026, 6, 30), now=later
    )
    assert data.adherence.total.planned == 90 and data.adherence.total.missed == 90
    assert {slot.plan_id for slot in data.doses} == {diary.maintenance}
    assert data.current_plan is not None and data.current_plan.describe_dates() == "since 2026-01-16 08:00"
    html = render_report_html(data)
    assert "continues at <strong>60 mg/day</strong> until a new plan or a taper replaces it" in html
    review = data.current_plan.plan.review_on
    assert review is not None and f"Review by <strong>{review}</strong> (12 weeks" in html
    assert "a Dosewise default" in html


def test_plans_saved_before_the_takeover_was_kept_use_their_first_dose(engine):
    """Rows from before migration 0008 have no takeover moment: their first dose stands for it,
    and nothing says the plan started after it was replaced."""
    diary = build_routine_diary(engine, until=datetime(2026, 2, 1, 12, tzinfo=ZONE))
    with unit_of_work(engine) as session:
        session.execute(update(PlanRow).values(takes_over_at=None, entered_as=None, entered_by=None))
    data = gather_report(
        engine, patient_id=diary.patient, first_day=FIRST, last_day=date(2026, 1, 31), now=NOW, levels=False
    )
    titration, maintenance = data.plans
    assert titration.describe_dates() == "2025-12-01 08:00 to 2026-01-16 08:00"
    assert maintenance.describe_dates() == "since 2026-01-16 08:00"
    assert titration.describe_entry() == "saved 2025-12-01 (who entered it was not recorded then)"
