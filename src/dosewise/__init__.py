"""Dosewise: safe oral baclofen therapy as software.

The public Python API::

    from datetime import date
    from dosewise import build_titration, load_monograph, parse_product_specs

    baclofen = load_monograph("baclofen")
    plan = build_titration(
        baclofen,
        target_daily_mg=60,
        products=parse_product_specs(["tablet:10mg:halves"], baclofen),
        start=date(2026, 12, 1),
    )

A plan as the CLI, the pages and the API make it (the same checks, the clinician override
rule included)::

    from dosewise import KidneyInput, PlanRequest, build_plan

    built = build_plan(PlanRequest(kind="titration", target_mg_day=30, start=date(2026, 12, 1),
                                   kidney=KidneyInput(crcl_ml_min=45)))

Other treatments compared for a situation, and the page checks (issue 16)::

    from dosewise import check_article_text, check_pharmacy_text, compare_treatments

    compare_treatments(["tizanidine"], crcl_ml_min=20, medicines=["ciprofloxacin"])
    check_pharmacy_text("MegaMeds: no prescription needed!").verdict  # "warning_signs"

Names resolve on first use, so ``import dosewise`` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_monograph": "dosewise.monographs",
    "Monograph": "dosewise.domain.monograph",
    "assess_kidney_function": "dosewise.domain.kidney",
    "assess_creatinine_clearance": "dosewise.domain.kidney",
    "assess_dialysis": "dosewise.domain.kidney",
    "calculate_creatinine_clearance": "dosewise.domain.kidney",
    "estimate_egfr_ckd_epi_2021": "dosewise.domain.kidney",
    "KidneyAssessment": "dosewise.domain.kidney",
    "Product": "dosewise.domain.products",
    "parse_product_specs": "dosewise.domain.products",
    "build_dose_menu": "dosewise.domain.products",
    "build_titration": "dosewise.domain.titration",
    "build_taper": "dosewise.domain.taper",
    "Plan": "dosewise.domain.plan",
    "PlanStep": "dosewise.domain.plan",
    "Finding": "dosewise.domain.findings",
    "build_dose_events": "dosewise.domain.schedule",
    "parse_clock_times": "dosewise.domain.schedule",
    "DoseEvent": "dosewise.domain.schedule",
    "build_calendar": "dosewise.exporters.ical",
    "plan_to_dict": "dosewise.exporters.plan_json",
    "kidney_to_dict": "dosewise.exporters.plan_json",
    "DosewiseError": "dosewise.errors",
    "InputError": "dosewise.errors",
    "SafetyRefusal": "dosewise.errors",
    "NotFound": "dosewise.errors",
    "Conflict": "dosewise.errors",
    "ExportError": "dosewise.errors",
    "check_interactions": "dosewise.domain.interactions",
    "MedicineIndex": "dosewise.domain.interactions",
    "load_medicines": "dosewise.monographs",
    "advise_missed_dose": "dosewise.domain.missed_dose",
    "triage": "dosewise.domain.triage",
    "build_pk_parameters": "dosewise.domain.pk.analytic",
    "calculate_steady_state": "dosewise.domain.pk.analytic",
    "DoseHistory": "dosewise.domain.pk.simulate",
    "build_population": "dosewise.domain.pk.simulate",
    "simulate_levels": "dosewise.domain.pk.simulate",
    "summarize_population": "dosewise.domain.pk.simulate",
    "PlanRequest": "dosewise.services.plans",
    "KidneyInput": "dosewise.services.plans",
    "build_plan": "dosewise.services.plans",
    "compare_treatments": "dosewise.services.alternatives",
    "check_pharmacy_text": "dosewise.services.pharmacy_checks",
    "check_pharmacy_file": "dosewise.services.pharmacy_checks",
    "check_article_text": "dosewise.services.articles",
    "check_article_file": "dosewise.services.articles",
    "review_benefit": "dosewise.domain.benefit",
    "build_dose_periods": "dosewise.domain.benefit",
}
__all__ = [
    "Conflict",
    "DoseEvent",
    "DoseHistory",
    "DosewiseError",
    "ExportError",
    "Finding",
    "InputError",
    "KidneyAssessment",
    "KidneyInput",
    "MedicineIndex",
    "Monograph",
    "NotFound",
    "Plan",
    "PlanRequest",
    "PlanStep",
    "Product",
    "SafetyRefusal",
    "advise_missed_dose",
    "assess_creatinine_clearance",
    "assess_dialysis",
    "assess_kidney_function",
    "build_calendar",
    "build_dose_events",
    "build_dose_menu",
    "build_dose_periods",
    "build_pk_parameters",
    "build_plan",
    "build_population",
    "build_taper",
    "build_titration",
    "calculate_creatinine_clearance",
    "calculate_steady_state",
    "check_article_file",
    "check_article_text",
    "check_interactions",
    "check_pharmacy_file",
    "check_pharmacy_text",
    "compare_treatments",
    "estimate_egfr_ckd_epi_2021",
    "kidney_to_dict",
    "load_medicines",
    "load_monograph",
    "parse_clock_times",
    "parse_product_specs",
    "plan_to_dict",
    "review_benefit",
    "simulate_levels",
    "summarize_population",
    "triage",
]

if TYPE_CHECKING:
    from dosewise.domain.benefit import build_dose_periods, review_benefit
    from dosewise.domain.findings import Finding
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.kidney import (
        KidneyAssessment,
        assess_creatinine_clearance,
        assess_dialysis,
        assess_kidney_function,
        calculate_creatinine_clearance,
        estimate_egfr_ckd_epi_2021,
    )
    from dosewise.domain.missed_dose import advise_missed_dose
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.pk.analytic import build_pk_parameters, calculate_steady_state
    from dosewise.domain.pk.simulate import (
        DoseHistory,
        build_population,
        simulate_levels,
        summarize_population,
    )
    from dosewise.domain.plan import Plan, PlanStep
    from dosewise.domain.products import Product, build_dose_menu, parse_product_specs
    from dosewise.domain.schedule import DoseEvent, build_dose_events, parse_clock_times
    from dosewise.domain.taper import build_taper
    from dosewise.domain.titration import build_titration
    from dosewise.domain.triage import triage
    from dosewise.errors import Conflict, DosewiseError, ExportError, InputError, NotFound, SafetyRefusal
    from dosewise.exporters.ical import build_calendar
    from dosewise.exporters.plan_json import kidney_to_dict, plan_to_dict
    from dosewise.monographs import load_medicines, load_monograph
    from dosewise.services.alternatives import compare_treatments
    from dosewise.services.articles import check_article_file, check_article_text
    from dosewise.services.pharmacy_checks import check_pharmacy_file, check_pharmacy_text
    from dosewise.services.plans import KidneyInput, PlanRequest, build_plan


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dosewise' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
