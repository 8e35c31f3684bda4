"""Supply: the stock from its ledger and the doses taken, and the run-out forecast through the
plan's coming doses (the daily amount changes at each titration step), with halves and liquids."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import build_dose_events
from dosewise.domain.supply import (
    DoseUse,
    StockEvent,
    SupplyThresholds,
    calculate_stock,
    calculate_uses,
    forecast_supply,
    parse_quantity,
)
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError
from dosewise.monographs import load_monograph

ZONE = ZoneInfo("Europe/London")
TIMES = (time(8), time(14), time(20))
START = date(2026, 12, 1)
TABLET = "tablet:10mg:halves"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Day 1 is the plan's first day."""
    return datetime.combine(START + timedelta(days=day - 1), time(hour, minute), ZONE)


def doses_of(plan):
    return [
        DoseUse(at=event.at, dose_ug=event.dose_ug, uses=calculate_uses(event.recipe))
        for event in build_dose_events(plan, TIMES, ZONE)
    ]


def counted(tablets: float, when: datetime, event_id: int = 1, product: str = TABLET) -> StockEvent:
    return StockEvent(
        event_id=event_id, product=product, kind="counted", quantity_milli=round(tablets * 1000), at=when
    )


def collected(tablets: float, when: datetime, event_id: int, product: str = TABLET) -> StockEvent:
    return StockEvent(
        event_id=event_id, product=product, kind="collected", quantity_milli=round(tablets * 1000), at=when
    )


@pytest.fixture
def titration(monograph):
    """5, 10, 15, 20 mg three times a day, 3 days each, from 10 mg tablets that halve:
    1.5, 3, 4.5 and 6 tablets a day [US-TAB]."""
    products = parse_product_specs([TABLET], monograph)
    return products, build_titration(monograph, target_daily_mg=60, products=products, start=START)


def test_a_5_mg_dose_from_10_mg_tablets_uses_half_a_tablet(titration):
    _, plan = titration
    first = doses_of(plan)[0]
    assert (first.dose_ug, first.uses) == (5000, {TABLET: 500})


def test_the_forecast_walks_the_titration_steps_not_todays_amount(titration):
    """20 tablets at the start: days 1-3 use 4.5, days 4-6 use 9, day 7 uses 4.5 (2 left), day
    8 at 08:00 uses 1.5 (0.5 left): the 14:00 dose of day 8 cannot be made. At the first step's
    1.5 tablets a day the same 20 tablets would seem to last 13 days."""
    products, plan = titration
    now = at(1, 7)
    forecast = forecast_supply(
        products=products,
        events=[counted(20, now)],
        taken=[],
        coming=doses_of(plan),
        now=now,
        thresholds=SupplyThresholds(),
    )
    assert forecast.runs_out_at == at(8, 14)
    assert forecast.days_left == pytest.approx(7 + 7 / 24)
    assert forecast.level == "ok"  # more than the 7 days of the product default
    (tablets,) = forecast.products
    assert tablets.doses_covered == 22 and tablets.covered_until == at(8, 8)
    assert forecast.message == "About 7 days of baclofen 10 mg tablets left (runs out on Tue 8 Dec at 14:00)."


def test_doses_taken_count_the_stock_down_and_the_warning_levels_follow(titration):
    products, plan = titration
    events = [counted(20, at(1, 7))]
    doses = doses_of(plan)

    def forecast_at(now):
        return forecast_supply(
            products=products,
            events=events,
            taken=[d for d in doses if d.at <= now],
            coming=[d for d in doses if d.at > now],
            now=now,
            thresholds=SupplyThresholds(),
        )

    on_day_2 = forecast_at(at(2, 9))
    assert on_day_2.products[0].stock.quantity_milli == 20000 - 4 * 500
    assert on_day_2.level == "warning" and on_day_2.runs_out_at == at(8, 14)
    assert forecast_at(at(5, 15)).level == "caregivers"  # about 2.96 days left
    assert forecast_at(at(7, 15)).level == "urgent"
    out = forecast_at(at(8, 9))
    assert out.level == "out" and out.days_left == pytest.approx(5 / 24)
    assert out.message.startswith("Not enough baclofen 10 mg tablets left for the dose today at 14:00")


def test_a_refill_moves_the_forecast_and_starts_a_new_episode(titration):
    products, plan = titration
    doses = doses_of(plan)
    now = at(3, 9)
    before = [counted(20, at(1, 7), 1)]
    taken = [d for d in doses if d.at <= now]
    coming = [d for d in doses if d.at > now]
    first = forecast_supply(
        products=products, events=before, taken=taken, coming=coming, now=now, thresholds=SupplyThresholds()
    )
    second = forecast_supply(
        products=products,
        events=[*before, collected(100, now, 2)],
        taken=taken,
        coming=coming,
        now=now,
        thresholds=SupplyThresholds(),
    )
    assert first.runs_out_at == at(8, 14) and first.level == "warning"
    # 100 more tablets: day 8 onwards is 6 a day, so they last well past the 12-day titration
    assert second.runs_out_at is None or second.runs_out_at > at(20, 0)
    assert second.level == "ok"
    assert (first.episode, second.episode) == ("stock-1", "stock-2")


def test_a_count_replaces_the_stock_and_a_lower_count_keeps_the_episode():
    use = {TABLET: 1000}
    taken = [DoseUse(at=at(1, 8), dose_ug=10000, uses=use), DoseUse(at=at(1, 14), dose_ug=10000, uses=use)]
    events = [collected(30, at(1, 7), 1), counted(25, at(1, 12), 2)]  # one dose taken between: 29 -> 25
    stock = calculate_stock(events, taken, TABLET)
    assert stock is not None
    assert stock.quantity_milli == 24000  # the count, less the 14:00 dose
    assert stock.episode == 1  # the count lowered the stock: no new episode
    higher = calculate_stock([*events, counted(60, at(1, 15), 3)], taken, TABLET)
    assert higher is not None and higher.episode == 3


def test_a_dose_taken_at_the_moment_of_a_count_is_in_the_count():
    taken = [DoseUse(at=at(1, 8), dose_ug=10000, uses={TABLET: 1000})]
    stock = calculate_stock([counted(10, at(1, 8))], taken, TABLET)
    assert stock is not None and stock.quantity_milli == 10000


def test_more_doses_taken_than_the_stock_never_goes_below_zero_and_says_so():
    taken = [DoseUse(at=at(1, h), dose_ug=10000, uses={TABLET: 1000}) for h in (8, 14, 20)]
    stock = calculate_stock([counted(2, at(1, 7))], taken, TABLET)
    assert stock is not None and (stock.quantity_milli, stock.overdrawn) == (0, True)


def test_a_liquid_is_counted_in_ml(monograph):
    """Maintenance 30 mg a day of 1 mg/mL solution: 10 mL three times a day; 95 mL lasts 9
    doses (90 mL), the 10th cannot be made in full."""
    products = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = build_maintenance(monograph, daily_mg=30, products=products, start=START, days=30)
    doses = doses_of(plan)
    spec = products[0].spec
    assert doses[0].uses == {spec: 10000}  # 10 mL, in thousandths of a mL
    now = at(1, 7)
    forecast = forecast_supply(
        products=products,
        events=[counted(95, now, product=spec)],
        taken=[],
        coming=doses,
        now=now,
        thresholds=SupplyThresholds(),
    )
    assert forecast.runs_out_at == at(4, 8)
    assert forecast.limiting is not None and forecast.limiting.unit == "mL"
    assert forecast.level == "warning"  # 3 days and 1 hour: above the caregivers' 3 days
    assert "baclofen 1 mg/mL oral solution" in forecast.message


def test_enough_for_a_taper_that_ends_is_not_a_warning(titration):
    products, plan = titration
    short = [d for d in doses_of(plan) if d.at < at(3, 0)]  # the plan's last doses are on day 2
    now = at(1, 7)
    forecast = forecast_supply(
        products=products,
        events=[counted(50, now)],
        taken=[],
        coming=short,
        now=now,
        thresholds=SupplyThresholds(),
    )
    assert forecast.level == "ok" and forecast.runs_out_at is None and math.isinf(forecast.days_left)
    assert forecast.message.startswith("Enough baclofen 10 mg tablets for every planned dose")


def test_products_never_counted_are_named_and_do_not_decide(monograph):
    products = parse_product_specs(["tablet:10mg:halves", "tablet:5mg"], monograph)
    coming = [DoseUse(at=at(1, 8), dose_ug=15000, uses={TABLET: 1000, "tablet:5mg:whole": 1000})]
    forecast = forecast_supply(
        products=products,
        events=[counted(30, at(1, 7))],
        taken=[],
        coming=coming,
        now=at(1, 7),
        thresholds=SupplyThresholds(),
    )
    assert forecast.not_counted == ("baclofen 5 mg tablets",)
    assert forecast.limiting is not None and forecast.limiting.product == TABLET


def test_thresholds_are_product_defaults_and_refuse_nonsense():
    assert SupplyThresholds().are_defaults
    assert "product defaults" in SupplyThresholds().describe()
    assert "set for this patient" in SupplyThresholds(warn_days=10).describe()
    with pytest.raises(InputError, match="fall"):
        SupplyThresholds(warn_days=2, caregivers_days=3)


@pytest.mark.parametrize(
    ("spec", "typed", "kind", "milli"),
    [
        ("tablet:10mg:halves", "37", "counted", 37000),
        ("tablet:10mg:halves", "37.5", "counted", 37500),
        ("tablet:10mg:halves", "37,5", "counted", 37500),
        ("tablet:10mg:halves", "37½", "counted", 37500),
        ("tablet:10mg:halves", "37 1/2", "counted", 37500),
        ("tablet:10mg:halves", "0", "counted", 0),
        ("tablet:10mg:halves", "-2", "adjusted", -2000),
        ("tablet:25mg:quarters", "3.25", "collected", 3250),
        ("solution:1mg/ml", "143.5 ml", "counted", 143500),
    ],
)
def test_amounts_as_typed(monograph, spec, typed, kind, milli):
    (product,) = parse_product_specs([spec], monograph)
    assert parse_quantity(typed, product, kind=kind) == milli


@pytest.mark.parametrize(
    ("spec", "typed", "kind", "message"),
    [
        ("tablet:10mg:halves", "-3", "counted", "0 or more tablets"),
        ("tablet:10mg:halves", "0", "collected", "more than 0 tablets"),
        ("tablet:10mg:halves", "2.25", "counted", "whole tablets and halves"),
        ("tablet:5mg", "2.5", "counted", "counted whole"),
        ("tablet:10mg:halves", "lots", "counted", "a number of tablets"),
        ("tablet:10mg:halves", "20000", "collected", "at most 10,000 tablets"),
        ("tablet:10mg:halves", "0", "adjusted", "must change the stock"),
        ("solution:1mg/ml", "10.05", "counted", "0.1 mL"),
    ],
)
def test_bad_amounts_say_what_to_fix(monograph, spec, typed, kind, message):
    (product,) = parse_product_specs([spec], monograph)
    with pytest.raises(InputError, match=message):
        parse_quantity(typed, product, kind=kind)


# --- properties --------------------------------------------------------------------------------

HALF = {TABLET: 500}
WHOLE = {TABLET: 1000}


@st.composite
def diaries(draw):
    """A count, then up to 20 doses of half or whole tablets an hour or more apart, some taken
    (before now) and the rest coming."""
    count = draw(st.integers(min_value=0, max_value=40)) * 500
    hours = draw(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=20))
    doses, moment = [], at(1, 8)
    for gap in hours:
        moment += timedelta(hours=gap)
        doses.append(DoseUse(at=moment, dose_ug=5000, uses=draw(st.sampled_from([HALF, WHOLE]))))
    split = draw(st.integers(min_value=0, max_value=len(doses)))
    now = doses[split - 1].at + timedelta(minutes=1) if split else at(1, 8)
    return count, doses[:split], doses[split:], now


@given(diaries(), st.integers(min_value=1, max_value=40))
def test_the_stock_is_never_negative_and_a_refill_never_brings_the_run_out_forward(diary, refill_halves):
    count, taken, coming, now = diary
    products = parse_product_specs([TABLET], load_monograph("baclofen"))
    events = [StockEvent(event_id=1, product=TABLET, kind="counted", quantity_milli=count, at=at(1, 7))]
    before = forecast_supply(
        products=products, events=events, taken=taken, coming=coming, now=now, thresholds=SupplyThresholds()
    )
    refill = StockEvent(
        event_id=2, product=TABLET, kind="collected", quantity_milli=refill_halves * 500, at=now
    )
    after = forecast_supply(
        products=products,
        events=[*events, refill],
        taken=taken,
        coming=coming,
        now=now,
        thresholds=SupplyThresholds(),
    )
    (stock,) = before.products
    assert stock.stock is not None and stock.stock.quantity_milli >= 0
    assert after.days_left >= before.days_left
    assert after.products[0].doses_covered >= before.products[0].doses_covered
    levels = ("ok", "warning", "caregivers", "urgent", "out")
    assert levels.index(after.level) <= levels.index(before.level)
