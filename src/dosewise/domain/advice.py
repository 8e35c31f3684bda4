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
