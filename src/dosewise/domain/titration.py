"""Titration: the labelled steps toward the prescriber's target, adjusted for the kidneys.

The plan is the normal-kidney ladder (15, 30, 45, 60 mg/day, 3 days each [US-TAB]; beyond
60 mg/day at most +15 mg every 3 days) toward the target, capped at the maximum; then every
step and the maximum are scaled by the kidney dose factor [VLAV14] and rounded **down** to what
the patient's products can make. The target is read at normal kidney function (see
docs/adr/0003-kidney-factor-scales-the-target.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from dosewise.domain.advice import build_standing_advice, check_rounding, gather_sources
from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.monograph import Monograph, TitrationRules
from dosewise.domain.plan import Plan, StepRequest, build_plan_steps, check_doses_per_day
from dosewise.domain.products import Product, build_dose_menu
from dosewise.domain.units import format_mg, mg_to_ug
from dosewise.errors import InputError, SafetyRefusal

OVERRIDE_HINT = "a clinician who has reviewed the patient may plan it with the clinician override"


def build_titration(
    monograph: Monograph,
    *,
    target_daily_mg: float,
    products: Sequence[Product],
    start: date,
    doses_per_day: int = 3,
    kidney: KidneyAssessment | None = None,
    age_years: float | None = None,
    weight_kg: float | None = None,
    clinician_override: bool = False,
) -> Plan:
    """A titration plan, or :class:`SafetyRefusal` where the reference requires a clinician."""
    rules = monograph.titration
    _check_inputs(rules, target_daily_mg, doses_per_day, age_years, weight_kg)
    refusals = _refusals(monograph, target_daily_mg, kidney, age_years)
    if refusals and not clinician_override:
        raise SafetyRefusal(
            f"No automatic plan: {'; '.join(refusals)}. {OVERRIDE_HINT.capitalize()}.",
            overridable=True,
        )
    warnings: list[Finding] = [
        Finding(
            code="CLINICIAN_OVERRIDE",
            severity="warning",
            message=f"Clinician override: {reason}. The plan stays within the reference's caps.",
            source="DOSEWISE",
        )
        for reason in refusals
    ]
    ladder, step_days, max_normal_mg, start_cap_mg = _normal_kidney_ladder(
        monograph, target_daily_mg, age_years, weight_kg, clinician_override, warnings
    )
    factor, max_daily_ug, start_cap_ug = _kidney_caps(
        monograph, kidney, max_normal_mg, start_cap_mg, warnings, target_daily_mg
    )
    menu = build_dose_menu(products, cap_ug=max_daily_ug)
    requests: list[StepRequest] = []
    for index, (step_mg, days) in enumerate(zip(ladder, step_days, strict=True)):
        requested = min(math.floor(mg_to_ug(step_mg) * factor), max_daily_ug)
        if index == 0 and start_cap_ug is not None:
            requested = min(requested, start_cap_ug)
        daily = menu.floor_daily_ug(requested, doses_per_day)
        if daily == 0:
            raise InputError(
                f"these products cannot make step {index + 1} ({format_mg(requested)} mg/day in "
                f"up to {doses_per_day} doses): their smallest dose is {format_mg(menu.smallest_ug)} mg. "
                "Add a product with smaller doses, e.g. --product solution:1mg/ml"
            )
        requests.append(StepRequest(requested_daily_ug=requested, daily_ug=daily, days=days))
    steps = build_plan_steps(menu, requests, start=start, doses_per_day=doses_per_day)
    if any(step.daily_ug > max_daily_ug for step in steps):  # safety limit as code
        raise SafetyRefusal("internal check failed: a step exceeds the maximum; no plan given")
    warnings += check_rounding(steps, doses_per_day)
    final = steps[-1]
    info = Finding(
        code="MAINTENANCE",
        severity="info",
        message=(
            f"From {final.start.isoformat()} stay at {format_mg(final.daily_ug)} mg/day until the "
            "prescriber reviews the effect; further changes are the prescriber's decision."
        ),
        source=rules.source,
    )
    cautions = (*build_standing_advice(monograph, "titration", kidney), info)
    return Plan(
        drug=monograph.name,
        kind="titration",
        doses_per_day=doses_per_day,
        products=tuple(products),
        kidney=kidney,
        max_daily_ug=max_daily_ug,
        steps=steps,
        warnings=tuple(warnings),
        cautions=cautions,
        sources=gather_sources(
            rules.source,
            rules.max_daily_source,
            *(kidney.sources if kidney else ()),
            *_product_sources(monograph, products),
            findings=(*warnings, *cautions),
        ),
        disclaimer=monograph.disclaimer,
    )


def _check_inputs(
    rules: TitrationRules,
    target_daily_mg: float,
    doses_per_day: int,
    age_years: float | None,
    weight_kg: float | None,
) -> None:
    check_doses_per_day(rules, doses_per_day)
    if not math.isfinite(target_daily_mg) or target_daily_mg <= 0:
        raise InputError(f"target must be a daily dose in mg above 0, got {target_daily_mg:g}")
    if target_daily_mg > rules.override_max_daily_mg:
        raise InputError(
            f"target {target_daily_mg:g} mg/day is above {rules.override_max_daily_mg:g} mg/day, "
            f"which Dosewise never plans [{rules.override_max_daily_source}]: check the target"
        )
    if age_years is not None and not (math.isfinite(age_years) and 0 <= age_years <= 120):
        raise InputError(f"age {age_years:g} years is not plausible: give the age in years (0-120)")
    if weight_kg is not None and not (math.isfinite(weight_kg) and 0 < weight_kg <= 350):
        raise InputError(f"weight {weight_kg:g} kg is not plausible: give the weight in kg")


def _refusals(
    monograph: Monograph,
    target_daily_mg: float,
    kidney: KidneyAssessment | None,
    age_years: float | None,
) -> list[str]:
    """Why the reference requires a clinician for this plan (empty: an automatic plan is fine)."""
    rules = monograph.titration
    reasons: list[str] = []
    children = rules.children
    if age_years is not None and age_years < children.min_age_automatic_years:
        reasons.append(
            f"age {age_years:g} is under {children.min_age_automatic_years}: dosing is weight-based and "
            f"set by a clinician [{children.source}]"
        )
    if kidney is not None and kidney.band == "dialysis":
        dialysis = monograph.kidney.dialysis
        reasons.append(
            f"on dialysis: at most about {dialysis.max_daily_mg:g} mg/day [{dialysis.max_source}], "
            f"starting at {dialysis.start_daily_mg:g} mg/day [{dialysis.start_source}]"
        )
    elif kidney is not None and kidney.requires_clinician and kidney.crcl_ml_min is not None:
        reasons.append(
            f"CrCl {kidney.crcl_ml_min:.1f} mL/min is below 30 ({kidney.band}): avoiding baclofen is "
            f"advised [{', '.join(kidney.sources)}]"
        )
    if target_daily_mg > rules.max_daily_mg:
        reasons.append(
            f"target {target_daily_mg:g} mg/day is above the labelled maximum of "
            f"{rules.max_daily_mg:g} mg/day [{rules.max_daily_source}]; higher doses are for "
            f"carefully monitored hospital settings [{rules.override_max_daily_source}]"
        )
    return reasons


def _normal_kidney_ladder(
    monograph: Monograph,
    target_daily_mg: float,
    age_years: float | None,
    weight_kg: float | None,
    clinician_override: bool,
    warnings: list[Finding],
) -> tuple[list[float], list[int], float, float | None]:
    """Daily totals and days per step at normal kidney function, the maximum, a start cap."""
    rules = monograph.titration
    max_mg = rules.max_daily_mg
    if clinician_override and target_daily_mg > rules.max_daily_mg:
        max_mg = rules.override_max_daily_mg
    start_cap_mg: float | None = None
    children = rules.children
    if age_years is not None and age_years < children.min_age_automatic_years:
        if weight_kg is None:
            raise InputError("give the child's weight in kg: the starting dose is weight-based")
        age_cap = children.max_daily_mg_under_8 if age_years < 8 else children.max_daily_mg_from_8
        max_mg = min(max_mg, age_cap)
        start_cap_mg = children.start_mg_per_kg_day * weight_kg
        warnings.append(
            Finding(
                code="CHILD_LIMITS",
                severity="warning",
                message=(
                    f"Under {children.min_age_automatic_years}: start at no more than "
                    f"{children.start_mg_per_kg_day:g} mg/kg/day ({start_cap_mg:g} mg/day) and stay at "
                    f"or below {age_cap:g} mg/day."
                ),
                source=children.limits_source,
            )
        )
    target = min(target_daily_mg, max_mg)
    if target < target_daily_mg:
        warnings.append(
            Finding(
                code="TARGET_CAPPED",
                severity="warning",
                message=f"Target {target_daily_mg:g} mg/day is capped at {max_mg:g} mg/day.",
                source=rules.max_daily_source if max_mg == rules.max_daily_mg else children.limits_source,
            )
        )
    step_days = rules.step_days
    older = rules.older_adults
    if age_years is not None and age_years >= older.min_age_years:
        step_days = older.step_days
        warnings.append(
            Finding(
                code="OLDER_ADULT_STEPS",
                severity="warning",
                message=(
                    f"Age {older.min_age_years}+: titrate cautiously. Product default: "
                    f"{older.step_days} days per step instead of {rules.step_days}; the prescriber may "
                    "change this."
                ),
                source=older.source,
            )
        )
    ladder: list[float] = []
    for step_mg in rules.steps_daily_mg:
        ladder.append(min(step_mg, target))
        if step_mg >= target:
            break
    beyond = rules.beyond_labelled
    while ladder[-1] < target:
        ladder.append(min(ladder[-1] + beyond.max_increase_mg, target))
    labelled = len(rules.steps_daily_mg)
    days = [step_days if i < labelled else max(beyond.min_step_days, step_days) for i in range(len(ladder))]
    return ladder, days, max_mg, start_cap_mg


def _kidney_caps(
    monograph: Monograph,
    kidney: KidneyAssessment | None,
    max_normal_mg: float,
    start_cap_mg: float | None,
    warnings: list[Finding],
    target_daily_mg: float,
) -> tuple[Fraction, int, int | None]:
    """The dose factor, the plan's maximum (µg) and a cap on the first step (µg or None)."""
    start_cap_ug = mg_to_ug(start_cap_mg) if start_cap_mg is not None else None
    if kidney is None or kidney.band == "normal":
        return Fraction(1), mg_to_ug(max_normal_mg), start_cap_ug
    if kidney.band == "dialysis":
        dialysis = monograph.kidney.dialysis
        warnings.append(
            Finding(
                code="DIALYSIS",
                severity="warning",
                message=(
                    f"On dialysis: start at {dialysis.start_daily_mg:g} mg/day and stay at or below "
                    f"about {dialysis.max_daily_mg:g} mg/day."
                ),
                source=dialysis.source,
            )
        )
        # no band factor on dialysis: the fixed start becomes the first step's cap and the
        # fixed maximum the plan's cap, so the ladder is start -> maximum
        cap = mg_to_ug(min(dialysis.max_daily_mg, max_normal_mg))
        start = mg_to_ug(dialysis.start_daily_mg)
        return Fraction(1), cap, start if start_cap_ug is None else min(start, start_cap_ug)
    factor = kidney.dose_factor if kidney.dose_factor is not None else Fraction(1)
    band = next(b for b in monograph.kidney.bands if b.name == kidney.band)
    max_ug = math.floor(mg_to_ug(max_normal_mg) * factor)
    if band.start_max_daily_mg is not None:
        band_start = mg_to_ug(band.start_max_daily_mg)
        start_cap_ug = band_start if start_cap_ug is None else min(start_cap_ug, band_start)
    target_ug = math.floor(mg_to_ug(min(target_daily_mg, max_normal_mg)) * factor)
    warnings.append(
        Finding(
            code="KIDNEY_ADJUSTED",
            severity="warning",
            message=(
                f"CrCl {kidney.crcl_ml_min:.1f} mL/min ({kidney.band}): every step and the maximum are "
                f"scaled by {factor}; a target of {min(target_daily_mg, max_normal_mg):g} mg/day at "
                f"normal kidney function becomes {format_mg(target_ug)} mg/day, maximum "
                f"{format_mg(max_ug)} mg/day."
            ),
            source=", ".join(kidney.sources),
        )
    )
    return factor, max_ug, start_cap_ug


def _product_sources(monograph: Monograph, products: Sequence[Product]) -> list[str]:
    sources = []
    for product in products:
        definition = monograph.product_definition(product.form, product.strength_ug / 1000)
        if definition is not None:
            sources.append(definition.source)
    return sources
