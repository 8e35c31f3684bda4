"""The plan use case itself (services.plans.build_plan): what the CLI, the pages and the API all
call. Errors name the field to fix; the override is checked against the caller."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest

from dosewise.errors import InputError, SafetyRefusal
from dosewise.services.inputs import PlanInput, parse_input
from dosewise.services.plans import KidneyInput, PlanRequest, build_plan

START = date(2026, 12, 1)


@dataclass(frozen=True)
class Caller:
    may_override: bool
    relation: str = "owner"


def _request(**fields: object) -> PlanRequest:
    return PlanRequest(**{"kind": "titration", "target_mg_day": 30, "start": START, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({}, "titration"),
        ({"kind": "taper", "from_mg_day": 30, "target_mg_day": None}, "taper"),
        ({"kind": "maintenance", "mg_day": 15, "review_weeks": 2}, "maintenance"),
        ({"kind": "clinician", "steps": ("3:5,5,5", "4:5,5,10")}, "clinician"),
    ],
)
def test_each_kind_is_built_by_its_domain_builder(fields: dict[str, object], kind: str) -> None:
    built = build_plan(_request(**fields))
    assert built.plan.kind == kind
    assert built.plan.steps[0].start == START
    assert "prescriber" in built.plan.disclaimer


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"target_mg_day": None}, "target_mg_day"),
        ({"kind": "taper", "from_mg_day": 30, "min_days": 500}, "min_days"),
        ({"kind": "maintenance", "mg_day": 15, "review_weeks": 400}, "review_weeks"),
        ({"doses_per_day": 6}, "doses_per_day"),
        ({"times": "08:00,25:00,20:00"}, "times"),
        ({"products": ("tablet:7mg",)}, "products"),
        ({"kidney": KidneyInput(crcl_ml_min=-5)}, "crcl_ml_min"),
        ({"kidney": KidneyInput(scr_umol_l=150), "age_years": 60, "sex": "male"}, "weight_kg"),
        ({"kidney": KidneyInput(way="crcl")}, "crcl_ml_min"),
        ({"kidney": KidneyInput(way="none", scr_umol_l=150)}, "kidney_way"),
        # a value of another way than the one chosen is never silently ignored
        ({"kidney": KidneyInput(way="crcl", crcl_ml_min=50, scr_umol_l=150)}, "scr_umol_l"),
        ({"kidney": KidneyInput(way="creatinine", crcl_ml_min=50, scr_umol_l=150)}, "crcl_ml_min"),
        ({"kidney": KidneyInput(way="dialysis", crcl_ml_min=12)}, "crcl_ml_min"),
        ({"kidney": KidneyInput(way="creatinine")}, "scr_umol_l"),
        ({"kind": "clinician", "steps": ("three:5,5,5",)}, "steps"),
        ({"kind": "clinician", "steps": ("3:2,2,2",), "age_years": 10}, "weight_kg"),
        ({"above_kidney_max": True, "kidney": KidneyInput(crcl_ml_min=40)}, "above_kidney_max"),
        ({"start": date(1999, 1, 1)}, "start"),
    ],
)
def test_an_error_names_the_field_to_fix(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        build_plan(_request(**fields), caller=Caller(may_override=True))
    assert raised.value.field == field
    assert "--" not in str(raised.value)  # no CLI flag in a message other interfaces show


def test_only_the_patients_clinician_may_override() -> None:
    dialysis = _request(kidney=KidneyInput(dialysis=True), products=("solution:1mg/ml",))
    with pytest.raises(SafetyRefusal) as refused:
        build_plan(dialysis)
    assert refused.value.overridable
    overridden = replace(dialysis, clinician_override=True)
    with pytest.raises(InputError, match="only the patient's clinician") as raised:
        build_plan(overridden, caller=Caller(may_override=False))
    assert raised.value.field == "clinician_override"
    assert build_plan(overridden, caller=Caller(may_override=True)).plan.kidney is not None
    assert build_plan(overridden).plan.max_daily_ug > 0  # the local CLI answers for its own flag


def test_the_form_and_the_api_make_the_same_request() -> None:
    form = {
        "kind": "titration",
        "target_mg_day": "30",
        "start": "2026-12-01",
        "kidney_way": "creatinine",
        "scr": "1,7",
        "scr_unit": "mg_dl",
        "age_years": "60",
        "sex": "male",
        "weight_kg": "80",
        "min_days": "",
        "steps": "",
    }
    body = {
        "kind": "titration",
        "target_mg_day": 30,
        "start": "2026-12-01",
        "scr": 1.7,
        "scr_unit": "mg_dl",
        "age_years": 60,
        "sex": "male",
        "weight_kg": 80,
    }
    from_form = parse_input(PlanInput, form).to_request()
    from_api = parse_input(PlanInput, body).to_request()
    assert build_plan(from_form).plan == build_plan(from_api).plan
    with pytest.raises(InputError, match="whole number") as raised:
        parse_input(PlanInput, {**form, "review_weeks": "2.5"})
    assert raised.value.field == "review_weeks"


def test_an_unverified_clinician_is_told_why_the_override_is_refused() -> None:
    """Issue 15: the patient's clinician whose account no administrator verified yet."""
    overridden = _request(
        kidney=KidneyInput(dialysis=True), products=("solution:1mg/ml",), clinician_override=True
    )
    with pytest.raises(InputError, match="your clinician account is not verified yet") as raised:
        build_plan(overridden, caller=Caller(may_override=False, relation="clinician"))
    assert raised.value.field == "clinician_override"
