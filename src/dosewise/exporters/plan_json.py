"""Plans and kidney assessments as plain JSON-ready dicts (the CLI ``--json`` contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dosewise.domain.monograph import cite_sources
from dosewise.domain.units import format_mg, ug_to_mg

if TYPE_CHECKING:
    from datetime import time

    from dosewise.domain.findings import Finding
    from dosewise.domain.kidney import KidneyAssessment
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def describe_sources(monograph: Monograph, keys: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"key": key, "citation": monograph.sources[key]} for key in keys]


def kidney_to_dict(kidney: KidneyAssessment, monograph: Monograph) -> dict[str, Any]:
    """Kidney function: ``crcl_ml_min`` is the exact value (never rounded onto another band);
    ``crcl_shown`` is how every output writes it (truncated, within its band: docs/adr/0014)."""
    from dosewise.domain.kidney import format_crcl

    crcl = kidney.crcl_ml_min
    return {
        "crcl_ml_min": crcl,
        "crcl_shown": None if crcl is None else format_crcl(monograph.kidney, crcl),
        "egfr_ckd_epi_2021": _round(kidney.egfr_ckd_epi_2021, 1),
        "band": kidney.band,
        "dose_factor": None if kidney.dose_factor is None else round(float(kidney.dose_factor), 4),
        "dose_factor_fraction": None if kidney.dose_factor is None else str(kidney.dose_factor),
        "requires_clinician": kidney.requires_clinician,
        "sources": describe_sources(monograph, kidney.sources),
        "disclaimer": monograph.disclaimer,
    }


def finding_to_dict(finding: Finding) -> dict[str, str]:
    return {
        "code": finding.code,
        "severity": finding.severity,
        "message": finding.message,
        "source": ", ".join(cite_sources(finding.source)),
    }


def plan_to_dict(
    plan: Plan,
    monograph: Monograph,
    *,
    times: tuple[time, ...] | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """The plan JSON of the CLI contract (``drug``, ``kind``, ``kidney``, ``max_daily_mg``,
    ``steps``, ``warnings``, ``cautions``, ``sources``; tapers add ``stop_date``). What happens
    after the last step: ``open_ended`` (it continues at that step's doses), ``review_on`` (the
    prescriber's review date, or None) and ``after_last_step`` (the same in words)."""
    data: dict[str, Any] = {
        "drug": plan.drug,
        "kind": plan.kind,
        "kidney": None if plan.kidney is None else kidney_to_dict(plan.kidney, monograph),
        "max_daily_mg": ug_to_mg(plan.max_daily_ug),  # whole µg, floored
        "doses_per_day": plan.doses_per_day,
        "times": None if times is None else [t.strftime("%H:%M") for t in times],
        "time_zone": time_zone,
        "products": [product.spec for product in plan.products],
        "steps": [
            {
                "start": step.start.isoformat(),
                "days": step.days,
                "doses_mg": [ug_to_mg(dose) for dose in step.doses_ug],
                "daily_mg": ug_to_mg(step.daily_ug),
                "requested_daily_mg": ug_to_mg(step.requested_daily_ug),
                "how": [recipe.describe() if recipe else None for recipe in step.recipes],
            }
            for step in plan.steps
        ],
        "warnings": [finding_to_dict(f) for f in plan.warnings],
        "cautions": [finding_to_dict(f) for f in plan.cautions],
        "sources": describe_sources(monograph, plan.sources),
        "disclaimer": plan.disclaimer,
    }
    if plan.kind == "taper":
        data["stop_date"] = None if plan.stop_date is None else plan.stop_date.isoformat()
    data["open_ended"] = plan.open_ended
    data["review_on"] = None if plan.review_on is None else plan.review_on.isoformat()
    data["after_last_step"] = describe_after_last_step(plan)
    data["pk"] = pk_to_dict(plan, monograph)
    for step, pk_step in zip(data["steps"], data["pk"].pop("steps"), strict=True):
        step["steady_state_within_step"] = pk_step
    return data


def describe_after_last_step(plan: Plan) -> str:
    """What happens after the plan's last step, in words: a plan never ends in nothing."""
    if not plan.open_ended:
        stop = "" if plan.stop_date is None else f" on {plan.stop_date.isoformat()}"
        return f"stopped{stop} after the taper: no more doses"
    daily = format_mg(plan.steps[-1].daily_ug)
    review = "" if plan.review_on is None else f" (review by {plan.review_on.isoformat()})"
    return f"then continues at {daily} mg/day until a new plan or a taper{review}"


def pk_to_dict(plan: Plan, monograph: Monograph) -> dict[str, Any]:
    """What the simulator's model says about the plan (closed forms, no NumPy)."""
    from dosewise.domain.pk.analytic import build_pk_parameters, calculate_exposure_ratio

    rules = monograph.pk
    crcl = None if plan.kidney is None else plan.kidney.crcl_ml_min
    if plan.kidney is not None and crcl is None:  # dialysis: the model has no CrCl for it
        return {"steps": [None] * len(plan.steps), "note": "no kidney-function model for dialysis"}
    params = build_pk_parameters(rules, crcl)
    t90 = params.time_to_fraction_of_steady_state_h(rules.steady_state_fraction)
    data: dict[str, Any] = {
        "half_life_h": round(params.half_life_h, 2),
        "time_to_90pct_ss_h": round(t90, 1),
        "steps": [step.days * 24 >= t90 for step in plan.steps],
        "sources": ", ".join(cite_sources(rules.sources)),
    }
    if plan.kind == "titration" and plan.normal_kidney_target_ug and plan.kidney is not None:
        ratio = calculate_exposure_ratio(rules, crcl)
        final = plan.steps[-1].daily_ug
        data["exposure_ratio_vs_normal_kidney_plan"] = round(final / plan.normal_kidney_target_ug * ratio, 3)
    return data
