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

from dosewise.domain.advice import build_standing_advice, check_dose_sizes, check_rounding, gather_sources
from dosewise.domain.findings import Finding
from dosewise.domain.kidney import (
    AboveKidneyMaximum,
    KidneyAssessment,
    above_kidney_max_finding,
    calculate_kidney_maximum_ug,
    check_above_kidney_max,
    describe_kidney_maximum,
    explain_above_kidney_max,
    format_crcl,
)
from dosewise.domain.monograph import Monograph
from dosewise.domain.plan import Plan, PlanStep, StepRequest, build_plan_steps, check_doses_per_day
from dosewise.domain.products import DoseMenu, Product, build_dose_menu
from dosewise.domain.units import format_mg, mg_to_ug, ug_to_mg
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
    above_kidney_max: bool = False,
) -> Plan:
    """A titration plan, or :class:`SafetyRefusal` where the reference requires a clinician.

    The clinician override lifts the labelled maximum (80 mg/day) to at most 120 mg/day at
    normal kidney function; with reduced kidney function the kidney-adjusted maximum (80 x the
    band factor) stays the limit unless ``above_kidney_max`` also confirms going above it, to at
    most 120 x the factor (baclofen.md section 10). Never a plan under 18 (:func:`refuse_children`).
    """
    rules = monograph.titration
    _check_inputs(monograph, target_daily_mg, doses_per_day, age_years, weight_kg)
    refuse_children(monograph, age_years)
    refusals = refusal_reasons(monograph, target_daily_mg, kidney, age_years)
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
    check_above_kidney_max(above_kidney_max, clinician_override)
    ladder, step_days, max_normal_mg = _normal_kidney_ladder(
        monograph, target_daily_mg, age_years, clinician_override, warnings
    )
    increase_mg = rules.beyond_labelled.max_increase_mg
    factor, max_daily_ug, start_cap_ug = _kidney_caps(
        monograph, kidney, max_normal_mg, warnings, target_daily_mg, above_kidney_max
    )
    menu = build_dose_menu(products, cap_ug=max_daily_ug)
    goals = [min(math.floor(mg_to_ug(step_mg) * factor), max_daily_ug) for step_mg in ladder]
    if start_cap_ug is not None:
        goals[0] = min(goals[0], start_cap_ug)
    requests = _climb(menu, goals, step_days, mg_to_ug(increase_mg), doses_per_day)
    if len(requests) > len(goals):
        warnings.append(
            Finding(
                code="RISE_LIMITED",
                severity="warning",
                message=(
                    f"Extra steps were added so that no step rises by more than {increase_mg:g} mg/day: "
                    "these products cannot make the labelled steps exactly."
                ),
                source=rules.beyond_labelled.source,
            )
        )
    steps = build_plan_steps(menu, requests, start=start, doses_per_day=doses_per_day)
    if any(step.daily_ug > max_daily_ug for step in steps):  # safety limit as code
        raise SafetyRefusal("internal check failed: a step exceeds the maximum; no plan given")
    warnings += check_rounding(steps, doses_per_day)
    warnings += check_target_reached(steps[-1], goals[-1], target_daily_mg, factor, products)
    warnings += check_dose_sizes(monograph, steps)
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
            *product_sources(monograph, products),
            findings=(*warnings, *cautions),
        ),
        disclaimer=monograph.disclaimer,
        normal_kidney_target_ug=mg_to_ug(min(target_daily_mg, max_normal_mg)),
    )


def check_target_reached(
    final: PlanStep, goal_ug: int, target_daily_mg: float, factor: Fraction, products: Sequence[Product]
) -> list[Finding]:
    """Say plainly when the products cannot make the daily dose the plan aims at (rounded down,
    never up [baclofen.md section 1]): the plan ends below it."""
    if final.daily_ug >= goal_ug:
        return []
    aimed = f"{format_mg(goal_ug)} mg/day"
    if factor != 1:
        aimed += f" (the target of {target_daily_mg:.10g} mg/day at normal kidney function x {factor})"
    elif mg_to_ug(target_daily_mg) != goal_ug:
        aimed += " (the target, capped at the maximum)"
    given = [format_mg(dose) for dose in final.doses_ug if dose]
    doses = f"{len(given)} dose{'' if len(given) == 1 else 's'}: {', '.join(given)} mg"
    return [
        Finding(
            code="TARGET_NOT_REACHED",
            severity="warning",
            message=(
                f"With {' and '.join(product.describe() for product in products)}, the closest to {aimed} "
                f"that can be given is {format_mg(final.daily_ug)} mg/day ({doses}): doses are rounded "
                "down, never up. The plan ends there; a product with smaller doses (for example an oral "
                "solution) would reach the target."
            ),
            source="DOSEWISE",
        )
    ]


def _climb(
    menu: DoseMenu, goals: list[int], step_days: list[int], increase_ug: int, doses_per_day: int
) -> list[StepRequest]:
    """Steps toward each goal in turn, each rounded down to what the products make and never
    rising by more than ``increase_ug`` over the step before (extra steps where needed)."""
    requests: list[StepRequest] = []
    index = 0
    while index < len(goals):
        goal = goals[index]
        previous = requests[-1].daily_ug if requests else 0
        asked = min(goal, previous + increase_ug) if requests else goal
        daily = menu.floor_daily_ug(asked, doses_per_day)
        if not requests and daily == 0:
            raise InputError(
                f"these products cannot make the first step ({format_mg(goal)} mg/day in up to "
                f"{doses_per_day} doses): their smallest dose is {format_mg(menu.smallest_ug)} mg. "
                "Add a product with smaller doses (an oral solution, e.g. a 1 mg/mL oral solution, "
                "or a finer measuring step)"
            )
        if requests and daily <= previous and asked < goal:
            above = menu.floor_daily_ug(goal, doses_per_day)
            raise InputError(
                f"these products cannot raise {format_mg(previous)} mg/day by at most "
                f"{format_mg(increase_ug)} mg/day (the next total they make is {format_mg(above)} mg/day): "
                "add a product with smaller doses"
            )
        # an extra step (asked < goal) records what it gives, so it is not reported as rounded
        requested = asked if asked == goal else daily
        requests.append(StepRequest(requested_daily_ug=requested, daily_ug=daily, days=step_days[index]))
        if asked == goal:
            index += 1
    return requests


def _check_inputs(
    monograph: Monograph,
    target_daily_mg: float,
    doses_per_day: int,
    age_years: float | None,
    weight_kg: float | None,
) -> None:
    rules = monograph.titration
    max_age, max_weight = monograph.kidney.age_years[1], monograph.kidney.weight_kg[1]
    check_doses_per_day(rules, doses_per_day)
    if not math.isfinite(target_daily_mg) or target_daily_mg <= 0:
        raise InputError(
            f"target must be a daily dose in mg above 0, got {target_daily_mg:g}", field="target_mg_day"
        )
    if target_daily_mg > rules.override_max_daily_mg:
        raise InputError(
            f"target {target_daily_mg:.10g} mg/day is above {rules.override_max_daily_mg:g} mg/day, "
            f"which Dosewise never plans [{rules.override_max_daily_source}]: check the target",
            field="target_mg_day",
        )
    if age_years is not None and not (math.isfinite(age_years) and 0 <= age_years <= max_age):
        raise InputError(
            f"age {age_years:g} years is not plausible: give the age in years (0-{max_age:g})",
            field="age_years",
        )
    if weight_kg is not None and not (math.isfinite(weight_kg) and 0 < weight_kg <= max_weight):
        raise InputError(
            f"weight {weight_kg:g} kg is not plausible: give the weight in kg (up to {max_weight:g})",
            field="weight_kg",
        )


def refuse_children(monograph: Monograph, age_years: float | None) -> None:
    """No automatic plan under 18, with or without the clinician override: the override lifts
    the adult maximum, never the children's rule (baclofen.md sections 2 and 10). A child's plan
    is the clinician's own schedule, checked against the UK limits."""
    children = monograph.titration.children
    if age_years is None or age_years >= children.min_age_automatic_years:
        return
    raise SafetyRefusal(
        f"No automatic plan under {children.min_age_automatic_years} years (age {age_years:g}), even "
        f"with the clinician override [{children.source}]: the clinician enters the child's schedule "
        "step by step (a clinician's own steps), and Dosewise checks it against the UK limits for "
        f"children: about {children.start_mg_per_kg_day:g} mg/kg/day to start, at most "
        f"{children.max_mg_per_kg_day:g} mg/kg/day, {children.max_daily_mg_under_8:g} mg/day under 8 years "
        f"and {children.max_daily_mg_from_8:g} mg/day from 8 [{children.limits_source}]",
        overridable=False,
    )


def refusal_reasons(
    monograph: Monograph,
    target_daily_mg: float,
    kidney: KidneyAssessment | None,
    age_years: float | None,
) -> list[str]:
    """Why the reference requires a clinician for this plan (empty: an automatic plan is fine)."""
    rules = monograph.titration
    reasons: list[str] = []
    refuse_children(monograph, age_years)
    if kidney is not None and kidney.band == "dialysis":
        dialysis = monograph.kidney.dialysis
        reasons.append(
            f"on dialysis: at most about {dialysis.max_daily_mg:g} mg/day [{dialysis.max_source}], "
            f"starting at {dialysis.start_daily_mg:g} mg/day [{dialysis.start_source}]"
        )
    elif kidney is not None and kidney.requires_clinician and kidney.crcl_ml_min is not None:
        bands = monograph.kidney.bands
        band = next(b for b in bands if b.name == kidney.band)
        edge = bands[bands.index(band) - 1].lower_ml_min if bands.index(band) else band.lower_ml_min
        start = (
            f", starting at no more than {band.start_max_daily_mg:g} mg/day [{band.start_source}]"
            if band.start_max_daily_mg is not None
            else ""
        )
        reasons.append(
            f"CrCl {format_crcl(monograph.kidney, kidney.crcl_ml_min)} mL/min is below {edge:g} "
            f"({kidney.band}): avoiding baclofen is advised [{', '.join(kidney.sources)}]; with an "
            f"override the plan is {band.factor} of the usual dose{start}"
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
    clinician_override: bool,
    warnings: list[Finding],
) -> tuple[list[float], list[int], float]:
    """Daily totals and days per step at normal kidney function, and the maximum."""
    rules = monograph.titration
    beyond = rules.beyond_labelled
    max_mg = rules.max_daily_mg
    if clinician_override and target_daily_mg > rules.max_daily_mg:
        max_mg = rules.override_max_daily_mg
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
    target = min(target_daily_mg, max_mg)
    if target < target_daily_mg:
        warnings.append(
            Finding(
                code="TARGET_CAPPED",
                severity="warning",
                message=f"Target {target_daily_mg:.10g} mg/day is capped at {max_mg:g} mg/day.",
                source=rules.max_daily_source,
            )
        )
    ladder: list[float] = []
    for step_mg in rules.steps_daily_mg:
        ladder.append(min(step_mg, target))
        if step_mg >= target:
            break
    while ladder[-1] < target:
        ladder.append(min(ladder[-1] + beyond.max_increase_mg, target))
    labelled = len(rules.steps_daily_mg)
    days = [step_days if i < labelled else max(beyond.min_step_days, step_days) for i in range(len(ladder))]
    return ladder, days, max_mg


def _kidney_caps(
    monograph: Monograph,
    kidney: KidneyAssessment | None,
    max_normal_mg: float,
    warnings: list[Finding],
    target_daily_mg: float,
    above_kidney_max: bool,
) -> tuple[Fraction, int, int | None]:
    """The dose factor, the plan's maximum (µg) and a cap on the first step (µg or None)."""
    start_cap_ug: int | None = None
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
        return Fraction(1), cap, mg_to_ug(dialysis.start_daily_mg)
    factor = kidney.dose_factor if kidney.dose_factor is not None else Fraction(1)
    band = next(b for b in monograph.kidney.bands if b.name == kidney.band)
    max_ug = math.floor(mg_to_ug(max_normal_mg) * factor)
    if band.start_max_daily_mg is not None:
        start_cap_ug = mg_to_ug(band.start_max_daily_mg)
    target_ug = math.floor(mg_to_ug(min(target_daily_mg, max_normal_mg)) * factor)
    kidney_max_ug = calculate_kidney_maximum_ug(monograph, kidney)
    if target_ug > kidney_max_ug:
        if not above_kidney_max:
            raise AboveKidneyMaximum(
                f"the target of {target_daily_mg:.10g} mg/day at normal kidney function is "
                f"{format_mg(target_ug)} mg/day at {describe_kidney_maximum(monograph, kidney)}"
                f"{explain_above_kidney_max(monograph, kidney)}"
            )
        warnings.append(above_kidney_max_finding(monograph, kidney, max_ug))
    warnings.append(
        Finding(
            code="KIDNEY_ADJUSTED",
            severity="warning",
            message=(
                f"CrCl {format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)} mL/min ({kidney.band}): "
                "every step and the maximum are "
                f"scaled by {factor}; a target of {min(target_daily_mg, max_normal_mg):g} mg/day at "
                f"normal kidney function becomes {format_mg(target_ug)} mg/day, maximum "
                f"{format_mg(max_ug)} mg/day."
            ),
            source=", ".join(kidney.sources),
        )
    )
    return factor, max_ug, start_cap_ug


def product_sources(monograph: Monograph, products: Sequence[Product]) -> list[str]:
    sources = []
    for product in products:
        definition = monograph.product_definition(product.form, ug_to_mg(product.strength_ug))
        if definition is not None:
            sources.append(definition.source)
    return sources
