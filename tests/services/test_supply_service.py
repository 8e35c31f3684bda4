"""Supply and refills (issue 14, point 5) on SQLite and PostgreSQL with a controlled clock: the
ledger, the stock derived from doses taken (a correction moves it), the forecast through the
plan's coming doses (also past the slots made so far), the status the notification engine reads,
many patients at once, and bad input storing nothing."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError
from dosewise.monographs import load_monograph
from dosewise.services import doses, patients, plans, supply
from dosewise.services.supply import SupplyThresholds
from dosewise.store.database import read_connection, read_only, unit_of_work
from dosewise.store.models import AuditRow, StockEventRow

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)
TIMES = parse_clock_times(None, 3)  # 08:00, 14:00, 20:00
TABLET = "tablet:10mg:halves"
DEFAULTS = SupplyThresholds()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def on(number: int, hour: int, minute: int = 0) -> datetime:
    """Day ``number`` of the plan (1: its first day)."""
    return at(DAY + timedelta(days=number - 1), hour, minute)


def make_patient(engine, name="P"):
    """A titration to 60 mg/day from 10 mg tablets that halve (1.5, 3, 4.5, 6 tablets a day,
    3 days each, then 6 a day), saved at 07:00 on day 1."""
    patient_id = patients.create_patient(
        engine, name=name, time_zone="Europe/London", now=on(1, 6), actor="test"
    )
    monograph = load_monograph("baclofen")
    plan = build_titration(
        monograph, target_daily_mg=60, products=parse_product_specs([TABLET], monograph), start=DAY
    )
    plans.start_plan(
        engine, patient_id=patient_id, plan=plan, times=TIMES, zone=LONDON, now=on(1, 7), actor="test"
    )
    return patient_id


@pytest.fixture
def patient(engine):
    return make_patient(engine)


def take_all(engine, patient, until: datetime):
    """Take every dose due up to ``until``, on time."""
    day = DAY
    while day <= until.date():
        for slot in doses.list_day(engine, patient_id=patient, day=day, now=until):
            if slot.due_at <= until and slot.recorded is None:
                doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="taken",
                                  now=slot.due_at, taken_at=None, actor="test")  # fmt: skip
        day += timedelta(days=1)


def status(engine, patient, now, thresholds=DEFAULTS):
    with read_only(engine) as session:
        return supply.supply_status(session, patient_id=patient, now=now, thresholds=thresholds)


def test_no_status_until_stock_is_recorded(engine, patient):
    assert status(engine, patient, on(1, 9)) is None
    overview = supply.supply_overview(engine, patient_id=patient, now=on(1, 9))
    assert overview.status is None and [p.spec for p in overview.products] == [TABLET]
    assert overview.forecast.not_counted == ("baclofen 10 mg tablets",)


def test_a_count_the_doses_taken_and_a_corrected_dose_move_the_stock(engine, patient):
    recorded = supply.record_stock(engine, patient_id=patient, kind="counted", product="10mg", quantity="20",
                                   now=on(1, 7, 30), actor="user:1")  # fmt: skip
    assert (recorded.product, recorded.quantity, recorded.stock_now) == (TABLET, "20 tablets", "20 tablets")
    take_all(engine, patient, on(2, 8))  # 4 doses of half a tablet
    overview = supply.supply_overview(engine, patient_id=patient, now=on(2, 9))
    assert overview.forecast.products[0].stock.quantity_milli == 18000
    first = status(engine, patient, on(2, 9))
    assert first is not None
    # the titration's steps: 20 tablets last until the 14:00 dose of day 8
    assert first.runs_out_at == on(8, 14) and first.level == "warning"
    assert first.message == (
        "About 6 days of baclofen 10 mg tablets left (runs out on Tue 8 Dec at 14:00): arrange a refill now."
    )
    assert first.sources == ("US-TAB", "OZO", "LYV", "DOSEWISE") and first.thresholds_are_defaults

    slot = next(
        s for s in doses.list_day(engine, patient_id=patient, day=DAY + timedelta(days=1), now=on(2, 9))
    )
    doses.correct_dose(engine, patient_id=patient, slot_id=slot.slot_id, change="undo", taken_at=None,
                       now=on(2, 9), actor="test")  # fmt: skip
    after_undo = supply.supply_overview(engine, patient_id=patient, now=on(2, 9))
    assert after_undo.forecast.products[0].stock.quantity_milli == 18500
    doses.correct_dose(engine, patient_id=patient, slot_id=slot.slot_id, change="skipped", taken_at=None,
                       now=on(2, 9, 5), actor="test")  # fmt: skip
    assert (
        supply.supply_overview(engine, patient_id=patient, now=on(2, 9, 10))
        .forecast.products[0]
        .stock.quantity_milli
        == 18500
    )
    doses.correct_dose(engine, patient_id=patient, slot_id=slot.slot_id, change="taken", taken_at="08:10",
                       now=on(2, 9, 15), actor="test")  # fmt: skip
    assert (
        supply.supply_overview(engine, patient_id=patient, now=on(2, 9, 20))
        .forecast.products[0]
        .stock.quantity_milli
        == 18000
    )


def test_a_refill_moves_the_run_out_and_the_episode(engine, patient):
    supply.record_stock(engine, patient_id=patient, kind="counted", product=TABLET, quantity=20,
                        now=on(1, 7, 30), actor="cli")  # fmt: skip
    take_all(engine, patient, on(5, 20))
    low = status(engine, patient, on(5, 21))
    assert low is not None and low.level == "caregivers"
    refill = supply.record_stock(engine, patient_id=patient, kind="collected", product=TABLET, quantity="100",
                                 now=on(5, 21), actor="cli")  # fmt: skip
    high = status(engine, patient, on(5, 21, 5))
    assert high is not None and high.level == "ok" and high.runs_out_at > on(20, 0)
    assert (low.episode, high.episode) == (f"stock-{refill.event_id - 1}", f"stock-{refill.event_id}")
    log = supply.supply_overview(engine, patient_id=patient, now=on(5, 22)).log
    assert [(line.kind, line.quantity, line.recorded_by) for line in log] == [
        ("collected", "+100 tablets", "cli"),
        ("counted", "20 tablets", "cli"),
    ]


def test_the_forecast_reads_an_open_ended_plan_past_the_slots_made(engine, patient):
    """Nobody opened Dosewise for 50 days (no slots topped up): the titration goes on at 6
    tablets a day from its record, so 200 tablets counted on day 50 run out on day 83."""
    supply.record_stock(engine, patient_id=patient, kind="counted", product=TABLET, quantity="200",
                        now=on(50, 7), actor="cli")  # fmt: skip
    found = status(engine, patient, on(50, 7))
    assert found is not None
    assert found.runs_out_at == on(50 + 33, 14)  # 33 days of 6, then 2 left: the 14:00 dose needs 2
    assert found.level == "ok" and found.days_left == pytest.approx(33 + 7 / 24)


def test_status_reads_from_a_session_or_a_connection_and_for_many_patients(engine, patient):
    other = make_patient(engine, "Q")
    silent = make_patient(engine, "R")  # nothing recorded: no status
    supply.record_stock(engine, patient_id=patient, kind="counted", product=TABLET, quantity="20",
                        now=on(1, 7, 30), actor="cli")  # fmt: skip
    supply.record_stock(engine, patient_id=other, kind="counted", product=TABLET, quantity="1",
                        now=on(1, 7, 30), actor="cli")  # fmt: skip
    with read_connection(engine) as connection:
        one = supply.supply_status(connection, patient_id=patient, now=on(1, 7, 45), thresholds=DEFAULTS)
        every = supply.supply_statuses(connection, patient_ids=None, now=on(1, 7, 45), thresholds=DEFAULTS)
        custom = supply.supply_statuses(
            connection,
            patient_ids=[patient, other, silent],
            now=on(1, 7, 45),
            thresholds={patient: SupplyThresholds(warn_days=10, caregivers_days=8, urgent_days=1)},
        )
    assert set(every) == {patient, other} and every[patient] == one
    assert every[other].level == "urgent" and every[other].runs_out_at == on(1, 20)
    assert custom[patient].level == "caregivers" and not custom[patient].thresholds_are_defaults
    assert silent not in custom


def test_bad_input_stores_nothing(engine, patient):
    cases = [
        ({"kind": "counted", "product": "tablet:25mg", "quantity": "3"}, "no product 'tablet:25mg'"),
        ({"kind": "counted", "product": TABLET, "quantity": "-3"}, "0 or more"),
        ({"kind": "collected", "product": TABLET, "quantity": "0"}, "more than 0"),
        ({"kind": "counted", "product": TABLET, "quantity": "2.25"}, "halves"),
        ({"kind": "adjusted", "product": TABLET, "quantity": "-2"}, "say why"),
        ({"kind": "spilled", "product": TABLET, "quantity": "2"}, "counted, collected or adjusted"),
    ]
    for given, message in cases:
        with pytest.raises(InputError, match=message):
            supply.record_stock(engine, patient_id=patient, now=on(1, 8), actor="cli", **given)
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(StockEventRow)) == 0


def test_every_line_is_audited(engine, patient):
    supply.record_stock(engine, patient_id=patient, kind="adjusted", product=TABLET, quantity="-1.5",
                        note="dropped", now=on(1, 8), actor="user:7")  # fmt: skip
    with unit_of_work(engine) as session:
        row = session.scalars(select(AuditRow).where(AuditRow.action == "supply_adjusted")).one()
    assert (row.actor, row.patient_id, row.entity) == ("user:7", patient, "stock_event")
    assert json.loads(row.detail) == {"product": TABLET, "quantity": -1.5, "unit": "tablet"}


def test_no_plan_no_doses_nothing_runs_out(engine):
    patient_id = patients.create_patient(engine, name="N", time_zone="Europe/London", now=on(1, 6), actor="t")
    with pytest.raises(InputError, match="start a plan first"):
        supply.record_stock(engine, patient_id=patient_id, kind="counted", product="10mg", quantity="3",
                            now=on(1, 8), actor="cli")  # fmt: skip
    overview = supply.supply_overview(engine, patient_id=patient_id, now=on(1, 8))
    assert overview.status is None and math.isinf(overview.forecast.days_left)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("tablet:10mg:halves", "tablet:10mg:halves"),
        ("Tablet:10mg", "tablet:10mg:halves"),
        ("10mg", "tablet:10mg:halves"),
        ("20", "tablet:20mg:halves"),
        ("tablet", "'tablet' could be more than one product: name one of tablet:5mg:whole"),
        ("25mg", "no product '25mg' in this diary: name one of tablet:5mg:whole"),
    ],
)
def test_a_product_as_people_name_it(typed, found):
    specs = ["tablet:5mg:whole", "tablet:10mg:halves", "tablet:20mg:halves"]
    if found.startswith("tablet:"):
        assert supply.find_product(specs, typed) == found
    else:
        with pytest.raises(InputError, match=found):
            supply.find_product(specs, typed)


def test_a_dose_due_now_and_not_yet_ticked_comes_out_of_the_stock(engine, patient):
    """One tablet (two halves) counted at 08:30 with the 08:00 dose not ticked yet: that dose is
    still to take [NHS], so the halves go to 08:00 and 14:00 and the 20:00 dose cannot be made.
    At 13:00 the 08:00 dose is missed (the 14:00 dose is within 2 hours): it takes nothing."""
    supply.record_stock(engine, patient_id=patient, kind="counted", product=TABLET, quantity="1",
                        now=on(1, 8, 30), actor="cli")  # fmt: skip
    assert status(engine, patient, on(1, 8, 30)).runs_out_at == on(1, 20)
    assert status(engine, patient, on(1, 13)).runs_out_at == on(2, 8)
