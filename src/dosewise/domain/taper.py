"""Taper: from the current daily dose to stop, never abruptly.

The rules of the clinical reference, section 4 [FR, PMS, NHS]: the daily total never rises;
each step lowers it by at most 15 mg (product default: 10 mg when starting at 40 mg/day or
less); steps last at least 3 days; the whole taper lasts at least 14 days (steps are
lengthened to reach it, lower steps first); the last step before stopping is at most 15 mg/day.
Each step goes down as far as the rules allow, to a total the patient's products can make.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from dosewise.domain.advice import build_standing_advice, check_dose_sizes, check_rounding, gather_sources
from dosewise.domain.findings import Finding
from dosewise.domain.monograph import Monograph, cite_sources
from dosewise.domain.plan import Plan, StepRequest, build_plan_steps, check_doses_per_day
from dosewise.domain.products import DoseMenu, Product, build_dose_menu
from dosewise.domain.units import format_mg, mg_to_ug
from dosewise.errors import InputError, SafetyRefusal


def build_taper(
    monograph: Monograph,
    *,
    from_daily_mg: float,
    products: Sequence[Product],
    start: date,
    doses_per_day: int = 3,
    min_days: int | None = None,
) -> Plan:
    """A taper to stop that obeys every rule of the reference."""
    rules = monograph.taper
    titration = monograph.titration
    check_doses_per_day(titration, doses_per_day)
    if not math.isfinite(from_daily_mg) or from_daily_mg <= 0:
        raise InputError(f"the current daily dose must be above 0 mg, got {from_daily_mg:g}")
    if from_daily_mg > titration.override_max_daily_mg:
        raise InputError(
            f"current dose {from_daily_mg:g} mg/day is above {titration.override_max_daily_mg:g} "
            f"mg/day [{titration.override_max_daily_source}]: check the dose"
        )
    total_days = rules.min_total_days if min_days is None else min_days
    if total_days < rules.min_total_days:
        raise SafetyRefusal(
            f"a taper lasts at least {rules.min_total_days} days [{rules.min_total_days_source}]: "
            f"{total_days} days would be an abrupt stop. A faster stop is only for a serious adverse "
            "reaction, under a clinician's direct care"
        )
    if total_days > rules.max_total_days:
        raise InputError(
            f"a taper of {total_days} days is more than {rules.max_total_days} days: check it",
            field="min_days",
        )
    from_ug = mg_to_ug(from_daily_mg)
    step_limit_ug = mg_to_ug(
        rules.low_start_step_decrease_mg
        if from_daily_mg <= rules.low_start_threshold_mg
        else rules.max_step_decrease_mg
    )
    menu = build_dose_menu(products, cap_ug=from_ug)
    last_limit_ug = min(mg_to_ug(rules.max_last_step_mg), step_limit_ug)
    totals = _descend(menu, from_ug, step_limit_ug, last_limit_ug, doses_per_day)
    days = _spread_days(len(totals), rules.min_step_days, total_days)
    requests = [
        StepRequest(requested_daily_ug=t, daily_ug=t, days=d) for t, d in zip(totals, days, strict=True)
    ]
    steps = build_plan_steps(menu, requests, start=start, doses_per_day=doses_per_day)
    warnings: list[Finding] = [*check_rounding(steps, doses_per_day), *check_dose_sizes(monograph, steps)]
    low_start = from_daily_mg <= rules.low_start_threshold_mg
    warnings.append(
        Finding(
            code="TAPER_STEPS",
            severity="info",
            message=(
                f"Steps of at most {format_mg(step_limit_ug)} mg/day"
                + (
                    f" (product default from {rules.low_start_threshold_mg:g} mg/day or less; the "
                    f"reference allows {rules.max_step_decrease_mg:g} mg)"
                    if low_start
                    else ""
                )
                + f", each at least {rules.min_step_days} days, {total_days} days in all; the last "
                f"step before stopping is at most {format_mg(last_limit_ug)} mg/day; longer steps "
                "fall on the lower doses."
            ),
            source=", ".join(
                cite_sources(
                    rules.max_step_decrease_source,
                    rules.min_step_days_source,
                    rules.min_total_days_source,
                    rules.low_start_source if low_start else "",
                )
            ),
        )
    )
    if steps[0].daily_ug == from_ug:
        warnings.append(
            Finding(
                code="HOLD_THEN_STOP",
                severity="warning",
                message=(
                    f"These products cannot make less than {format_mg(from_ug)} mg/day, so the plan "
                    "holds the current dose, then stops; a product with smaller doses (for example "
                    "an oral solution) would allow a gentler taper."
                ),
                source="DOSEWISE",
            )
        )
    cautions = build_standing_advice(monograph, "taper", None)
    stop_date = start + timedelta(days=sum(step.days for step in steps))
    return Plan(
        drug=monograph.name,
        kind="taper",
        doses_per_day=doses_per_day,
        products=tuple(products),
        kidney=None,
        max_daily_ug=from_ug,
        steps=steps,
        warnings=tuple(warnings),
        cautions=cautions,
        sources=gather_sources(
            rules.max_step_decrease_source,
            rules.min_step_days_source,
            rules.min_total_days_source,
            rules.max_last_step_source,
            findings=(*warnings, *cautions),
        ),
        disclaimer=monograph.disclaimer,
        stop_date=stop_date,
    )


def _descend(
    menu: DoseMenu, from_ug: int, step_limit_ug: int, last_limit_ug: int, doses_per_day: int
) -> list[int]:
    """Daily totals from the first lowered step to the last step before stopping."""
    available = menu.daily_totals_ug(doses_per_day, from_ug)
    totals: list[int] = []
    current = from_ug
    while True:
        lower = [t for t in available if current - step_limit_ug <= t < current]
        if not lower:
            if current <= last_limit_ug:
                break
            smallest_below = max((t for t in available if t < current), default=None)
            reach = format_mg(max(current - step_limit_ug, 0))
            raise InputError(
                f"these products cannot make a taper step between {reach} and "
                f"{format_mg(current)} mg/day"
                + (f" (the nearest below is {format_mg(smallest_below)} mg/day)" if smallest_below else "")
                + ": add a product with smaller doses, e.g. a 1 mg/mL oral solution"
            )
        current = lower[0]
        totals.append(current)
        if current <= last_limit_ug:
            break
    if not totals:
        # nothing smaller can be made and the current dose may already be stopped from:
        # hold it for the taper's minimum length rather than stop at once
        totals.append(from_ug)
    return totals


def _spread_days(steps: int, min_step_days: int, total_days: int) -> list[int]:
    """Days per step: each at least ``min_step_days``, together at least ``total_days``;
    extra days go to the lower (later) steps first."""
    days = [min_step_days] * steps
    extra = max(total_days - sum(days), 0)
    per_step, remainder = divmod(extra, steps)
    days = [d + per_step for d in days]
    for index in range(remainder):
        days[steps - 1 - index] += 1
    return days
