"""The benefit review as JSON (the API; the same shape for any later CLI ``--json``)."""

from __future__ import annotations

from typing import Any

from dosewise.domain.benefit import BenefitReview, ScoreWindow
from dosewise.domain.units import ug_to_mg


def benefit_to_dict(review: BenefitReview) -> dict[str, Any]:
    """``status`` (no_clear_benefit, no_added_benefit, benefit, not_assessable, too_early,
    not_enough_data), ``flag`` (true for no_clear_benefit and no_added_benefit), the
    clinician-facing ``message`` and ``reasons``; the numbers: the stable dose and since when,
    the weeks at it, the titration start, the daily doses the plans gave in the baseline window
    (``baseline_daily_mg``, lowest first; ``baseline_on_baclofen`` when any is above 0: then the
    review reads "no added benefit", Dosewise's reading), the baseline and current mean scores
    and their change; the side effects per titration step; the rule, its settings (product
    defaults) and its source keys. The review never changes a plan."""
    trend = review.side_effects
    return {
        "status": review.status,
        "flag": review.flagged,
        "message": review.message,
        "reasons": list(review.reasons),
        "today": review.today.isoformat(),
        "stable_daily_mg": None if review.stable_daily_ug is None else ug_to_mg(review.stable_daily_ug),
        "stable_since": None if review.stable_since is None else review.stable_since.isoformat(),
        "weeks_at_stable_dose": review.weeks_stable,
        "titration_start": None if review.titration_start is None else review.titration_start.isoformat(),
        "baseline_daily_mg": [ug_to_mg(daily_ug) for daily_ug in review.baseline_doses_ug],
        "baseline_on_baclofen": review.baseline_on_baclofen,
        "baseline": _window(review.baseline),
        "current": _window(review.current),
        "change": {"penn_frequency": review.penn_change, "stiffness_nrs": review.stiffness_change},
        "side_effects": None
        if trend is None
        else {
            "rising": trend.rising,
            "message": trend.message,
            "steps": [
                {
                    "first_day": step.first_day.isoformat(),
                    "daily_mg": ug_to_mg(step.daily_ug),
                    "entries": step.entries,
                    "mean_severity_sum": step.mean_burden,
                }
                for step in trend.steps
            ],
        },
        "doses": [
            {
                "first_day": period.first_day.isoformat(),
                "last_day": None if period.last_day is None else period.last_day.isoformat(),
                "daily_mg": ug_to_mg(period.daily_ug),
            }
            for period in review.periods
        ],
        "rule": review.rule,
        "settings": list(review.settings),
        "sources": list(review.sources),
        "changes_plan": False,
    }


def _window(window: ScoreWindow | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "first_day": window.first_day.isoformat(),
        "last_day": window.last_day.isoformat(),
        "entries": window.entries,
        "penn_frequency": window.penn_frequency,
        "stiffness_nrs": window.stiffness_nrs,
    }
