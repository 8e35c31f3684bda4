"""Titration and taper: worked examples (tests/data/plan_examples.toml), refusals, properties."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_data
from dosewise.domain.kidney import AboveKidneyMaximum, assess_creatinine_clearance, assess_dialysis
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.taper import build_taper
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError, SafetyRefusal

EXAMPLES = load_data("plan_examples.toml")
START = date(2026, 12, 1)


def mg(values):
    return [round(v * 1000) for v in values]


def titration(monograph, **kwargs):
    products = parse_product_specs(kwargs.pop("products", []), monograph)
    crcl = kwargs.pop("crcl", None)
    kidney = assess_creatinine_clearance(monograph.kidney, crcl) if crcl is not None else None
    return build_titration(monograph, products=products, start=START, kidney=kidney, **kwargs)


@pytest.mark.parametrize("case", EXAMPLES["titration"], ids=lambda c: c["name"])
def test_titration_worked_examples(monograph, case):
    plan = titration(
        monograph,
        target_daily_mg=case["target"],
        products=case.get("products", []),
        crcl=case.get("crcl"),
        doses_per_day=case.get("doses_per_day", 3),
        age_years=case.get("age"),
    )
    assert [s.daily_ug for s in plan.steps] == mg(case["daily"])
    assert [s.days for s in plan.steps] == case["days"]
    assert [list(s.doses_ug) for s in plan.steps] == [mg(d) for d in case["doses"]]
    assert plan.max_daily_ug == round(case["max_daily"] * 1000)
    assert plan.steps[0].start == START
    for before, after in zip(plan.steps, plan.steps[1:], strict=False):
        assert after.start == before.start + timedelta(days=before.days)
    if "how_first" in case:
        assert plan.steps[0].recipes[0].describe() == case["how_first"]
    for key in case["source"].replace(",", " ").split():
        assert key in plan.sources
    codes = [w.code for w in plan.warnings]
    for code in case.get("warnings", []):
        assert code in codes


def test_a_target_the_products_cannot_reach_is_said_plainly(monograph):
    """Today's bug: 25 mg tablets in halves, 60 mg/day asked, 50 mg/day given without a word."""
    plan = titration(monograph, target_daily_mg=60, products=["tablet:25mg:halves"])
    warning = next(w for w in plan.warnings if w.code == "TARGET_NOT_REACHED")
    assert warning.severity == "warning"
    assert warning.message.startswith(
        "With 25 mg tablet (halves), the closest to 60 mg/day that can be given is 50 mg/day "
        "(3 doses: 12.5, 12.5, 25 mg): doses are rounded down, never up."
    )
    assert plan.steps[-1].daily_ug == 50_000  # rounding down stays
    kidney = titration(monograph, target_daily_mg=55, crcl=45)
    message = next(w.message for w in kidney.warnings if w.code == "TARGET_NOT_REACHED")
    assert "the closest to 27.5 mg/day (the target of 55 mg/day at normal kidney function x 1/2)" in message
    assert "is 25 mg/day (3 doses: 5, 10, 10 mg)" in message
    exact = titration(monograph, target_daily_mg=60)
    assert "TARGET_NOT_REACHED" not in [w.code for w in exact.warnings]


def test_a_single_dose_above_20_mg_is_warned(monograph):
    plan = titration(monograph, target_daily_mg=120, clinician_override=True)
    warning = next(w for w in plan.warnings if w.code == "LARGE_SINGLE_DOSE")
    assert "step 8: 40 mg" in warning.message
    assert "20 mg four times daily" in warning.message and "Dosewise default" in warning.message
    assert warning.source == "US-TAB, DOSEWISE"
    labelled = titration(monograph, target_daily_mg=80, doses_per_day=4)  # 20 mg four times daily
    assert "LARGE_SINGLE_DOSE" not in [w.code for w in labelled.warnings]
    taper = build_taper(
        monograph, from_daily_mg=100, products=parse_product_specs([], monograph), start=START
    )
    assert "LARGE_SINGLE_DOSE" in [w.code for w in taper.warnings]


@pytest.mark.parametrize("case", EXAMPLES["taper"], ids=lambda c: c["name"])
def test_taper_worked_examples(monograph, case):
    plan = build_taper(
        monograph,
        from_daily_mg=case["from"],
        products=parse_product_specs([], monograph),
        start=START,
        min_days=case.get("min_days"),
    )
    assert [s.daily_ug for s in plan.steps] == mg(case["daily"])
    assert [s.days for s in plan.steps] == case["days"]
    assert plan.stop_date == START + timedelta(days=case["stop_offset_days"])
    assert_taper_obeys_section_4(plan, case["from"], case.get("min_days") or 14)


def test_kidney_step_is_labelled_step_times_factor_rounded_down(monograph):
    """Acceptance: each step of a kidney-adjusted plan = labelled step x factor, rounded down."""
    for crcl, factor in ((65, 2 / 3), (45, 1 / 2)):
        plan = titration(monograph, target_daily_mg=60, crcl=crcl, products=["tablet:10mg:halves"])
        for step, labelled in zip(plan.steps, (15, 30, 45, 60), strict=True):
            exact = labelled * factor
            assert step.daily_ug <= round(exact * 1000)
            assert step.daily_ug == 5000 * int(exact // 5)  # 5 mg is the smallest piece here


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_daily_mg": 90}, "above the labelled maximum of 80 mg/day"),
        (
            {"target_daily_mg": 60, "crcl": 25},
            r"CrCl 25.00 mL/min is below 30 \(severe\).*1/3 of the usual dose, starting at no more than 7.5",
        ),
    ],
)
def test_refusals_where_a_clinician_must_decide(monograph, kwargs, message):
    with pytest.raises(SafetyRefusal, match=message) as refusal:
        titration(monograph, **kwargs)
    assert refusal.value.overridable


def test_dialysis_refused_then_capped_with_override(monograph):
    products = parse_product_specs(["solution:1mg/ml"], monograph)
    kwargs = {
        "target_daily_mg": 60,
        "products": products,
        "start": START,
        "kidney": assess_dialysis(monograph.kidney),
    }
    with pytest.raises(SafetyRefusal, match="dialysis"):
        build_titration(monograph, **kwargs)
    plan = build_titration(monograph, clinician_override=True, **kwargs)
    assert [s.daily_ug for s in plan.steps] == [2500, 5000]  # start 2.5 [CHEONG20], max 5 [PMS]
    assert {"PMS", "CHEONG20"} <= set(plan.sources)


def test_severe_kidney_with_override_is_one_third_and_starts_low(monograph):
    plan = titration(
        monograph,
        target_daily_mg=60,
        crcl=20,
        products=["solution:1mg/ml"],
        clinician_override=True,
    )
    assert [s.daily_ug for s in plan.steps] == [5000, 10000, 15000, 20000]
    assert plan.steps[0].daily_ug <= 7500  # CHEONG20
    assert plan.max_daily_ug == 26666
    assert any(w.code == "CLINICIAN_OVERRIDE" for w in plan.warnings)


def test_override_above_80_stays_within_120(monograph):
    plan = titration(monograph, target_daily_mg=120, doses_per_day=4, clinician_override=True)
    assert [s.daily_ug // 1000 for s in plan.steps] == [15, 30, 45, 60, 75, 90, 105, 120]
    assert plan.max_daily_ug == 120_000


@pytest.mark.parametrize("age", [0, 7, 15, 17.9])
@pytest.mark.parametrize("override", [False, True])
def test_no_automatic_plan_under_18_even_with_the_override(monograph, age, override):
    """Today's bug: a 15-year-old under the override got an automatic 20, 40, 60 mg/day."""
    with pytest.raises(SafetyRefusal, match="No automatic plan under 18 years") as refusal:
        titration(monograph, target_daily_mg=60, age_years=age, weight_kg=50, clinician_override=override)
    assert not refusal.value.overridable
    assert "even with the clinician override" in str(refusal.value)
    assert "the UK limits" in str(refusal.value) and "[UK]" in str(refusal.value)


def test_the_override_lifts_the_adult_maximum_only_at_normal_kidney_function(monograph):
    with pytest.raises(AboveKidneyMaximum, match=r"is 50 mg/day at CrCl 40\.00 mL/min") as refused:
        titration(monograph, target_daily_mg=100, crcl=40, doses_per_day=4, clinician_override=True)
    assert refused.value.field == "above_kidney_max"
    plan = titration(monograph, target_daily_mg=100, crcl=40, doses_per_day=4, clinician_override=True,
                     above_kidney_max=True)  # fmt: skip
    assert plan.steps[-1].daily_ug == 50_000
    assert plan.max_daily_ug == 60_000  # 120 x 1/2, never more
    assert "ABOVE_KIDNEY_MAXIMUM" in [w.code for w in plan.warnings]
    assert "CHEONG20" in plan.sources
    # a target within 80 mg/day needs no confirmation; the maximum stays 80 x factor
    within = titration(monograph, target_daily_mg=80, crcl=40, doses_per_day=4, clinician_override=True)
    assert within.max_daily_ug == 40_000


def test_severe_kidney_above_the_kidney_maximum_never_above_120_times_a_third(monograph):
    plan = titration(monograph, target_daily_mg=120, crcl=20, doses_per_day=4, products=["solution:1mg/ml"],
                     clinician_override=True, above_kidney_max=True)  # fmt: skip
    assert plan.max_daily_ug == 40_000
    assert max(s.daily_ug for s in plan.steps) <= 40_000
    assert plan.steps[0].daily_ug <= 7_500  # CHEONG20


@pytest.mark.parametrize(
    ("target", "products", "override"),
    [(75, ["tablet:25mg:halves"], False), (90, ["tablet:10mg:whole"], True), (80, ["granules:20mg"], False)],
)
def test_rounding_never_makes_a_step_rise_more_than_15(monograph, target, products, override):
    try:
        plan = titration(monograph, target_daily_mg=target, products=products, clinician_override=override)
    except InputError as error:  # products too coarse to rise in 15 mg steps: no plan at all
        assert "cannot" in str(error)
        return
    dailies = [s.daily_ug for s in plan.steps]
    assert max(b - a for a, b in pairwise(dailies)) <= 15_000
    assert dailies[-1] <= target * 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_daily_mg": 130}, "above 120 mg/day, which Dosewise never plans"),
        ({"target_daily_mg": 0}, "above 0"),
        ({"target_daily_mg": -10}, "above 0"),
        ({"target_daily_mg": 60, "doses_per_day": 2}, "doses per day must be 3 or 4"),
        ({"target_daily_mg": 60, "age_years": 200}, "age 200 years is not plausible"),
        (
            {"target_daily_mg": 60, "crcl": 45, "products": ["tablet:20mg:whole"]},
            "cannot make the first step \\(7.5 mg/day",
        ),
    ],
)
def test_bad_titration_inputs(monograph, kwargs, message):
    with pytest.raises(InputError, match=message):
        titration(monograph, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"from_daily_mg": 60, "min_days": 7}, SafetyRefusal, "at least 14 days"),
        ({"from_daily_mg": 130}, InputError, "above 120"),
        ({"from_daily_mg": 0}, InputError, "above 0"),
        ({"from_daily_mg": 60, "min_days": 1000}, InputError, "more than 365 days"),
    ],
)
def test_bad_taper_inputs(monograph, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_taper(monograph, products=parse_product_specs([], monograph), start=START, **kwargs)


def test_taper_from_the_smallest_dose_holds_then_stops(monograph):
    plan = build_taper(monograph, from_daily_mg=5, products=parse_product_specs([], monograph), start=START)
    assert [(s.daily_ug, s.days) for s in plan.steps] == [(5000, 14)]
    assert any(w.code == "HOLD_THEN_STOP" for w in plan.warnings)


# ---------------------------------------------------------------------------- properties
def assert_taper_obeys_section_4(plan, from_mg, min_days):
    """Every taper rule of the clinical reference, section 4, checked on the output."""
    totals = [from_mg * 1000] + [s.daily_ug for s in plan.steps] + [0]
    limit = 10_000 if from_mg <= 40 else 15_000  # product default / FR
    for before, after in itertools.pairwise(totals):
        assert after <= before, "the daily total never increases"
        assert before - after <= limit, "each step lowers the total by at most the limit"
    assert all(s.days >= 3 for s in plan.steps), "steps last at least 3 days"
    assert sum(s.days for s in plan.steps) >= max(14, min_days), "at least 14 days in all"
    assert plan.steps[-1].daily_ug <= 15_000, "the last step is at most 15 mg/day"
    assert plan.stop_date == plan.steps[-1].end + timedelta(days=1)


SOLIDS = [
    "tablet:5mg:whole", "tablet:10mg:halves", "tablet:10mg:whole", "tablet:20mg:halves", "tablet:25mg:halves",
    "tablet:25mg:quarters", "granules:5mg", "granules:10mg", "granules:20mg",
]  # fmt: skip
LIQUIDS = ["solution:1mg/ml", "solution:1mg/ml:0.1ml", "solution:2mg/ml", "suspension:5mg/ml:1ml"]


@st.composite
def product_sets(draw):
    chosen = draw(st.lists(st.sampled_from(SOLIDS + LIQUIDS), min_size=1, max_size=4, unique=True))
    kinds = {spec.rsplit(":", 1)[0] if spec.count(":") == 2 and "tablet" in spec else spec for spec in chosen}
    strengths = [c.split(":")[0] + c.split(":")[1] for c in chosen]
    if len(set(strengths)) < len(strengths) or len(kinds) < len(chosen):
        chosen = chosen[:1]
    return chosen


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    specs=product_sets(),
    target=st.floats(min_value=1, max_value=80),
    crcl=st.one_of(st.none(), st.floats(min_value=30, max_value=250)),
    doses_per_day=st.sampled_from([3, 4]),
    age=st.one_of(st.none(), st.integers(min_value=18, max_value=110)),
)
def test_titration_properties(monograph, specs, target, crcl, doses_per_day, age):
    try:
        plan = titration(
            monograph, target_daily_mg=target, products=specs, crcl=crcl,
            doses_per_day=doses_per_day, age_years=age,
        )  # fmt: skip
    except InputError as error:
        assert "cannot make" in str(error)  # only the products may fail a valid request
        return
    products = set(plan.products)
    dailies = [s.daily_ug for s in plan.steps]
    assert all(0 < d <= plan.max_daily_ug for d in dailies), "no step above max_daily_mg"
    assert plan.max_daily_ug <= 80_000
    assert dailies == sorted(dailies), "a titration never decreases"
    assert all(b - a <= 15_000 for a, b in pairwise(dailies)), "rises of 15 at most"
    for step in plan.steps:
        assert len(step.doses_ug) == doses_per_day
        assert sum(step.doses_ug) == step.daily_ug <= step.requested_daily_ug
        for dose, recipe in zip(step.doses_ug, step.recipes, strict=True):
            if dose:
                assert recipe.dose_ug == dose, "every dose is deliverable"
                assert {p.product for p in recipe.portions} <= products
                assert all(p.fraction <= p.product.split for p in recipe.portions)
            else:
                assert recipe is None


@PROPERTY
@given(
    specs=product_sets(),
    from_mg=st.integers(min_value=1, max_value=120).map(float) | st.floats(min_value=0.5, max_value=120),
    doses_per_day=st.sampled_from([3, 4]),
    min_days=st.one_of(st.none(), st.integers(min_value=14, max_value=90)),
)
def test_taper_properties(monograph, specs, from_mg, doses_per_day, min_days):
    try:
        plan = build_taper(
            monograph, from_daily_mg=from_mg, products=parse_product_specs(specs, monograph),
            start=START, doses_per_day=doses_per_day, min_days=min_days,
        )  # fmt: skip
    except InputError as error:
        assert "cannot make" in str(error)
        return
    assert_taper_obeys_section_4(plan, round(from_mg * 1000) / 1000, min_days or 14)
    for step in plan.steps:
        for dose, recipe in zip(step.doses_ug, step.recipes, strict=True):
            assert (recipe.dose_ug if recipe else 0) == dose


@PROPERTY
@given(
    target=st.floats(min_value=1, max_value=120),
    age=st.floats(min_value=0, max_value=17.99),
    weight=st.one_of(st.none(), st.floats(min_value=2, max_value=150)),
    override=st.booleans(),
    crcl=st.one_of(st.none(), st.floats(min_value=1, max_value=250)),
)
def test_no_automatic_plan_under_18(monograph, target, age, weight, override, crcl):
    """Under 18 only a clinician's own schedule: no titration or maintenance, override or not."""
    kidney = assess_creatinine_clearance(monograph.kidney, crcl) if crcl is not None else None
    common = {
        "products": parse_product_specs(["solution:1mg/ml"], monograph), "start": START, "kidney": kidney,
        "age_years": age, "weight_kg": weight, "clinician_override": override,
    }  # fmt: skip
    with pytest.raises(SafetyRefusal, match="No automatic plan under 18") as refused:
        build_titration(monograph, target_daily_mg=target, **common)
    assert not refused.value.overridable
    with pytest.raises(SafetyRefusal, match="No automatic plan under 18"):
        build_maintenance(monograph, daily_mg=target, days=7, **common)


@PROPERTY
@given(
    specs=product_sets(),
    target=st.floats(min_value=1, max_value=120),
    crcl=st.floats(min_value=0, max_value=250),
    doses_per_day=st.sampled_from([3, 4]),
    confirmed=st.booleans(),
    kind=st.sampled_from(["titration", "maintenance"]),
)
def test_never_above_the_kidney_maximum_without_the_confirmation(
    monograph, specs, target, crcl, doses_per_day, confirmed, kind
):
    """With the override: never above 80 x factor without the kidney confirmation, never above
    120 x factor with it, and the confirmation used is always said (CHEONG20)."""
    kidney = assess_creatinine_clearance(monograph.kidney, crcl)
    common = {
        "products": parse_product_specs(specs, monograph), "start": START, "kidney": kidney,
        "doses_per_day": doses_per_day, "clinician_override": True, "above_kidney_max": confirmed,
    }  # fmt: skip
    try:
        if kind == "titration":
            plan = build_titration(monograph, target_daily_mg=target, **common)
        else:
            plan = build_maintenance(monograph, daily_mg=target, days=7, **common)
    except AboveKidneyMaximum as refusal:
        assert not confirmed and kidney.impaired
        assert refusal.field == "above_kidney_max" and "CHEONG20" in str(refusal)
        return
    except SafetyRefusal as refusal:  # 120 x factor even with the confirmation
        assert kind == "maintenance" and "the most Dosewise plans above" in str(refusal)
        return
    except InputError as error:
        assert "cannot make" in str(error)
        return
    factor = kidney.dose_factor
    highest = max(step.daily_ug for step in plan.steps)
    assert highest <= plan.max_daily_ug
    assert highest <= math.floor(120_000 * factor)
    kidney_max = math.floor(80_000 * factor)
    warned = "ABOVE_KIDNEY_MAXIMUM" in [w.code for w in plan.warnings]
    if kidney.impaired and highest > kidney_max:
        assert confirmed and warned, "above the kidney-adjusted maximum only confirmed, and said"
    if warned:  # the plan may go above it (its steps may round down below it)
        assert confirmed and kidney.impaired and plan.max_daily_ug > kidney_max
