"""Maintenance plans and clinician-entered schedules: checked against every limit of the reference."""

from __future__ import annotations

from datetime import date

import pytest

from dosewise.domain.kidney import AboveKidneyMaximum, assess_creatinine_clearance, assess_dialysis
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_clinician_schedule, build_maintenance, parse_step_spec
from dosewise.errors import InputError, SafetyRefusal

START = date(2026, 12, 1)


def tablets(monograph):
    return parse_product_specs([], monograph)


def schedule(monograph, *specs, products=None, **kwargs):
    return build_clinician_schedule(
        monograph, steps=[parse_step_spec(s) for s in specs], products=products or tablets(monograph),
        start=START, **kwargs,
    )  # fmt: skip


def test_maintenance_keeps_the_dose_over_the_times(monograph):
    plan = build_maintenance(monograph, daily_mg=45, products=tablets(monograph), start=START, days=28)
    assert plan.kind == "maintenance"
    assert [(s.days, s.doses_ug) for s in plan.steps] == [(28, (15000, 15000, 15000))]
    assert "MAINTENANCE_ONLY" in [c.code for c in plan.cautions]
    assert "NEVER_STOP_ABRUPTLY" in [c.code for c in plan.cautions]


@pytest.mark.parametrize(
    ("kwargs", "message", "overridable"),
    [
        ({"daily_mg": 90}, "above the labelled maximum of 80 mg/day", True),
        ({"daily_mg": 130, "clinician_override": True}, "120 mg/day, which Dosewise never plans", False),
        ({"daily_mg": 60, "crcl": 40}, "above the kidney-adjusted maximum of 40 mg/day", False),
        ({"daily_mg": 20, "crcl": 20}, "avoiding baclofen is advised", True),
        ({"daily_mg": 20, "age_years": 12, "weight_kg": 40}, "No automatic plan under 18 years", False),
        # the override lifts the adult maximum, never the children's rule (baclofen.md 10)
        (
            {"daily_mg": 20, "age_years": 12, "weight_kg": 40, "clinician_override": True},
            "even with the clinician override",
            False,
        ),
    ],
)
def test_maintenance_limits(monograph, kwargs, message, overridable):
    crcl = kwargs.pop("crcl", None)
    kidney = assess_creatinine_clearance(monograph.kidney, crcl) if crcl else None
    with pytest.raises(SafetyRefusal, match=message) as refusal:
        build_maintenance(
            monograph, products=tablets(monograph), start=START, days=7, kidney=kidney, **kwargs
        )
    assert refusal.value.overridable is overridable


def test_maintenance_above_80_with_the_override(monograph):
    plan = build_maintenance(
        monograph, daily_mg=90, products=tablets(monograph), start=START, days=7, clinician_override=True
    )
    assert plan.steps[0].daily_ug == 90000
    assert "CLINICIAN_OVERRIDE" in [w.code for w in plan.warnings]


def test_a_clinician_schedule_is_kept_as_entered(monograph):
    plan = schedule(monograph, "3:5,5,5", "4:10,5,10", "5:10,10,10")
    assert plan.kind == "clinician"
    assert [(s.days, s.doses_ug) for s in plan.steps] == [
        (3, (5000, 5000, 5000)), (4, (10000, 5000, 10000)), (5, (10000, 10000, 10000)),
    ]  # fmt: skip
    assert [w.code for w in plan.warnings] == []


def test_pace_warnings(monograph):
    codes = [w.code for w in schedule(monograph, "3:20,20,20", "2:5,5,5", "3:20,20,20").warnings]
    assert codes == ["HIGH_START", "FAST_FALL", "FAST_RISE"]


@pytest.mark.parametrize(
    ("age", "weight", "specs", "message"),
    [
        (6, 30, ["3:5,5,5", "3:15,15,15"], "40 mg/day for a child under 8"),
        (10, 40, ["3:25,25,25"], "60 mg/day for a child of 8 or over"),
        (10, 20, ["3:15,15,15"], "2 mg/kg/day \\(40 mg/day at 20 kg\\)"),
    ],
)
def test_uk_limits_for_children(monograph, age, weight, specs, message):
    with pytest.raises(SafetyRefusal, match=message) as refusal:
        schedule(monograph, *specs, age_years=age, weight_kg=weight)
    assert not refusal.value.overridable


def test_a_child_schedule_within_the_limits(monograph):
    solution = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = schedule(monograph, "3:2,2,2", "3:4,4,4", products=solution, age_years=6, weight_kg=20)
    assert plan.max_daily_ug == 40000
    assert [w.code for w in plan.warnings] == []  # 6 mg/day is the 0.3 mg/kg/day start
    with pytest.raises(InputError, match="weight"):
        schedule(monograph, "3:2,2,2", products=solution, age_years=6)


def test_kidney_limits_and_the_override(monograph):
    with pytest.raises(SafetyRefusal, match="on dialysis") as refusal:
        schedule(monograph, "3:2.5,0,0", kidney=assess_dialysis(monograph.kidney))
    assert refusal.value.overridable
    solution = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = schedule(monograph, "3:0.5,0.5,1.5", products=solution, kidney=assess_dialysis(monograph.kidney),
                    clinician_override=True)  # fmt: skip
    assert plan.max_daily_ug == 5000
    with pytest.raises(SafetyRefusal, match="about 5 mg/day on dialysis"):
        schedule(monograph, "3:2,2,2", products=solution, kidney=assess_dialysis(monograph.kidney),
                 clinician_override=True)  # fmt: skip


@pytest.mark.parametrize(
    ("specs", "error", "message"),
    [
        (["3:10,10,10", "3:0,0,0"], SafetyRefusal, "stopping is a taper"),
        (["3:7,5,5"], InputError, "cannot be made from these products \\(the nearest below is 5 mg\\)"),
        (["3:5,5,5", "3:5,5"], InputError, "every step needs 3 doses"),
        (["0:5,5,5"], InputError, "at least 1 day"),
        (["3:5,5"], InputError, "doses per day must be 3 or 4"),
        (["3:-5,5,5"], InputError, "0 or more"),
        (["400:5,5,5"], InputError, "1-366 days"),
    ],
)
def test_bad_schedules(monograph, specs, error, message):
    with pytest.raises(error, match=message):
        schedule(monograph, *specs)


@pytest.mark.parametrize("text", ["3", "x:5,5,5", "3:5,a,5", ""])
def test_step_spelling(text):
    with pytest.raises(InputError, match="DAYS:DOSE"):
        parse_step_spec(text)


def moderate(monograph, crcl=40):
    return assess_creatinine_clearance(monograph.kidney, crcl)


def test_the_override_does_not_lift_the_kidney_adjusted_maximum(monograph):
    """Today's bug: 60 mg/day at CrCl 40 with the override was accepted without a word."""
    kwargs = {"products": tablets(monograph), "start": START, "days": 7, "kidney": moderate(monograph)}
    with pytest.raises(AboveKidneyMaximum, match="kidney-adjusted maximum of 40 mg/day") as refused:
        build_maintenance(monograph, daily_mg=60, clinician_override=True, **kwargs)
    assert refused.value.field == "above_kidney_max"
    assert not refused.value.overridable
    assert "up to 60 mg/day (1/2 of 120 mg/day)" in str(refused.value)
    assert "[CHEONG20]" in str(refused.value)
    plan = build_maintenance(monograph, daily_mg=60, clinician_override=True, above_kidney_max=True, **kwargs)
    assert plan.steps[0].daily_ug == 60_000
    assert plan.max_daily_ug == 60_000
    warning = next(w for w in plan.warnings if w.code == "ABOVE_KIDNEY_MAXIMUM")
    assert "CHEONG20" in warning.source and "kidney-adjusted maximum is 40 mg/day" in warning.message
    assert "CHEONG20" in plan.sources
    with pytest.raises(SafetyRefusal, match=r"60 mg/day at CrCl 40\.00 mL/min .*1/2 of 120"):
        build_maintenance(monograph, daily_mg=62.5, clinician_override=True, above_kidney_max=True, **kwargs)


def test_the_kidney_confirmation_is_the_clinicians_with_the_override(monograph):
    with pytest.raises(InputError, match="together with the clinician override") as raised:
        build_maintenance(monograph, daily_mg=30, products=tablets(monograph), start=START, days=7,
                          kidney=moderate(monograph), above_kidney_max=True)  # fmt: skip
    assert raised.value.field == "above_kidney_max"


def test_the_kidney_confirmation_is_needed_only_above_the_kidney_maximum(monograph):
    plan = build_maintenance(
        monograph, daily_mg=30, products=tablets(monograph), start=START, days=7,
        kidney=moderate(monograph), clinician_override=True, above_kidney_max=True,
    )  # fmt: skip
    assert plan.max_daily_ug == 40_000
    assert "ABOVE_KIDNEY_MAXIMUM" not in [w.code for w in plan.warnings]


def test_a_clinician_schedule_above_the_kidney_maximum(monograph):
    kidney = moderate(monograph)
    with pytest.raises(AboveKidneyMaximum, match="step 2: 45 mg/day at CrCl 40"):
        schedule(monograph, "3:10,10,10", "3:15,15,15", kidney=kidney, clinician_override=True)
    plan = schedule(monograph, "3:10,10,10", "3:15,15,15", kidney=kidney, clinician_override=True,
                    above_kidney_max=True)  # fmt: skip
    assert plan.max_daily_ug == 60_000
    assert "ABOVE_KIDNEY_MAXIMUM" in [w.code for w in plan.warnings]


def test_a_child_schedule_with_the_override_keeps_the_childrens_limits(monograph):
    with pytest.raises(SafetyRefusal, match="60 mg/day for a child of 8 or over") as refusal:
        schedule(monograph, "3:25,25,25", age_years=15, weight_kg=70, clinician_override=True)
    assert not refusal.value.overridable
