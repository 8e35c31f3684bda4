"""Kidney function: worked examples (tests/data/kidney_examples.toml), edges, input limits."""

from __future__ import annotations

import pytest

from conftest import load_data
from dosewise.domain.kidney import (
    assess_creatinine_clearance,
    assess_dialysis,
    assess_kidney_function,
)
from dosewise.errors import InputError

EXAMPLES = load_data("kidney_examples.toml")


@pytest.mark.parametrize("case", EXAMPLES["case"], ids=lambda c: f"{c['age']}{c['sex'][0]}")
def test_worked_examples(monograph, case):
    result = assess_kidney_function(
        monograph.kidney,
        age_years=case["age"],
        sex=case["sex"],
        weight_kg=case["weight_kg"],
        scr_mg_dl=case.get("scr_mg_dl"),
        scr_umol_l=case.get("scr_umol_l"),
    )
    assert result.crcl_ml_min == pytest.approx(case["crcl_ml_min"], abs=0.01)
    assert result.egfr_ckd_epi_2021 == pytest.approx(case["egfr"], abs=0.01)
    assert result.band == case["band"]
    assert {"CG76", "EPI21", "VLAV14"} <= set(result.sources)


@pytest.mark.parametrize(
    ("crcl", "band"), list(zip(EXAMPLES["edges"]["crcl"], EXAMPLES["edges"]["band"], strict=True))
)
def test_band_edges_are_exactly_the_references(monograph, crcl, band):
    assert assess_creatinine_clearance(monograph.kidney, crcl).band == band


@pytest.mark.parametrize(
    ("band", "factor", "clinician"),
    [
        ("normal", "1", False),
        ("mild", "2/3", False),
        ("moderate", "1/2", False),
        ("severe", "1/3", True),
    ],
)
def test_dose_factors(monograph, band, factor, clinician):
    crcl = {"normal": 100, "mild": 60, "moderate": 40, "severe": 20}[band]
    result = assess_creatinine_clearance(monograph.kidney, crcl)
    assert (str(result.dose_factor), result.requires_clinician) == (factor, clinician)


def test_dialysis_needs_a_clinician_and_has_no_factor(monograph):
    result = assess_dialysis(monograph.kidney)
    assert (result.band, result.dose_factor, result.requires_clinician) == ("dialysis", None, True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age_years", 17, "age 17 years is outside 18-120"),
        ("age_years", 121, "age 121"),
        ("age_years", -5, "age -5"),
        ("weight_kg", 19, "weight 19 kg is outside 20-350"),
        ("weight_kg", 400, "weight 400"),
        ("scr_mg_dl", 0.05, "serum creatinine 0.05 mg/dL is outside 0.1-20"),
        ("scr_mg_dl", 25, "serum creatinine 25"),
        ("scr_mg_dl", float("nan"), "serum creatinine nan"),
        ("scr_umol_l", 5, "serum creatinine 5 µmol/L is outside 9-1768"),
        ("scr_umol_l", 2000, "serum creatinine 2000"),
    ],
)
def test_implausible_inputs_are_errors_not_guesses(monograph, field, value, message):
    inputs = {"age_years": 60, "sex": "male", "weight_kg": 70, "scr_mg_dl": 1.0}
    if field == "scr_umol_l":
        inputs.pop("scr_mg_dl")
    inputs[field] = value
    with pytest.raises(InputError, match=message):
        assess_kidney_function(monograph.kidney, **inputs)


def test_creatinine_must_be_given_once(monograph):
    with pytest.raises(InputError, match="give serum creatinine once"):
        assess_kidney_function(
            monograph.kidney, age_years=60, sex="male", weight_kg=70, scr_mg_dl=1, scr_umol_l=88.4
        )


@pytest.mark.parametrize("crcl", [-1, -0.1, 250.5, float("inf"), float("nan")])
def test_typed_crcl_outside_limits(monograph, crcl):
    with pytest.raises(InputError, match="CrCl"):
        assess_creatinine_clearance(monograph.kidney, crcl)
