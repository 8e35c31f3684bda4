"""Kidney function for dosing: Cockcroft-Gault CrCl [CG76], CKD-EPI 2021 eGFR [EPI21] for
information, and the dose band [VLAV14] with the exact edges of the clinical reference."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from dosewise.domain.monograph import KidneyBand, KidneyRules, cite_sources
from dosewise.errors import InputError

Sex = Literal["female", "male"]
BandName = Literal["normal", "mild", "moderate", "severe", "dialysis"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyAssessment:
    """Kidney function as it bears on the dose."""

    band: BandName
    crcl_ml_min: float | None  # None on dialysis
    egfr_ckd_epi_2021: float | None  # None when CrCl was given directly
    dose_factor: Fraction | None  # None on dialysis (fixed caps instead)
    requires_clinician: bool
    sources: tuple[str, ...]

    @property
    def impaired(self) -> bool:
        return self.band != "normal"


def calculate_creatinine_clearance(
    *, age_years: float, sex: Sex, weight_kg: float, scr_mg_dl: float
) -> float:
    """Cockcroft-Gault creatinine clearance in mL/min [CG76], actual body weight."""
    crcl = (140 - age_years) * weight_kg / (72 * scr_mg_dl)
    return crcl * 0.85 if sex == "female" else crcl


def estimate_egfr_ckd_epi_2021(*, age_years: float, sex: Sex, scr_mg_dl: float) -> float:
    """CKD-EPI 2021 (race-free) eGFR in mL/min/1.73 m² [EPI21]; for information only."""
    kappa, alpha = (0.7, -0.241) if sex == "female" else (0.9, -0.302)
    ratio = scr_mg_dl / kappa
    egfr = (
        142
        * math.pow(min(ratio, 1.0), alpha)
        * math.pow(max(ratio, 1.0), -1.200)
        * math.pow(0.9938, age_years)
    )
    return egfr * 1.012 if sex == "female" else egfr


def format_crcl(crcl_ml_min: float) -> str:
    """CrCl for people: 2 decimals, so a value just under a band edge (49.96) never reads as
    the edge itself (50.0)."""
    return f"{crcl_ml_min:.2f}"


def find_kidney_band(rules: KidneyRules, crcl_ml_min: float) -> KidneyBand:
    """The band holding ``crcl_ml_min`` (bands run from highest to lowest lower edge)."""
    for band in rules.bands:
        if band.holds(crcl_ml_min):
            return band
    return rules.bands[-1]


def _check(
    name: str, value: float, limits: tuple[float, float], unit: str, hint: str, field: str | None = None
) -> None:
    low, high = limits
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{name} {value:g} {unit} is outside {low:g}-{high:g} {unit}: {hint}", field=field)


def assess_kidney_function(
    rules: KidneyRules,
    *,
    age_years: float,
    sex: Sex,
    weight_kg: float,
    scr_mg_dl: float | None = None,
    scr_umol_l: float | None = None,
) -> KidneyAssessment:
    """CrCl, eGFR and dose band from age, sex, weight and serum creatinine (one unit)."""
    if (scr_mg_dl is None) == (scr_umol_l is None):
        raise InputError("give serum creatinine once, in mg/dL or in µmol/L", field="scr_mg_dl")
    _check("age", age_years, rules.age_years, "years",
           "Cockcroft-Gault is for adults; check the age", "age_years")  # fmt: skip
    _check("weight", weight_kg, rules.weight_kg, "kg", "check the weight and its unit (kg)", "weight_kg")
    if scr_umol_l is not None:
        _check("serum creatinine", scr_umol_l, rules.scr_umol_l, "µmol/L",
               "check the value and its unit", "scr_umol_l")  # fmt: skip
        scr_mg_dl = scr_umol_l / rules.umol_per_mg_dl
    assert scr_mg_dl is not None  # one of the two was given (checked above)
    _check("serum creatinine", scr_mg_dl, rules.scr_mg_dl, "mg/dL",
           "check the value and its unit (is it in µmol/L?)", "scr_mg_dl")  # fmt: skip
    crcl = calculate_creatinine_clearance(
        age_years=age_years, sex=sex, weight_kg=weight_kg, scr_mg_dl=scr_mg_dl
    )
    egfr = estimate_egfr_ckd_epi_2021(age_years=age_years, sex=sex, scr_mg_dl=scr_mg_dl)
    return _assessment(rules, crcl, egfr, (rules.formula_source, rules.egfr_source))


def assess_creatinine_clearance(rules: KidneyRules, crcl_ml_min: float) -> KidneyAssessment:
    """The dose band for a CrCl the user already knows (mL/min, Cockcroft-Gault)."""
    _check("CrCl", crcl_ml_min, rules.crcl_ml_min, "mL/min",
           "give creatinine clearance in mL/min (Cockcroft-Gault)")  # fmt: skip
    return _assessment(rules, crcl_ml_min, None, ())


def assess_dialysis(rules: KidneyRules) -> KidneyAssessment:
    """Kidney function of a patient on dialysis: no band factor, fixed caps instead."""
    return KidneyAssessment(
        band="dialysis",
        crcl_ml_min=None,
        egfr_ckd_epi_2021=None,
        dose_factor=None,
        requires_clinician=rules.dialysis.requires_clinician,
        sources=cite_sources(rules.dialysis.source),
    )


def _assessment(
    rules: KidneyRules, crcl: float, egfr: float | None, formula_sources: tuple[str, ...]
) -> KidneyAssessment:
    band = find_kidney_band(rules, crcl)
    return KidneyAssessment(
        band=band.name,
        crcl_ml_min=crcl,
        egfr_ckd_epi_2021=egfr,
        dose_factor=band.factor,
        requires_clinician=band.requires_clinician,
        sources=cite_sources(*formula_sources, rules.bands_source, band.source),
    )
