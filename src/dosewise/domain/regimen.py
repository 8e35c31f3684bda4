"""Maintenance plans and clinician-entered schedules, checked against the reference's limits.

A *maintenance* plan keeps a patient on the daily dose they already take, for a number of days,
divided over the dose times in their own products (rounded down, never up, as everywhere).
A *clinician-entered* schedule is the prescriber's own steps, dose by dose; Dosewise does not
change them but refuses one that breaks a limit of the reference:

- above the labelled maximum of 80 mg/day without the clinician override, above 120 mg/day
  ever [US-TAB, FR];
- above the kidney-adjusted maximum (the band factor of the labelled maximum, about 5 mg/day
  on dialysis) [VLAV14, PMS]; with the override and the clinician's separate confirmation
  ``above_kidney_max``, up to the factor of 120 mg/day, with a warning [CHEONG20];
- for under-18s, above the UK limits (40 mg/day under 8 years, 60 mg/day from 8 years, and
  2 mg/kg/day) [UK]. Under 18 only the clinician's own schedule is accepted: no maintenance
  plan, with or without the override (baclofen.md section 10);
- a step with no dose at all (an abrupt stop: stopping is a taper).

Steps that rise or fall faster than the labelled steps, or start higher than the labelled start,
are the prescriber's decision: the plan carries a warning that says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

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
from dosewise.domain.monograph import Monograph, PlanKind
from dosewise.domain.plan import Plan, PlanStep, StepRequest, build_plan_steps, check_doses_per_day
from dosewise.domain.products import DoseMenu, Product, build_dose_menu
from dosewise.domain.titration import OVERRIDE_HINT, product_sources, refuse_children
from dosewise.domain.units import format_mg, mg_to_ug
from dosewise.errors import InputError, SafetyRefusal

MAX_PLAN_DAYS = 366  # a stored plan spans at most a year; longer is a typo (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicianStep:
    """``days`` days of the same doses, one per dose time (mg; 0 = no dose at that time)."""

    days: int
    doses_mg: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Limit:
    ug: int
    reason: str
    lifted_by: Literal["override", "kidney"] | None  # the override; the kidney confirmation; nothing


def parse_step_spec(text: str) -> ClinicianStep:
    """``DAYS:DOSE,DOSE,...`` in mg, e.g. ``3:5,5,5`` (3 days of 5 mg three times a day)."""
    days_text, colon, doses_text = text.partition(":")
    hint = f"step {text!r} must be DAYS:DOSE,DOSE,... in mg, e.g. 3:5,5,5"
    try:
        days = int(days_text)
        doses = tuple(float(dose) for dose in doses_text.split(","))
    except ValueError:
        raise InputError(hint, field="steps") from None
    if not colon:
        raise InputError(hint, field="steps")
    return ClinicianStep(days=days, doses_mg=doses)


def build_maintenance(
    monograph: Monograph,
    *,
    daily_mg: float,
    products: Sequence[Product],
    start: date,
    days: int,
    doses_per_day: int = 3,
    kidney: KidneyAssessment | None = None,
    age_years: float | None = None,
    weight_kg: float | None = None,
    clinician_override: bool = False,
    above_kidney_max: bool = False,
) -> Plan:
    """The current daily dose for ``days`` days, split over the dose times (never under 18:
    a child's plan is the clinician's own schedule)."""
    check_doses_per_day(monograph.titration, doses_per_day)
    _check_days(days, "the maintenance plan")
    if not math.isfinite(daily_mg) or daily_mg <= 0:
        raise InputError(f"the daily dose must be above 0 mg, got {daily_mg:g}", field="mg_day")
    check_above_kidney_max(above_kidney_max, clinician_override)
    refuse_children(monograph, age_years)
    needs = _needs_clinician(monograph, kidney, daily_mg)
    if needs and not clinician_override:
        raise SafetyRefusal(
            f"No automatic plan: {'; '.join(needs)}. {OVERRIDE_HINT.capitalize()}.", overridable=True
        )
    asked_ug = mg_to_ug(daily_mg)
    confirmed = _confirmed(monograph, kidney, clinician_override, above_kidney_max, asked_ug)
    limits = _limits(monograph, kidney, age_years, weight_kg, clinician_override, confirmed=confirmed)
    cap = min(limit.ug for limit in limits)
    _refuse_above(monograph, kidney, limits, asked_ug, "the daily dose", clinician_override)
    menu = build_dose_menu(products, cap_ug=cap)
    daily = menu.floor_daily_ug(asked_ug, doses_per_day)
    if daily == 0:
        raise InputError(
            f"these products cannot make {format_mg(asked_ug)} mg/day in up to {doses_per_day} doses: "
            f"their smallest dose is {format_mg(menu.smallest_ug)} mg"
        )
    steps = build_plan_steps(
        menu,
        [StepRequest(requested_daily_ug=asked_ug, daily_ug=daily, days=days)],
        start=start,
        doses_per_day=doses_per_day,
    )
    warnings = [
        *_override_findings(needs),
        *_kidney_findings(monograph, kidney, confirmed, cap),
        *check_rounding(steps, doses_per_day),
        *check_dose_sizes(monograph, steps),
    ]
    info = Finding(
        code="MAINTENANCE_ONLY",
        severity="info",
        message=(
            "A maintenance plan is for a dose the patient already takes; someone starting baclofen "
            "starts low and rises slowly (a titration plan)."
        ),
        source=monograph.titration.source,
    )
    return _plan(monograph, "maintenance", steps, products, kidney, cap, warnings, info, doses_per_day)


def build_clinician_schedule(
    monograph: Monograph,
    *,
    steps: Sequence[ClinicianStep],
    products: Sequence[Product],
    start: date,
    kidney: KidneyAssessment | None = None,
    age_years: float | None = None,
    weight_kg: float | None = None,
    clinician_override: bool = False,
    above_kidney_max: bool = False,
) -> Plan:
    """The prescriber's own steps, unchanged, or a refusal naming the limit a step breaks.
    Under 18 this is the only plan there is: checked against the UK limits for children."""
    if not steps:
        raise InputError(
            "a clinician-entered schedule needs at least one step (DAYS:DOSE,DOSE,...)", field="steps"
        )
    doses_per_day = len(steps[0].doses_mg)
    check_doses_per_day(monograph.titration, doses_per_day)
    if any(len(step.doses_mg) != doses_per_day for step in steps):
        raise InputError(
            f"every step needs {doses_per_day} doses, one per dose time (0 for none)", field="steps"
        )
    for number, step in enumerate(steps, start=1):
        if step.days < 1:
            raise InputError(f"step {number}: a step lasts at least 1 day, got {step.days}", field="steps")
        if any(not math.isfinite(dose) or dose < 0 for dose in step.doses_mg):
            raise InputError(f"step {number}: doses are mg of 0 or more", field="steps")
        if sum(step.doses_mg) == 0:
            raise SafetyRefusal(
                f"step {number} has no dose: stopping baclofen suddenly can cause seizures and "
                "hallucinations; stopping is a taper (dosewise taper)"
            )
    _check_days(sum(step.days for step in steps), "the schedule", "steps")
    check_above_kidney_max(above_kidney_max, clinician_override)
    needs = _needs_clinician(monograph, kidney, daily_mg=0)  # children: the limits below
    if needs and not clinician_override:
        raise SafetyRefusal(
            f"No automatic plan: {'; '.join(needs)}. {OVERRIDE_HINT.capitalize()}.", overridable=True
        )
    doses_ug = [tuple(mg_to_ug(dose) for dose in step.doses_mg) for step in steps]
    highest = max(sum(doses) for doses in doses_ug)
    confirmed = _confirmed(monograph, kidney, clinician_override, above_kidney_max, highest)
    limits = _limits(monograph, kidney, age_years, weight_kg, clinician_override, confirmed=confirmed)
    cap = min(limit.ug for limit in limits)
    for number, doses in enumerate(doses_ug, start=1):
        _refuse_above(monograph, kidney, limits, sum(doses), f"step {number}", clinician_override)
    menu = build_dose_menu(products, cap_ug=max(max(doses) for doses in doses_ug))
    plan_steps: list[PlanStep] = []
    day = start
    for number, (step, doses) in enumerate(zip(steps, doses_ug, strict=True), start=1):
        for dose in doses:
            if dose and not menu.is_deliverable(dose):
                raise InputError(_not_deliverable(menu, number, dose))
        plan_steps.append(
            PlanStep(
                start=day,
                days=step.days,
                doses_ug=doses,
                recipes=tuple(menu.recipe(dose) if dose else None for dose in doses),
                requested_daily_ug=sum(doses),
            )
        )
        day += timedelta(days=step.days)
    warnings = [
        *_override_findings(needs),
        *_kidney_findings(monograph, kidney, confirmed, cap),
        *_pace_findings(monograph, plan_steps, kidney, age_years, weight_kg),
        *check_rounding(plan_steps, doses_per_day),
        *check_dose_sizes(monograph, plan_steps),
    ]
    info = Finding(
        code="CLINICIAN_SCHEDULE",
        severity="info",
        message="Entered by a clinician: Dosewise checked it against the limits but did not change it.",
        source="DOSEWISE",
    )
    return _plan(
        monograph, "clinician", tuple(plan_steps), products, kidney, cap, warnings, info, doses_per_day
    )


def _check_days(days: int, what: str, field: str = "days") -> None:
    if not 1 <= days <= MAX_PLAN_DAYS:
        raise InputError(f"{what} lasts 1-{MAX_PLAN_DAYS} days, got {days}", field=field)


def _needs_clinician(monograph: Monograph, kidney: KidneyAssessment | None, daily_mg: float) -> list[str]:
    """Why this plan needs the clinician override (empty: it does not)."""
    rules = monograph.titration
    reasons = []
    if kidney is not None and kidney.band == "dialysis":
        reasons.append(f"on dialysis [{monograph.kidney.dialysis.source}]")
    elif kidney is not None and kidney.requires_clinician:
        reasons.append(
            f"CrCl {format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)} mL/min ({kidney.band}): "
            f"avoiding baclofen is advised [{', '.join(kidney.sources)}]"
        )
    if daily_mg > rules.max_daily_mg:
        reasons.append(
            f"{daily_mg:g} mg/day is above the labelled maximum of {rules.max_daily_mg:g} mg/day "
            f"[{rules.max_daily_source}]"
        )
    return reasons


def _confirmed(
    monograph: Monograph,
    kidney: KidneyAssessment | None,
    clinician_override: bool,
    above_kidney_max: bool,
    highest_ug: int,
) -> bool:
    """The clinician's confirmation above the kidney-adjusted maximum is in use: given (with the
    override) and needed, a day above 80 mg/day x the factor."""
    if not (clinician_override and above_kidney_max) or kidney is None:
        return False
    if not kidney.impaired or kidney.dose_factor is None:  # normal kidneys; dialysis: fixed caps
        return False
    return highest_ug > calculate_kidney_maximum_ug(monograph, kidney)


def _limits(
    monograph: Monograph,
    kidney: KidneyAssessment | None,
    age_years: float | None,
    weight_kg: float | None,
    clinician_override: bool,
    *,
    confirmed: bool,
) -> list[_Limit]:
    """Every daily maximum that applies to this patient (``confirmed``: the clinician confirmed
    going above the kidney-adjusted maximum)."""
    rules = monograph.titration
    limits = [
        _Limit(
            ug=mg_to_ug(rules.max_daily_mg),
            reason=f"the labelled maximum of {rules.max_daily_mg:g} mg/day [{rules.max_daily_source}]",
            lifted_by="override",
        ),
        _Limit(
            ug=mg_to_ug(rules.override_max_daily_mg),
            reason=(
                f"{rules.override_max_daily_mg:g} mg/day, which Dosewise never plans "
                f"[{rules.override_max_daily_source}]"
            ),
            lifted_by=None,
        ),
    ]
    if kidney is not None and kidney.band == "dialysis":
        dialysis = monograph.kidney.dialysis
        limits.append(
            _Limit(
                ug=mg_to_ug(dialysis.max_daily_mg),
                reason=f"about {dialysis.max_daily_mg:g} mg/day on dialysis [{dialysis.max_source}]",
                lifted_by=None,
            )
        )
    elif kidney is not None and kidney.impaired and kidney.dose_factor is not None:
        crcl = format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)
        if confirmed:
            ceiling = calculate_kidney_maximum_ug(monograph, kidney, confirmed=True)
            limits.append(
                _Limit(
                    ug=ceiling,
                    reason=(
                        f"{format_mg(ceiling)} mg/day at CrCl {crcl} mL/min ({kidney.band}: "
                        f"{kidney.dose_factor} of {rules.override_max_daily_mg:g} mg/day), the most "
                        "Dosewise plans above the kidney-adjusted maximum "
                        f"[{', '.join(kidney.sources)}, {rules.override_max_daily_source}]"
                    ),
                    lifted_by=None,
                )
            )
        else:
            kidney_max = calculate_kidney_maximum_ug(monograph, kidney)
            limits.append(
                _Limit(
                    ug=kidney_max,
                    reason=(
                        f"{format_mg(kidney_max)} mg/day at CrCl {crcl} mL/min ({kidney.band}: "
                        f"{kidney.dose_factor} of {rules.max_daily_mg:g} mg/day) "
                        f"[{', '.join(kidney.sources)}]"
                    ),
                    lifted_by="kidney",
                )
            )
    children = rules.children
    if age_years is not None and age_years < children.min_age_automatic_years:
        if weight_kg is None:
            raise InputError("give the child's weight in kg: the limits are weight-based", field="weight_kg")
        under_8 = age_years < 8
        age_cap = children.max_daily_mg_under_8 if under_8 else children.max_daily_mg_from_8
        per_kg = math.floor(children.max_mg_per_kg_day * weight_kg * 1000)
        limits += [
            _Limit(
                ug=mg_to_ug(age_cap),
                reason=(
                    f"{age_cap:g} mg/day for a child {'under 8' if under_8 else 'of 8 or over'} "
                    f"[{children.limits_source}]"
                ),
                lifted_by=None,
            ),
            _Limit(
                ug=per_kg,
                reason=(
                    f"{children.max_mg_per_kg_day:g} mg/kg/day ({format_mg(per_kg)} mg/day at "
                    f"{weight_kg:g} kg) [{children.limits_source}]"
                ),
                lifted_by=None,
            ),
        ]
    if clinician_override:  # the labelled maximum no longer binds; the rest do
        limits = [limit for limit in limits if limit.lifted_by != "override"]
    return limits


def _refuse_above(
    monograph: Monograph,
    kidney: KidneyAssessment | None,
    limits: list[_Limit],
    daily_ug: int,
    what: str,
    clinician_override: bool,
) -> None:
    broken = [limit for limit in limits if daily_ug > limit.ug]
    if not broken:
        return
    tightest = min(broken, key=lambda limit: limit.ug)
    liftable = all(limit.lifted_by is not None for limit in broken)
    if kidney is not None and liftable and any(limit.lifted_by == "kidney" for limit in broken):
        raise AboveKidneyMaximum(
            f"{what}: {format_mg(daily_ug)} mg/day at {describe_kidney_maximum(monograph, kidney)}"
            f"{explain_above_kidney_max(monograph, kidney)}"
        )
    overridable = all(limit.lifted_by == "override" for limit in broken) and not clinician_override
    raise SafetyRefusal(
        f"{what}: {format_mg(daily_ug)} mg/day is above {tightest.reason}", overridable=overridable
    )


def _kidney_findings(
    monograph: Monograph, kidney: KidneyAssessment | None, confirmed: bool, max_daily_ug: int
) -> list[Finding]:
    """The warning of a plan above the kidney-adjusted maximum (the clinician confirmed it)."""
    if not confirmed or kidney is None:
        return []
    return [above_kidney_max_finding(monograph, kidney, max_daily_ug)]


def _not_deliverable(menu: DoseMenu, number: int, dose_ug: int) -> str:
    below = [amount for amount in menu.recipes if amount < dose_ug]
    nearest = f" (the nearest below is {format_mg(max(below))} mg)" if below else ""
    return (
        f"step {number}: a dose of {format_mg(dose_ug)} mg cannot be made from these products{nearest}: "
        "change the dose or add a product (e.g. a 1 mg/mL oral solution)"
    )


def _override_findings(reasons: list[str]) -> list[Finding]:
    return [
        Finding(
            code="CLINICIAN_OVERRIDE",
            severity="warning",
            message=f"Clinician override: {reason}. The plan stays within the reference's caps.",
            source="DOSEWISE",
        )
        for reason in reasons
    ]


def _pace_findings(
    monograph: Monograph,
    steps: Sequence[PlanStep],
    kidney: KidneyAssessment | None,
    age_years: float | None,
    weight_kg: float | None,
) -> list[Finding]:
    """Where the schedule moves faster than the labelled steps or starts higher (warnings)."""
    rules = monograph.titration
    taper = monograph.taper
    findings: list[Finding] = []
    first = steps[0].daily_ug
    start_limit_ug = mg_to_ug(rules.steps_daily_mg[0])
    start_source = rules.source
    children = rules.children
    if age_years is not None and age_years < children.min_age_automatic_years and weight_kg is not None:
        start_limit_ug = math.floor(children.start_mg_per_kg_day * weight_kg * 1000)
        start_source = children.limits_source
    if kidney is not None and kidney.band == "dialysis":
        start_limit_ug = mg_to_ug(monograph.kidney.dialysis.start_daily_mg)
        start_source = monograph.kidney.dialysis.start_source
    elif kidney is not None:
        band = next(b for b in monograph.kidney.bands if b.name == kidney.band)
        if band.start_max_daily_mg is not None:
            start_limit_ug = min(start_limit_ug, mg_to_ug(band.start_max_daily_mg))
            start_source = band.start_source
    if first > start_limit_ug:
        findings.append(
            Finding(
                code="HIGH_START",
                severity="warning",
                message=(
                    f"Starts at {format_mg(first)} mg/day, above the usual start of "
                    f"{format_mg(start_limit_ug)} mg/day: right only for a patient already on baclofen."
                ),
                source=start_source,
            )
        )
    rise_ug = mg_to_ug(rules.beyond_labelled.max_increase_mg)
    fall_ug = mg_to_ug(taper.max_step_decrease_mg)
    for number, (before, after) in enumerate(itertools.pairwise(steps), start=2):
        change = after.daily_ug - before.daily_ug
        if change > rise_ug or (change > 0 and before.days < rules.step_days):
            findings.append(
                Finding(
                    code="FAST_RISE",
                    severity="warning",
                    message=(
                        f"Step {number} rises by {format_mg(change)} mg/day after {before.days} days; the "
                        f"labelled pace is at most {format_mg(rise_ug)} mg/day every {rules.step_days} days."
                    ),
                    source=rules.beyond_labelled.source,
                )
            )
        if -change > fall_ug or (change < 0 and before.days < taper.min_step_days):
            findings.append(
                Finding(
                    code="FAST_FALL",
                    severity="warning",
                    message=(
                        f"Step {number} falls by {format_mg(-change)} mg/day after {before.days} days; a "
                        f"taper lowers at most {format_mg(fall_ug)} mg/day every {taper.min_step_days} "
                        "days: watch for withdrawal symptoms."
                    ),
                    source=taper.max_step_decrease_source,
                )
            )
    return findings


def _plan(
    monograph: Monograph,
    kind: PlanKind,
    steps: tuple[PlanStep, ...],
    products: Sequence[Product],
    kidney: KidneyAssessment | None,
    max_daily_ug: int,
    warnings: list[Finding],
    info: Finding,
    doses_per_day: int,
) -> Plan:
    if any(step.daily_ug > max_daily_ug for step in steps):  # safety limit as code
        raise SafetyRefusal("internal check failed: a step exceeds the maximum; no plan given")
    cautions = (*build_standing_advice(monograph, kind, kidney), info)
    rules = monograph.titration
    return Plan(
        drug=monograph.name,
        kind=kind,
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
    )
