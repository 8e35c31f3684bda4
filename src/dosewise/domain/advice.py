"""Standing advice and shared findings attached to every plan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.monograph import Monograph, PlanKind, cite_sources
from dosewise.domain.plan import PlanStep
from dosewise.domain.units import format_mg


def build_standing_advice(
    monograph: Monograph, kind: PlanKind, kidney: KidneyAssessment | None
) -> tuple[Finding, ...]:
    """The monograph's advice for this kind of plan (kidney advice only when impaired)."""
    impaired = kidney is not None and kidney.impaired
    return tuple(
        Finding(code=a.code, severity=a.severity, message=a.message, source=a.source)
        for a in monograph.advice
        if kind in a.applies_to and (impaired or not a.when_kidney_impaired)
    )


def check_rounding(steps: Sequence[PlanStep], doses_per_day: int) -> list[Finding]:
    """Say where a step was rounded down or given in fewer doses than asked."""
    findings: list[Finding] = []
    for number, step in enumerate(steps, start=1):
        if step.daily_ug < step.requested_daily_ug:
            findings.append(
                Finding(
                    code="ROUNDED_DOWN",
                    severity="warning",
                    message=(
                        f"Step {number}: {format_mg(step.requested_daily_ug)} mg/day cannot be made "
                        f"from these products; rounded down to {format_mg(step.daily_ug)} mg/day "
                        "(never up)."
                    ),
                    source="DOSEWISE",
                )
            )
        if step.doses_given < doses_per_day:
            findings.append(
                Finding(
                    code="FEWER_DOSES",
                    severity="warning",
                    message=(
                        f"Step {number}: {format_mg(step.daily_ug)} mg/day is given as "
                        f"{step.doses_given} dose{'' if step.doses_given == 1 else 's'} instead of "
                        f"{doses_per_day}, larger ones later in the day: these products cannot "
                        "divide it further. A product with "
                        "smaller doses (for example an oral solution) would allow even doses."
                    ),
                    source="DOSEWISE",
                )
            )
    return findings


def gather_sources(*texts: str, findings: Iterable[Finding] = ()) -> tuple[str, ...]:
    """Every source key named by ``texts`` and ``findings``."""
    return cite_sources(*texts, *(finding.source for finding in findings))


def check_dose_sizes(monograph: Monograph, steps: Sequence[PlanStep]) -> list[Finding]:
    """Say where a single dose is above the label's largest single dose (20 mg: the maximum is
    written as 20 mg four times daily [US-TAB]); the warning is a Dosewise default."""
    rules = monograph.titration
    if rules.max_single_dose_mg is None:
        return []
    limit_ug = round(rules.max_single_dose_mg * 1000)
    large = [
        (number, dose)
        for number, step in enumerate(steps, start=1)
        for dose in sorted(set(step.doses_ug))
        if dose > limit_ug
    ]
    if not large:
        return []
    listed = "; ".join(
        f"step {number}: {', '.join(format_mg(dose) for number_, dose in large if number_ == number)} mg"
        for number in dict.fromkeys(number for number, _ in large)
    )
    return [
        Finding(
            code="LARGE_SINGLE_DOSE",
            severity="warning",
            message=(
                f"A single dose above {format_mg(limit_ug)} mg ({listed}): the label's maximum is written as "
                f"{format_mg(limit_ug)} mg four times daily. Dosewise default: warn above "
                f"{format_mg(limit_ug)} mg; the prescriber may change this. More doses a day would keep "
                "each dose smaller."
            ),
            source=rules.max_single_dose_source,
        )
    ]
