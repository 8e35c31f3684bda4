"""Is baclofen helping? The benefit review of baclofen.md section 10 ("No benefit after a trial").

The label asks to withdraw slowly when there is no benefit after a reasonable trial [US-TAB];
UK: review if no benefit within 6 weeks [UK, wording to be verified]. Product default
(section 10): after 6 weeks at a stable dose with no improvement of the spasm (Penn frequency
[PSFS]) and stiffness (0-10) scores against the 2 weeks before titration, flag for the
clinician ("consider a slow withdrawal"). The opposite signal: side effects rising with each
titration step.

Dosewise's own readings (product defaults; baclofen.md gives no rule for them): when the 2 weeks
before titration were already on baclofen (a rise from a dose taken for a while), no improvement
means no *added* benefit of the rise, flagged as "consider returning to the lower dose", never as
a withdrawal (:data:`RULE_ADDED`); when those 2 weeks were at a dose no lower than the stable dose
(a new titration after a lowering), or the scores were already too low to fall by the amounts
that count, the benefit is not assessable and nothing is flagged.

Pure: the diary's scores and the daily doses the plans gave, in, a review out. It never
changes a plan; the flag is for the clinician to weigh.

The numbers not in baclofen.md are settings, shown as product defaults: what counts as an
improvement (:data:`PENN_IMPROVEMENT`, :data:`STIFFNESS_IMPROVEMENT`), the scores the current
mean is taken from (:data:`CURRENT_DAYS`), the fewest entries a mean needs
(:data:`MIN_ENTRIES`) and the steps a rise of side effects needs (:data:`MIN_RISING_STEPS`).

"Before titration" is read from the plans: the titration is the last run of rises of the daily
dose before the stable dose; it starts after nothing (no dose, no plan) or after a dose held for
the baseline's 2 weeks or longer. A lowering after the rises (finding the dose) stays part of the
trial; the stable dose is the one in force today, with no change ahead in the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import pairwise
from statistics import fmean
from typing import Any, Literal

from dosewise.domain.plan import Plan
from dosewise.domain.units import format_mg

# baclofen.md section 10 (product defaults, on the label's "reasonable trial" [US-TAB] and the
# UK's 6 weeks [UK]):
STABLE_DAYS = 42  # 6 weeks at a stable dose before the review
BASELINE_DAYS = 14  # the 2 weeks before titration
# Settings (product defaults; baclofen.md gives no such numbers):
CURRENT_DAYS = 14  # the current scores: the last 2 weeks at the stable dose (as long as the baseline)
PENN_IMPROVEMENT = 1.0  # a fall of the mean Penn spasm frequency (0-4) that counts as improvement
STIFFNESS_IMPROVEMENT = 2.0  # a fall of the mean stiffness rating (0-10) that counts (the list's rise)
MIN_ENTRIES = 3  # diary entries a window needs for its mean
MIN_RISING_STEPS = 3  # titration steps with entries, each with more side effects than the one before

RULE_SOURCES = ("US-TAB", "UK", "PSFS", "DOSEWISE")
RULE_ADDED_SOURCES = ("PSFS", "DOSEWISE")  # the reading of a rise from a dose already taken
RULE = (
    "No benefit after a trial: the label asks to withdraw slowly when there is no benefit after "
    "a reasonable trial [US-TAB]; UK: review if no benefit within 6 weeks [UK, wording to be "
    "verified]. Dosewise flags it "
    f"after {STABLE_DAYS // 7} weeks at a stable dose with no improvement of the spasm and "
    f"stiffness scores against the {BASELINE_DAYS // 7} weeks before titration (product default "
    "[DOSEWISE], baclofen.md section 10). It never changes the plan."
)
RULE_ADDED = (
    "No added benefit from a rise: the 2 weeks before titration were already on baclofen, so the "
    "scores show what the rise added, not whether baclofen helps. baclofen.md gives no rule for "
    "this case; Dosewise's reading (product default [DOSEWISE]): after "
    f"{STABLE_DAYS // 7} weeks at a stable dose with no improvement of the spasm and stiffness "
    f'scores against those {BASELINE_DAYS // 7} weeks, flag for the clinician ("no added benefit: '
    'consider returning to the lower dose"); when those weeks were at a dose no lower than the '
    "stable dose, the benefit is not assessable. It never changes the plan."
)
SETTINGS = (
    f"stable dose: at least {STABLE_DAYS // 7} weeks unchanged (product default, baclofen.md 10) [DOSEWISE]",
    f"baseline: the {BASELINE_DAYS} days before titration (product default, baclofen.md 10) [DOSEWISE]",
    f"current: the last {CURRENT_DAYS} days at the stable dose (product default) [DOSEWISE]",
    f"improvement: Penn spasm frequency down by {PENN_IMPROVEMENT:g} or more, or stiffness down by "
    f"{STIFFNESS_IMPROVEMENT:g} or more (product default) [DOSEWISE]",
    f"a mean needs at least {MIN_ENTRIES} diary entries (product default) [DOSEWISE]",
    f"not assessable, no flag: baseline Penn below {PENN_IMPROVEMENT:g} and stiffness below "
    f"{STIFFNESS_IMPROVEMENT:g} (they cannot fall by the amounts that count) (product default) [DOSEWISE]",
    f"side effects rising: more with each of at least {MIN_RISING_STEPS} titration steps "
    "(product default) [DOSEWISE]",
)

BenefitStatus = Literal[
    "no_clear_benefit", "no_added_benefit", "benefit", "not_assessable", "too_early", "not_enough_data"
]
FLAG_STATUSES: tuple[BenefitStatus, ...] = ("no_clear_benefit", "no_added_benefit")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreEntry:
    """A diary entry's scores, on the patient's local day: Penn spasm frequency 0-4 [PSFS],
    stiffness 0-10, and the side effects' burden (the sum of their severities 1-3; 0: none)."""

    day: date
    penn_frequency: int
    stiffness_nrs: int
    side_effect_burden: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSpan:
    """A plan while it was in force: from ``first_day`` to the day before ``until_day``
    (None: still in force), on the patient's local days."""

    plan: Plan
    first_day: date
    until_day: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DosePeriod:
    """``daily_ug`` planned each day from ``first_day`` to ``last_day`` (None: goes on)."""

    first_day: date
    last_day: date | None
    daily_ug: int

    @property
    def daily_mg(self) -> str:
        return format_mg(self.daily_ug)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreWindow:
    """Mean scores of the entries of ``first_day``-``last_day``."""

    first_day: date
    last_day: date
    entries: int
    penn_frequency: float | None  # mean (None: no entry)
    stiffness_nrs: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSideEffects:
    """A titration step and the side effects reported at it."""

    first_day: date
    daily_ug: int
    entries: int
    mean_burden: float | None  # mean sum of severities per entry (None: no entry)


@dataclass(frozen=True, slots=True, kw_only=True)
class SideEffectTrend:
    rising: bool
    steps: tuple[StepSideEffects, ...]
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitReview:
    """The review for the clinician. ``status``: ``no_clear_benefit`` (the flag: consider a slow
    withdrawal), ``no_added_benefit`` (the flag when the baseline was already on baclofen:
    consider returning to the lower dose; Dosewise's reading), ``benefit``, ``not_assessable``
    (the baseline cannot show a benefit: scores already too low, or a dose no lower than now),
    ``too_early`` (the dose not yet stable for 6 weeks) or ``not_enough_data``; ``message``
    says which with the numbers, ``reasons`` why. ``baseline_doses_ug``: the daily doses the
    plans gave in the baseline window, lowest first (0: none; empty: no titration found)."""

    status: BenefitStatus
    message: str
    reasons: tuple[str, ...]
    today: date
    stable_daily_ug: int | None = None
    stable_since: date | None = None
    titration_start: date | None = None
    baseline_doses_ug: tuple[int, ...] = ()
    baseline: ScoreWindow | None = None
    current: ScoreWindow | None = None
    side_effects: SideEffectTrend | None = None
    periods: tuple[DosePeriod, ...] = ()
    sources: tuple[str, ...] = RULE_SOURCES
    rule: str = RULE
    settings: tuple[str, ...] = SETTINGS

    @property
    def flagged(self) -> bool:
        return self.status in FLAG_STATUSES

    @property
    def baseline_on_baclofen(self) -> bool:
        """Whether the plans gave baclofen on any day of the baseline window."""
        return any(self.baseline_doses_ug)

    @property
    def baseline_dose_text(self) -> str:
        """The baseline window's daily dose as read: "30 mg/day", "15 to 30 mg/day"."""
        return _doses_text(self.baseline_doses_ug)

    @property
    def weeks_stable(self) -> int | None:
        if self.stable_since is None:
            return None
        return ((self.today - self.stable_since).days + 1) // 7  # days at the dose, today included

    @property
    def list_flags(self) -> tuple[str, ...]:
        """What the clinician's list shows of it: the flag without its numbers, and rising side
        effects; nothing otherwise."""
        found = []
        if self.stable_daily_ug is not None:
            dose = f"{format_mg(self.stable_daily_ug)} mg/day"
            if self.status == "no_clear_benefit":
                found.append(
                    f"no clear benefit after {self.weeks_stable} weeks at {dose}: consider a slow withdrawal"
                )
            elif self.status == "no_added_benefit":
                found.append(
                    f"no added benefit after {self.weeks_stable} weeks at {dose} over "
                    f"{self.baseline_dose_text}: consider returning to the lower dose"
                )
        if self.side_effects is not None and self.side_effects.rising:
            found.append("side effects rising with each titration step")
        return tuple(found)

    @property
    def penn_change(self) -> float | None:
        return _change(self.baseline, self.current, "penn_frequency")

    @property
    def stiffness_change(self) -> float | None:
        return _change(self.baseline, self.current, "stiffness_nrs")


def _change(baseline: ScoreWindow | None, current: ScoreWindow | None, name: str) -> float | None:
    if baseline is None or current is None:
        return None
    before, now = getattr(baseline, name), getattr(current, name)
    return None if before is None or now is None else now - before


def build_dose_periods(spans: Sequence[PlanSpan]) -> tuple[DosePeriod, ...]:
    """The daily dose the plans gave, day by day, as periods (equal neighbours merged). A later
    span takes over from its first day; an open-ended plan goes on at its last step, a taper
    ends on its stop date (0 mg/day from then on). A span replaced before its first day (a plan
    saved to start later, then replaced before it began) gave nothing and changes nothing.
    Before the first plan: nothing."""
    changes: dict[date, int] = {}
    # a plan replaced on or before its first day (a scheduled plan cancelled before it began)
    # never gave a dose: left out first, so that it cuts off no plan before it
    ordered = sorted(
        (span for span in spans if span.until_day is None or span.first_day < span.until_day),
        key=lambda span: span.first_day,
    )
    for number, span in enumerate(ordered):
        plan = span.plan
        until = span.until_day
        following = ordered[number + 1].first_day if number + 1 < len(ordered) else None
        if following is not None and (until is None or following < until):
            until = following
        if until is not None and until <= span.first_day:
            continue  # taken over on its first day by a later plan
        for day in list(changes):
            if day >= span.first_day:
                del changes[day]
        changes[span.first_day] = plan.daily_ug_on(span.first_day) if span.first_day >= plan.start else 0
        for step in plan.steps:
            if span.first_day < step.start and (until is None or step.start < until):
                changes[step.start] = step.daily_ug
        stop = plan.stop_date
        if stop is not None and span.first_day < stop and (until is None or stop < until):
            changes[stop] = 0
        if until is not None:
            changes[until] = 0  # nothing after, unless a later span says otherwise
    return _merged_periods(changes)


def _merged_periods(changes: dict[date, int]) -> tuple[DosePeriod, ...]:
    periods: list[DosePeriod] = []
    for day in sorted(changes):
        daily = changes[day]
        if periods and periods[-1].daily_ug == daily:
            continue
        if periods:
            last = periods[-1]
            periods[-1] = DosePeriod(
                first_day=last.first_day, last_day=day - timedelta(days=1), daily_ug=last.daily_ug
            )
        periods.append(DosePeriod(first_day=day, last_day=None, daily_ug=daily))
    return tuple(periods)


def find_first_scored_day(periods: Sequence[DosePeriod], *, today: date) -> date | None:
    """The first day whose diary entries :func:`review_benefit` reads on ``today`` (the
    baseline's first day); None: it reads none (no dose today, no titration)."""
    periods = tuple(periods)
    now_index = _now_index(periods, today)
    if now_index is None or periods[now_index].daily_ug == 0:
        return None
    start = _titration_start(periods, now_index)
    return None if start is None else start - timedelta(days=BASELINE_DAYS)


def _now_index(periods: tuple[DosePeriod, ...], today: date) -> int | None:
    return next(
        (
            index
            for index, period in enumerate(periods)
            if period.first_day <= today and (period.last_day is None or today <= period.last_day)
        ),
        None,
    )


def review_benefit(
    periods: Sequence[DosePeriod], entries: Sequence[ScoreEntry], *, today: date
) -> BenefitReview:
    """The section 10 review on ``today`` from the daily-dose periods (oldest first, as
    :func:`build_dose_periods` gives them) and the diary's entries."""
    periods = tuple(periods)
    now_index = _now_index(periods, today)
    if now_index is None or periods[now_index].daily_ug == 0:
        return BenefitReview(
            status="not_enough_data",
            message="not enough data: no baclofen dose is planned today",
            reasons=("the review compares the scores at a stable dose with those before titration",),
            today=today,
            periods=periods,
        )
    stable = periods[now_index]
    dose = f"{stable.daily_mg} mg/day"
    start = _titration_start(periods, now_index)
    trend = _side_effect_trend(periods, now_index, start, entries, today)
    stable_days = (today - stable.first_day).days + 1
    weeks = stable_days // 7
    base = BenefitReview(
        status="not_enough_data",
        message="",
        reasons=(),
        today=today,
        stable_daily_ug=stable.daily_ug,
        stable_since=stable.first_day,
        titration_start=start,
        side_effects=trend,
        periods=periods,
    )
    changes_ahead = [period for period in periods[now_index + 1 :] if period.daily_ug != stable.daily_ug]
    if start is None:
        return replace(
            base,
            message=f"not enough data: no titration found before {dose}",
            reasons=("the plans give no rise of the daily dose to compare with",),
        )
    baseline = _window(entries, start - timedelta(days=BASELINE_DAYS), start - timedelta(days=1))
    baseline_doses = _doses_between(periods, baseline.first_day, baseline.last_day)
    base = replace(base, baseline_doses_ug=baseline_doses)
    on_baclofen = any(baseline_doses)
    before_dose = _doses_text(baseline_doses)
    at_baseline = (
        f"the {BASELINE_DAYS // 7} weeks before titration were already at {before_dose}: the "
        "comparison shows what the rise added (Dosewise's reading, product default)"
    )
    if on_baclofen:
        base = replace(base, rule=RULE_ADDED, sources=RULE_ADDED_SOURCES)
    if stable_days < STABLE_DAYS or changes_ahead:
        early = _too_early(stable, dose, stable_days, changes_ahead)
        if on_baclofen:
            early["reasons"] = (*early["reasons"], at_baseline)
        return replace(base, baseline=baseline, **early)
    current_first = max(stable.first_day, today - timedelta(days=CURRENT_DAYS - 1))
    current = _window(entries, current_first, today)
    missing = [
        f"{name}: {window.entries} entr{'y' if window.entries == 1 else 'ies'} from "
        f"{window.first_day:%Y-%m-%d} to {window.last_day:%Y-%m-%d}, at least {MIN_ENTRIES} needed "
        "(product default)"
        for name, window in (
            ("baseline (before titration)", baseline),
            ("current (at the stable dose)", current),
        )
        if window.entries < MIN_ENTRIES
    ]
    base = replace(base, baseline=baseline, current=current)
    if missing:
        return replace(
            base,
            status="not_enough_data",
            message=f"not enough data: too few diary entries to compare ({weeks} weeks at {dose})",
            reasons=tuple(missing) + ((at_baseline,) if on_baclofen else ()),
        )
    return _compare(base, baseline, current, dose=dose, weeks=weeks, at_baseline=at_baseline)


def _compare(
    base: BenefitReview,
    baseline: ScoreWindow,
    current: ScoreWindow,
    *,
    dose: str,
    weeks: int,
    at_baseline: str,
) -> BenefitReview:
    """The comparison of two windows with enough entries: not assessable, benefit, or the flag."""
    baseline_doses = base.baseline_doses_ug
    on_baclofen = base.baseline_on_baclofen
    before_dose = _doses_text(baseline_doses)
    # both windows have entries; rounded so that a mean of thirds compares as people read it
    penn_change = round((current.penn_frequency or 0.0) - (baseline.penn_frequency or 0.0), 2)
    stiffness_change = round((current.stiffness_nrs or 0.0) - (baseline.stiffness_nrs or 0.0), 2)
    at = f" (at {before_dose})" if on_baclofen else ""
    numbers = (
        f"Spasm frequency (Penn 0-4) {baseline.penn_frequency:.1f} before titration{at}, "
        f"{current.penn_frequency:.1f} now ({penn_change:+.1f}); stiffness (0-10) "
        f"{baseline.stiffness_nrs:.1f} before, {current.stiffness_nrs:.1f} now ({stiffness_change:+.1f})"
    )
    if max(baseline_doses) >= (base.stable_daily_ug or 0):
        return replace(
            base,
            status="not_assessable",
            message=(
                f"benefit not assessable after {weeks} weeks at {dose}: the {BASELINE_DAYS // 7} weeks "
                f"before titration were at {before_dose}, no less than now [product default DOSEWISE]. "
                f"{numbers}"
            ),
            reasons=(
                f"the titration started after a lowering of the dose: scores taken at {before_dose} "
                f"cannot show what the titration to {dose} added (Dosewise's reading, product default)",
                "no flag; this review never changes the plan",
            ),
        )
    improved = []
    if -penn_change >= PENN_IMPROVEMENT:
        improved.append(f"spasm frequency fell by {-penn_change:.1f} (at least {PENN_IMPROVEMENT:g} counts)")
    if -stiffness_change >= STIFFNESS_IMPROVEMENT:
        improved.append(
            f"stiffness fell by {-stiffness_change:.1f} (at least {STIFFNESS_IMPROVEMENT:g} counts)"
        )
    if improved:
        over = f" over {before_dose} [Dosewise's reading, product default DOSEWISE]" if on_baclofen else ""
        return replace(
            base,
            status="benefit",
            message=f"benefit after {weeks} weeks at {dose}{over}: {numbers}",
            reasons=tuple(improved) + ((at_baseline,) if on_baclofen else ()),
        )
    fell_too_little = (
        f"spasm frequency fell by less than {PENN_IMPROVEMENT:g} and stiffness by less than "
        f"{STIFFNESS_IMPROVEMENT:g} (product defaults)"
    )
    if (
        round(baseline.penn_frequency or 0.0, 2) < PENN_IMPROVEMENT
        and round(baseline.stiffness_nrs or 0.0, 2) < STIFFNESS_IMPROVEMENT
    ):
        return replace(
            base,
            status="not_assessable",
            message=(
                f"benefit not assessable after {weeks} weeks at {dose}: the scores were already low "
                f"before titration{at} [product default DOSEWISE]. {numbers}"
            ),
            reasons=(
                f"spasm frequency {baseline.penn_frequency:.1f} and stiffness {baseline.stiffness_nrs:.1f} "
                f"before titration cannot fall by {PENN_IMPROVEMENT:g} and {STIFFNESS_IMPROVEMENT:g}, "
                "the least that counts (product defaults)",
                "no flag: unchanged low scores do not show a lack of benefit; this review never "
                "changes the plan",
            ),
        )
    if on_baclofen:
        return replace(
            base,
            status="no_added_benefit",
            message=(
                f"no added benefit after {weeks} weeks at {dose} over {before_dose}: consider "
                "returning to the lower dose [Dosewise's reading, product default DOSEWISE; "
                f"baclofen.md gives no rule for a rise from a dose already taken]. {numbers}"
            ),
            reasons=(
                fell_too_little,
                at_baseline,
                "not whether baclofen helps; this review never changes the plan (a lower dose is "
                "the prescriber's new plan)",
            ),
        )
    return replace(
        base,
        status="no_clear_benefit",
        message=(
            f"no clear benefit after {weeks} weeks at {dose}: consider a slow withdrawal "
            f"[US-TAB, UK; product default DOSEWISE]. {numbers}"
        ),
        reasons=(
            fell_too_little,
            "a withdrawal is slow, never abrupt (baclofen.md section 4) [US-TAB]; "
            "this review never changes the plan",
        ),
    )


def _doses_between(periods: tuple[DosePeriod, ...], first_day: date, last_day: date) -> tuple[int, ...]:
    """The daily doses the periods give from ``first_day`` to ``last_day`` (0 on a day without
    a period), each once, lowest first."""
    found = set()
    day = first_day
    while day <= last_day:
        index = _now_index(periods, day)
        found.add(0 if index is None else periods[index].daily_ug)
        day += timedelta(days=1)
    return tuple(sorted(found))


def _doses_text(doses_ug: Sequence[int]) -> str:
    """ "30 mg/day", or "15 to 30 mg/day" for several doses."""
    if not doses_ug:
        return "no dose"
    low, high = min(doses_ug), max(doses_ug)
    if low == high:
        return f"{format_mg(low)} mg/day"
    return f"{format_mg(low)} to {format_mg(high)} mg/day"


def _too_early(
    stable: DosePeriod, dose: str, stable_days: int, changes_ahead: Sequence[DosePeriod]
) -> dict[str, Any]:
    weeks = stable_days // 7
    review_on = stable.first_day + timedelta(days=STABLE_DAYS - 1)
    why = [
        f"{stable_days} day{'s' if stable_days != 1 else ''} at {dose} since "
        f"{stable.first_day:%Y-%m-%d}; the review needs {STABLE_DAYS // 7} weeks at a stable dose "
        "(product default, baclofen.md section 10)"
    ]
    if changes_ahead and _is_taper(stable, changes_ahead):
        why.append(
            f"the plan lowers the dose step by step to 0 mg/day on {changes_ahead[-1].first_day:%Y-%m-%d} "
            f"(next: {changes_ahead[0].daily_mg} mg/day on {changes_ahead[0].first_day:%Y-%m-%d}): "
            "a taper is in progress"
        )
        until = changes_ahead[0].first_day - timedelta(days=1)
        message = f"too early: a taper is in progress ({dose} until {until:%Y-%m-%d})"
    elif changes_ahead:
        why.append(
            f"the plan changes the dose on {changes_ahead[0].first_day:%Y-%m-%d} "
            f"(to {changes_ahead[0].daily_mg} mg/day): the dose is not yet stable"
        )
        until = changes_ahead[0].first_day - timedelta(days=1)
        message = f"too early: the dose is not yet stable ({dose} until {until:%Y-%m-%d})"
    else:
        plural = "s" if weeks != 1 else ""
        message = f"too early: {weeks} week{plural} at {dose}; review from {review_on:%Y-%m-%d}"
    return {"status": "too_early", "message": message, "reasons": tuple(why)}


def _is_taper(stable: DosePeriod, changes_ahead: Sequence[DosePeriod]) -> bool:
    """True when the plan lowers the dose at every change ahead, down to 0 mg/day: a taper (a
    taper plan ends on its stop date; a clinician's schedule down to nothing is one too)."""
    doses = [stable.daily_ug, *(period.daily_ug for period in changes_ahead)]
    return doses[-1] == 0 and all(later < earlier for earlier, later in pairwise(doses))


def _titration_start(periods: tuple[DosePeriod, ...], now_index: int) -> date | None:
    """The first day of the last run of rises before the stable dose (decreases after it, while
    finding the dose, are part of the trial). The run stops at a dose held for the baseline's
    2 weeks or longer, or at nothing (no dose, or no plan before): that is the dose before
    titration, and the baseline is the 2 weeks before the first rise from it."""
    index = now_index
    while index > 0 and periods[index - 1].daily_ug >= periods[index].daily_ug:
        index -= 1  # walk back over decreases to the last rise
    if periods[index].daily_ug == 0:
        return None
    while index > 0:
        before = periods[index - 1]
        held_days = (periods[index].first_day - before.first_day).days
        if before.daily_ug == 0 or before.daily_ug >= periods[index].daily_ug or held_days >= BASELINE_DAYS:
            break  # the dose before titration
        index -= 1
    return periods[index].first_day


def _window(entries: Sequence[ScoreEntry], first_day: date, last_day: date) -> ScoreWindow:
    found = [entry for entry in entries if first_day <= entry.day <= last_day]
    return ScoreWindow(
        first_day=first_day,
        last_day=last_day,
        entries=len(found),
        penn_frequency=fmean(e.penn_frequency for e in found) if found else None,
        stiffness_nrs=fmean(e.stiffness_nrs for e in found) if found else None,
    )


def _side_effect_trend(
    periods: tuple[DosePeriod, ...],
    now_index: int,
    start: date | None,
    entries: Sequence[ScoreEntry],
    today: date,
) -> SideEffectTrend:
    """Side effects at each titration step (each period with a higher dose than the step
    before, from the titration start to today): rising when each step with entries has a
    higher mean burden than the step before, over at least :data:`MIN_RISING_STEPS` steps."""
    steps: list[StepSideEffects] = []
    if start is not None:
        for period in periods[: now_index + 1]:
            if period.first_day < start or period.daily_ug == 0:
                continue
            if steps and period.daily_ug <= steps[-1].daily_ug:
                continue  # a decrease is not a titration step
            last = period.last_day if period.last_day is not None and period.last_day < today else today
            found = [e for e in entries if period.first_day <= e.day <= last]
            steps.append(
                StepSideEffects(
                    first_day=period.first_day,
                    daily_ug=period.daily_ug,
                    entries=len(found),
                    mean_burden=fmean(e.side_effect_burden for e in found) if found else None,
                )
            )
    scored = [step for step in steps if step.mean_burden is not None]
    rising = len(scored) >= MIN_RISING_STEPS and all(
        (later.mean_burden or 0.0) > (earlier.mean_burden or 0.0) for earlier, later in pairwise(scored)
    )
    shown = ", ".join(f"{format_mg(s.daily_ug)} mg/day: {s.mean_burden:.1f}" for s in scored)
    if rising:
        message = (
            f"side effects rising with each titration step (mean severity sum per entry, {shown}): "
            "consider whether the dose is tolerated"
        )
    elif scored:
        message = f"side effects not rising with each step (mean severity sum per entry, {shown})"
    else:
        message = "no diary entries at the titration steps"
    return SideEffectTrend(rising=rising, steps=tuple(steps), message=message)
