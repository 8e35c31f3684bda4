"""Kidney function for dosing: Cockcroft-Gault CrCl [CG76], CKD-EPI 2021 eGFR [EPI21] for
information, and the dose band [VLAV14] with the exact edges of the clinical reference."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from dosewise.domain.findings import Finding
from dosewise.domain.monograph import KidneyBand, KidneyRules, Monograph, cite_sources
from dosewise.domain.units import format_mg, mg_to_ug
from dosewise.errors import InputError, SafetyRefusal

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


CRCL_DECIMALS = 2  # CrCl is shown truncated to this many decimals (see format_crcl)


def format_crcl(rules: KidneyRules, crcl_ml_min: float) -> str:
    """CrCl for people, never a number of another band: truncated (never rounded up) to
    :data:`CRCL_DECIMALS` decimals, so 29.996 (severe) reads 29.99, not 30.00 (moderate) and
    49.96 stays 49.96; just above the exclusive lower edge of the normal band (80.001, where
    truncating would read 80.00, which is mild) as many more decimals as it takes to stay in the
    band. The exact value stays in the JSON (``crcl_ml_min``). docs/adr/0014."""
    band = find_kidney_band(rules, crcl_ml_min)
    text = repr(crcl_ml_min)  # the shortest exact spelling: 29.99 is "29.99", not 29.98999...
    if "e" in text or "n" in text:  # tiny, huge or not a number: never a CrCl that passed the checks
        text = f"{crcl_ml_min:.20f}"
    whole, _, decimals = text.partition(".")
    for places in range(CRCL_DECIMALS, max(len(decimals), CRCL_DECIMALS) + 1):
        shown = f"{whole}.{decimals[:places].ljust(places, '0')}"  # truncated: CrCl is never negative
        if find_kidney_band(rules, float(shown)) is band:
            return shown
    return text


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


class AboveKidneyMaximum(SafetyRefusal):
    """A plan above the kidney-adjusted maximum (80 mg/day x the band factor): the clinician
    override alone does not lift it; the clinician must also confirm ``above_kidney_max``, up to
    120 mg/day x the factor (baclofen.md section 10) [CHEONG20]."""

    field = "above_kidney_max"

    def __init__(self, message: str) -> None:
        super().__init__(message, overridable=False)


def calculate_kidney_maximum_ug(
    monograph: Monograph, kidney: KidneyAssessment, *, confirmed: bool = False
) -> int:
    """The daily maximum (µg, floored) at this kidney function: the labelled maximum x the band
    factor, or with ``confirmed`` (above the kidney-adjusted maximum) the override ceiling x the
    factor. Dialysis has fixed caps instead (no factor): its maximum [PMS]."""
    rules = monograph.titration
    if kidney.dose_factor is None:
        return mg_to_ug(monograph.kidney.dialysis.max_daily_mg)
    ceiling = rules.override_max_daily_mg if confirmed else rules.max_daily_mg
    return math.floor(mg_to_ug(ceiling) * kidney.dose_factor)


def describe_kidney_maximum(monograph: Monograph, kidney: KidneyAssessment) -> str:
    """``"CrCl 40.00 mL/min (moderate), above the kidney-adjusted maximum of 40 mg/day ..."``"""
    rules = monograph.titration
    return (
        f"CrCl {format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)} mL/min ({kidney.band}), above the "
        f"kidney-adjusted maximum of {format_mg(calculate_kidney_maximum_ug(monograph, kidney))} mg/day "
        f"({kidney.dose_factor} of the labelled {rules.max_daily_mg:g} mg/day) [{', '.join(kidney.sources)}]"
    )


def explain_above_kidney_max(monograph: Monograph, kidney: KidneyAssessment) -> str:
    """Why the override alone does not allow it, and what a clinician may confirm."""
    rules = monograph.titration
    ceiling = calculate_kidney_maximum_ug(monograph, kidney, confirmed=True)
    return (
        ": the clinician override lifts the labelled maximum, not the kidney-adjusted one. A clinician "
        "may also confirm a plan above the kidney-adjusted maximum, up to "
        f"{format_mg(ceiling)} mg/day ({kidney.dose_factor} of {rules.override_max_daily_mg:g} mg/day) "
        f"[{rules.override_max_daily_source}], knowing that baclofen has caused toxicity in kidney disease "
        "from 10 mg/day in CKD stage 4 and 5 mg/day on dialysis [CHEONG20]"
    )


def above_kidney_max_finding(monograph: Monograph, kidney: KidneyAssessment, max_daily_ug: int) -> Finding:
    """The warning every plan above the kidney-adjusted maximum carries (the clinician confirmed it)."""
    kidney_max = calculate_kidney_maximum_ug(monograph, kidney)
    crcl = format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)
    return Finding(
        code="ABOVE_KIDNEY_MAXIMUM",
        severity="warning",
        message=(
            "Above the kidney-adjusted maximum, confirmed by the clinician: up to "
            f"{format_mg(max_daily_ug)} mg/day at CrCl {crcl} "
            f"mL/min ({kidney.band}), where the kidney-adjusted maximum is {format_mg(kidney_max)} mg/day. "
            "Baclofen has caused toxicity in kidney disease from 10 mg/day in CKD stage 4 and 5 mg/day on "
            "dialysis; it accumulates and can cause confusion, drowsiness and coma, often 2-3 days after "
            "starting [WOLF17, CHEONG20]: monitor closely."
        ),
        source="CHEONG20, WOLF17",
    )


def check_above_kidney_max(above_kidney_max: bool, clinician_override: bool) -> None:
    """Going above the kidney-adjusted maximum is a clinician's choice, on top of the override."""
    if above_kidney_max and not clinician_override:
        raise InputError(
            "going above the kidney-adjusted maximum is a clinician's choice, made together with the "
            "clinician override",
            field="above_kidney_max",
        )
