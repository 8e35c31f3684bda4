"""Stored plans: the one codec that writes a plan to the database and reads it back.

A saved plan is a typed, versioned record, not the JSON the CLI prints: amounts are whole
micrograms, recipes are portions of the patient's products, and ``format`` says how to read it.
What is queried (kidney function, dose times, the zone) is also kept in columns of ``plans``.
The display JSON (``exporters.plan_json``) is a view made from the decoded plan, so it is free
to change without touching stored data. Format 1 (the display JSON of Dosewise 0.1) is
converted by migration 0005.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from fractions import Fraction
from typing import Any

from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.plan import Plan, PlanStep
from dosewise.domain.products import Portion, Product, Recipe
from dosewise.errors import DosewiseError

PLAN_FORMAT = 2


class UnreadablePlan(DosewiseError, ValueError):
    """A stored plan in a format this version cannot read (a newer Dosewise wrote it): said
    in one line like every other error, never a traceback."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRecord:
    """A plan as it was agreed: the domain plan, its dose times and the patient's zone."""

    plan: Plan
    times: tuple[time, ...]
    time_zone: str

    @property
    def crcl_ml_min(self) -> float | None:
        return None if self.plan.kidney is None else self.plan.kidney.crcl_ml_min

    @property
    def kidney_band(self) -> str | None:
        return None if self.plan.kidney is None else self.plan.kidney.band


def encode_plan(record: PlanRecord) -> str:
    plan = record.plan
    products = list(dict.fromkeys(plan.products))
    index = {product: number for number, product in enumerate(products)}
    payload: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "drug": plan.drug,
        "kind": plan.kind,
        "doses_per_day": plan.doses_per_day,
        "times": [t.strftime("%H:%M") for t in record.times],
        "time_zone": record.time_zone,
        "products": [_product(product) for product in products],
        "kidney": None if plan.kidney is None else _kidney(plan.kidney),
        "max_daily_ug": plan.max_daily_ug,
        "steps": [
            {
                "start": step.start.isoformat(),
                "days": step.days,
                "doses_ug": list(step.doses_ug),
                "requested_daily_ug": step.requested_daily_ug,
                "recipes": [None if r is None else _recipe(r, index) for r in step.recipes],
            }
            for step in plan.steps
        ],
        "warnings": [_finding(f) for f in plan.warnings],
        "cautions": [_finding(f) for f in plan.cautions],
        "sources": list(plan.sources),
        "disclaimer": plan.disclaimer,
        "stop_date": None if plan.stop_date is None else plan.stop_date.isoformat(),
        "normal_kidney_target_ug": plan.normal_kidney_target_ug,
        "review_on": None if plan.review_on is None else plan.review_on.isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def decode_plan(text: str) -> PlanRecord:
    data = json.loads(text)
    version = data.get("format") if isinstance(data, dict) else None
    if version != PLAN_FORMAT:
        raise UnreadablePlan(f"stored plan format {version!r}: this Dosewise reads format {PLAN_FORMAT}")
    products = [Product(**spec) for spec in data["products"]]
    kidney = data["kidney"]
    plan = Plan(
        drug=data["drug"],
        kind=data["kind"],
        doses_per_day=data["doses_per_day"],
        products=tuple(products),
        kidney=None if kidney is None else _read_kidney(kidney),
        max_daily_ug=data["max_daily_ug"],
        steps=tuple(
            PlanStep(
                start=date.fromisoformat(step["start"]),
                days=step["days"],
                doses_ug=tuple(step["doses_ug"]),
                recipes=tuple(None if r is None else _read_recipe(r, products) for r in step["recipes"]),
                requested_daily_ug=step["requested_daily_ug"],
            )
            for step in data["steps"]
        ),
        warnings=tuple(Finding(**f) for f in data["warnings"]),
        cautions=tuple(Finding(**f) for f in data["cautions"]),
        sources=tuple(data["sources"]),
        disclaimer=data["disclaimer"],
        stop_date=None if data["stop_date"] is None else date.fromisoformat(data["stop_date"]),
        normal_kidney_target_ug=data["normal_kidney_target_ug"],
        # added within format 2 (issue 12): records written before have no review date
        review_on=None if data.get("review_on") is None else date.fromisoformat(data["review_on"]),
    )
    times = tuple(time.fromisoformat(text) for text in data["times"])
    return PlanRecord(plan=plan, times=times, time_zone=data["time_zone"])


def _product(product: Product) -> dict[str, Any]:
    return {
        "form": product.form,
        "strength_ug": product.strength_ug,
        "split": product.split,
        "step_ul": product.step_ul,
    }


def _recipe(recipe: Recipe, index: dict[Product, int]) -> list[list[int]]:
    """Each portion as [product number, count, fraction, volume in µL]."""
    return [[index[p.product], p.count, p.fraction, p.volume_ul] for p in recipe.portions]


def _read_recipe(portions: list[list[int]], products: list[Product]) -> Recipe:
    return Recipe(
        portions=tuple(
            Portion(product=products[number], count=count, fraction=fraction, volume_ul=volume_ul)
            for number, count, fraction, volume_ul in portions
        )
    )


def _kidney(kidney: KidneyAssessment) -> dict[str, Any]:
    return {
        "band": kidney.band,
        "crcl_ml_min": kidney.crcl_ml_min,
        "egfr_ckd_epi_2021": kidney.egfr_ckd_epi_2021,
        "dose_factor": None if kidney.dose_factor is None else str(kidney.dose_factor),
        "requires_clinician": kidney.requires_clinician,
        "sources": list(kidney.sources),
    }


def _read_kidney(data: dict[str, Any]) -> KidneyAssessment:
    factor = data["dose_factor"]
    return KidneyAssessment(
        band=data["band"],
        crcl_ml_min=data["crcl_ml_min"],
        egfr_ckd_epi_2021=data["egfr_ckd_epi_2021"],
        dose_factor=None if factor is None else Fraction(factor),
        requires_clinician=data["requires_clinician"],
        sources=tuple(data["sources"]),
    )


def _finding(finding: Finding) -> dict[str, str]:
    return {
        "code": finding.code,
        "severity": finding.severity,
        "message": finding.message,
        "source": finding.source,
    }


def plan_columns(record: PlanRecord) -> dict[str, Any]:
    """The values of the ``plans`` columns that queries use, from the record."""
    return {
        "drug": record.plan.drug,
        "kind": record.plan.kind,
        "format": PLAN_FORMAT,
        "times": ",".join(t.strftime("%H:%M") for t in record.times),
        "time_zone": record.time_zone,
        "crcl_ml_min": record.crcl_ml_min,
        "kidney_band": record.kidney_band,
        "record": encode_plan(record),
    }


def decode_recipes(text: str) -> list[tuple[int, int, Recipe]]:
    """(step number from 1, dose in µg, recipe) of each dose of a stored plan's steps: what the
    supply forecast needs, read without building the whole plan (a daily pass reads thousands)."""
    data = json.loads(text)
    version = data.get("format") if isinstance(data, dict) else None
    if version != PLAN_FORMAT:
        raise UnreadablePlan(f"stored plan format {version!r}: this Dosewise reads format {PLAN_FORMAT}")
    products = [Product(**spec) for spec in data["products"]]
    return [
        (number, dose_ug, _read_recipe(recipe, products))
        for number, step in enumerate(data["steps"], start=1)
        for dose_ug, recipe in zip(step["doses_ug"], step["recipes"], strict=True)
        if dose_ug and recipe is not None
    ]
