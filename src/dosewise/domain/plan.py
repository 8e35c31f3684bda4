"""A plan: dated steps of daily doses, each dose said in the patient's own products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.monograph import PlanKind, TitrationRules
from dosewise.domain.products import DoseMenu, Product, Recipe
from dosewise.errors import InputError


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanStep:
    """``days`` days from ``start``, the same doses each day.

    ``doses_ug`` has one entry per dose time in clock order; 0 means no dose at that time.
    ``requested_daily_ug`` is what the rules asked for before rounding down to what the
    products can make.
    """

    start: date
    days: int
    doses_ug: tuple[int, ...]
    recipes: tuple[Recipe | None, ...]
    requested_daily_ug: int

    @property
    def daily_ug(self) -> int:
        return sum(self.doses_ug)

    @property
    def end(self) -> date:
        """The last day of this step."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def doses_given(self) -> int:
        return sum(1 for dose in self.doses_ug if dose)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    drug: str
    kind: PlanKind
    doses_per_day: int
    products: tuple[Product, ...]
    kidney: KidneyAssessment | None
    max_daily_ug: int
    steps: tuple[PlanStep, ...]
    warnings: tuple[Finding, ...]
    cautions: tuple[Finding, ...]
    sources: tuple[str, ...]
    disclaimer: str
    stop_date: date | None = None  # tapers: the first day without the drug
    normal_kidney_target_ug: int | None = None  # titrations: the target before the kidney factor
    review_on: date | None = None  # open-ended plans: when the prescriber reviews it

    @property
    def start(self) -> date:
        return self.steps[0].start

    @property
    def end(self) -> date:
        """The last day of the last step (an open-ended plan goes on after it)."""
        return self.steps[-1].end

    @property
    def open_ended(self) -> bool:
        """A plan never ends in nothing: after its last step it continues at that step's doses
        until another plan replaces it; only a taper ends, on its stop date [baclofen.md 10]."""
        return self.stop_date is None

    def step_on(self, day: date) -> PlanStep | None:
        """The step whose doses are given on ``day``: the first step before the plan starts,
        the last one after it for an open-ended plan, None after a taper has stopped."""
        if day < self.start:
            return self.steps[0]
        for step in self.steps:
            if day <= step.end:
                return step
        return self.steps[-1] if self.open_ended else None

    def daily_ug_on(self, day: date) -> int:
        step = self.step_on(day)
        return 0 if step is None else step.daily_ug


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRequest:
    """A step as the rules ask for it, before rounding to the products."""

    requested_daily_ug: int
    daily_ug: int  # deliverable, <= requested for titration
    days: int


def check_doses_per_day(rules: TitrationRules, doses_per_day: int) -> None:
    """Doses a day must be one the labels use (three or four times daily)."""
    if doses_per_day not in rules.doses_per_day:
        allowed = " or ".join(str(n) for n in rules.doses_per_day)
        raise InputError(
            f"doses per day must be {allowed} [{rules.doses_per_day_source}], got {doses_per_day}",
            field="doses_per_day",
        )


def build_plan_steps(
    menu: DoseMenu, requests: Sequence[StepRequest], *, start: date, doses_per_day: int
) -> tuple[PlanStep, ...]:
    """Dated steps; consecutive steps with the same daily total are merged (days added)."""
    merged: list[StepRequest] = []
    for request in requests:
        if merged and merged[-1].daily_ug == request.daily_ug:
            last = merged[-1]
            merged[-1] = StepRequest(
                requested_daily_ug=last.requested_daily_ug,
                daily_ug=last.daily_ug,
                days=last.days + request.days,
            )
        else:
            merged.append(request)
    steps: list[PlanStep] = []
    day = start
    for request in merged:
        doses = menu.split_daily_ug(request.daily_ug, doses_per_day)
        steps.append(
            PlanStep(
                start=day,
                days=request.days,
                doses_ug=doses,
                recipes=tuple(menu.recipe(dose) if dose else None for dose in doses),
                requested_daily_ug=request.requested_daily_ug,
            )
        )
        day += timedelta(days=request.days)
    return tuple(steps)
