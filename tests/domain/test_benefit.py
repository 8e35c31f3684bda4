"""The benefit review (baclofen.md section 10, "No benefit after a trial"): worked examples.

The rule, by hand: after 6 weeks (42 days) at a stable dose, compare the mean Penn spasm
frequency and stiffness of the last 14 days with those of the 14 days before titration; an
improvement is a fall of 1 or more (Penn) or 2 or more (stiffness) (product defaults); none:
"no clear benefit after N weeks at D mg/day: consider a slow withdrawal".

The diary used below: a labelled titration [US-TAB] 15 mg/day from 5 Jan 2026 (3 days), 30 from
8 Jan, 45 from 11 Jan, 60 from 14 Jan (stable). Baseline: 22 Dec 2025 - 4 Jan 2026. Six weeks at
60 mg/day: 14 Jan + 41 days = 24 Feb 2026; the current window is then 11-24 Feb.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dosewise.domain.benefit import (
    DosePeriod,
    PlanSpan,
    ScoreEntry,
    build_dose_periods,
    review_benefit,
)
from dosewise.domain.products import parse_product_specs
from dosewise.domain.titration import build_titration

D = date


def titration_periods(*, then: list[tuple[date, int]] = ()) -> list[DosePeriod]:
    """15/30/45/60 mg/day from 5 Jan 2026, then the changes ``then`` (day, mg/day)."""
    changes = [(D(2026, 1, 5), 15), (D(2026, 1, 8), 30), (D(2026, 1, 11), 45), (D(2026, 1, 14), 60), *then]
    periods = []
    for number, (day, daily_mg) in enumerate(changes):
        last = changes[number + 1][0] - timedelta(days=1) if number + 1 < len(changes) else None
        periods.append(DosePeriod(first_day=day, last_day=last, daily_ug=daily_mg * 1000))
    return periods


def entries(first: date, penn: list[int], stiffness: list[int], burden: list[int] | None = None):
    """One entry a day from ``first``."""
    burden = burden or [0] * len(penn)
    return [
        ScoreEntry(day=first + timedelta(days=n), penn_frequency=p, stiffness_nrs=s, side_effect_burden=b)
        for n, (p, s, b) in enumerate(zip(penn, stiffness, burden, strict=True))
    ]


BASELINE = entries(D(2025, 12, 28), [3, 3, 3, 3], [7, 7, 6, 6])  # Penn 3.0, stiffness 6.5
SIX_WEEKS = D(2026, 2, 24)


def test_no_improvement_after_six_weeks_is_flagged_with_the_numbers():
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])  # Penn 2.5 (-0.5), stiffness 6.0 (-0.5)
    review = review_benefit(titration_periods(), BASELINE + current, today=SIX_WEEKS)
    assert review.status == "no_clear_benefit"
    assert review.flagged
    assert review.message.startswith(
        "no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal"
    )
    assert "Penn 0-4) 3.0 before titration, 2.5 now (-0.5)" in review.message
    assert "stiffness (0-10) 6.5 before, 6.0 now (-0.5)" in review.message
    assert review.baseline is not None
    assert (review.baseline.first_day, review.baseline.last_day) == (D(2025, 12, 22), D(2026, 1, 4))
    assert review.current is not None
    assert (review.current.first_day, review.current.last_day) == (D(2026, 2, 11), D(2026, 2, 24))
    assert (review.penn_change, review.stiffness_change) == (-0.5, -0.5)
    assert (review.weeks_stable, review.stable_daily_ug, review.titration_start) == (6, 60000, D(2026, 1, 5))
    assert {"US-TAB", "UK", "DOSEWISE"} <= set(review.sources)
    assert any("product default" in setting for setting in review.settings)


def test_a_fall_of_spasms_and_stiffness_is_benefit():
    current = entries(D(2026, 2, 18), [1, 1, 2, 2], [4, 4, 4, 4])  # Penn 1.5 (-1.5), stiffness 4.0 (-2.5)
    review = review_benefit(titration_periods(), BASELINE + current, today=SIX_WEEKS)
    assert review.status == "benefit"
    assert not review.flagged
    assert review.message.startswith("benefit after 6 weeks at 60 mg/day")
    assert len(review.reasons) == 2


def test_stiffness_down_by_exactly_two_is_benefit():
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [5, 5, 4, 4])  # Penn -0.5, stiffness 4.5 (-2.0)
    review = review_benefit(titration_periods(), BASELINE + current, today=SIX_WEEKS)
    assert review.status == "benefit"
    assert review.reasons == ("stiffness fell by 2.0 (at least 2 counts)",)


def test_entries_before_the_current_window_are_not_the_current_scores():
    # good scores early at 60 mg/day (20-23 Jan) do not count: only 11-24 Feb does
    early = entries(D(2026, 1, 20), [0, 0, 0, 0], [1, 1, 1, 1])
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])
    review = review_benefit(titration_periods(), BASELINE + early + current, today=SIX_WEEKS)
    assert review.status == "no_clear_benefit"
    assert review.current is not None
    assert review.current.entries == 4


def test_one_day_short_of_six_weeks_is_too_early():
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])
    review = review_benefit(titration_periods(), BASELINE + current, today=SIX_WEEKS - timedelta(days=1))
    assert review.status == "too_early"
    assert review.message == "too early: 5 weeks at 60 mg/day; review from 2026-02-24"
    assert review.reasons[0].startswith("41 days at 60 mg/day since 2026-01-14")


def test_a_dose_still_changing_is_too_early():
    periods = titration_periods(then=[(D(2026, 3, 1), 75)])
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])
    review = review_benefit(periods, BASELINE + current, today=SIX_WEEKS)
    assert review.status == "too_early"
    assert review.message == "too early: the dose is not yet stable (60 mg/day until 2026-02-28)"
    assert "changes the dose on 2026-03-01 (to 75 mg/day)" in review.reasons[1]


def test_a_taper_in_progress_is_too_early_and_says_so():
    # 60 mg/day from 14 Jan, then a taper from 24 Feb: 45, 30, 15 mg/day, a week each, stop 17 Mar
    taper = [(D(2026, 2, 24), 45), (D(2026, 3, 3), 30), (D(2026, 3, 10), 15), (D(2026, 3, 17), 0)]
    current = entries(D(2026, 2, 25), [3, 3, 2, 2], [6, 6, 6, 6])
    review = review_benefit(titration_periods(then=taper), BASELINE + current, today=D(2026, 2, 28))
    assert review.status == "too_early"
    assert not review.flagged
    assert review.message == "too early: a taper is in progress (45 mg/day until 2026-03-02)"
    assert review.reasons[1] == (
        "the plan lowers the dose step by step to 0 mg/day on 2026-03-17 (next: 30 mg/day on 2026-03-03): "
        "a taper is in progress"
    )
    # a reduction that stays above 0 is not a taper: the dose is not yet stable
    lower = review_benefit(titration_periods(then=[(D(2026, 3, 1), 45)]), BASELINE + current, today=SIX_WEEKS)
    assert lower.message == "too early: the dose is not yet stable (60 mg/day until 2026-02-28)"


def test_during_titration_is_too_early():
    review = review_benefit(titration_periods(), BASELINE, today=D(2026, 1, 9))
    assert review.status == "too_early"
    assert "30 mg/day" in review.message


def test_too_few_baseline_entries_is_not_enough_data():
    baseline = entries(D(2026, 1, 1), [3, 3], [7, 7])  # 2 entries: 3 are needed
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])
    review = review_benefit(titration_periods(), baseline + current, today=SIX_WEEKS)
    assert review.status == "not_enough_data"
    assert review.reasons == (
        "baseline (before titration): 2 entries from 2025-12-22 to 2026-01-04, at least 3 needed "
        "(product default)",
    )


def test_no_dose_today_is_not_enough_data():
    periods = titration_periods(then=[(D(2026, 2, 1), 0)])
    review = review_benefit(periods, BASELINE, today=SIX_WEEKS)
    assert review.status == "not_enough_data"
    assert "no baclofen dose" in review.message


def test_a_reduction_after_titration_keeps_the_baseline_before_titration():
    # 60 mg/day lowered to 45 on 20 Jan (side effects): stable since 20 Jan; 42 days: 2 Mar
    periods = titration_periods(then=[(D(2026, 1, 20), 45)])
    current = entries(D(2026, 2, 25), [3, 3, 3, 3], [6, 6, 6, 6])  # Penn 0.0, stiffness -0.5
    review = review_benefit(periods, BASELINE + current, today=D(2026, 3, 2))
    assert review.status == "no_clear_benefit"
    assert review.titration_start == D(2026, 1, 5)
    assert review.message.startswith("no clear benefit after 6 weeks at 45 mg/day")


def test_a_rise_from_a_maintenance_dose_has_its_baseline_at_that_dose():
    # 30 mg/day since November, raised to 45 on 5 Jan and 60 on 8 Jan: baseline 22 Dec - 4 Jan
    periods = [
        DosePeriod(first_day=D(2025, 11, 1), last_day=D(2026, 1, 4), daily_ug=30000),
        DosePeriod(first_day=D(2026, 1, 5), last_day=D(2026, 1, 7), daily_ug=45000),
        DosePeriod(first_day=D(2026, 1, 8), last_day=None, daily_ug=60000),
    ]
    early = entries(D(2025, 12, 1), [0, 0, 0], [0, 0, 0])  # before the baseline window: not used
    current = entries(D(2026, 2, 10), [2, 2, 2, 2], [6, 6, 6, 6])
    review = review_benefit(periods, early + BASELINE + current, today=D(2026, 2, 18))  # 8 Jan + 41
    assert review.titration_start == D(2026, 1, 5)
    assert review.status == "benefit"  # Penn 3.0 -> 2.0: a fall of 1.0, the least that counts
    assert review.reasons[0] == "spasm frequency fell by 1.0 (at least 1 counts)"
    assert review.message.startswith("benefit after 6 weeks at 60 mg/day over 30 mg/day")
    assert "were already at 30 mg/day" in review.reasons[1]


def test_side_effects_rising_with_each_step_are_signalled():
    # one entry at each step: severity sums 0 at 15, 1 at 30, 2 at 45, 3 at 60 mg/day
    steps = [
        *entries(D(2026, 1, 6), [3], [7], [0]),
        *entries(D(2026, 1, 9), [3], [7], [1]),
        *entries(D(2026, 1, 12), [3], [7], [2]),
        *entries(D(2026, 1, 15), [3], [7], [3]),
    ]
    review = review_benefit(titration_periods(), BASELINE + steps, today=D(2026, 1, 20))
    assert review.status == "too_early"
    assert review.side_effects is not None
    assert review.side_effects.rising
    assert review.side_effects.message.startswith("side effects rising with each titration step")
    assert "15 mg/day: 0.0, 30 mg/day: 1.0, 45 mg/day: 2.0, 60 mg/day: 3.0" in review.side_effects.message


def test_side_effects_that_fall_at_a_step_are_not_rising():
    steps = [
        *entries(D(2026, 1, 6), [3], [7], [0]),
        *entries(D(2026, 1, 9), [3], [7], [2]),
        *entries(D(2026, 1, 12), [3], [7], [1]),
        *entries(D(2026, 1, 15), [3], [7], [3]),
    ]
    review = review_benefit(titration_periods(), BASELINE + steps, today=D(2026, 1, 20))
    assert review.side_effects is not None
    assert not review.side_effects.rising


def test_two_steps_are_too_few_for_a_rise():
    steps = [*entries(D(2026, 1, 6), [3], [7], [0]), *entries(D(2026, 1, 9), [3], [7], [2])]
    review = review_benefit(titration_periods(), BASELINE + steps, today=D(2026, 1, 20))
    assert review.side_effects is not None
    assert not review.side_effects.rising


@pytest.fixture
def tablets(monograph):
    return parse_product_specs(["tablet:10mg"], monograph)


def test_dose_periods_from_a_labelled_titration(monograph, tablets):
    plan = build_titration(monograph, target_daily_mg=60, products=tablets, start=D(2026, 12, 1))
    periods = build_dose_periods([PlanSpan(plan=plan, first_day=D(2026, 12, 1))])
    # section 2: 15, 30, 45 mg/day for 3 days each, then 60 (open-ended: goes on)
    assert [(p.first_day, p.last_day, p.daily_ug) for p in periods] == [
        (D(2026, 12, 1), D(2026, 12, 3), 15000),
        (D(2026, 12, 4), D(2026, 12, 6), 30000),
        (D(2026, 12, 7), D(2026, 12, 9), 45000),
        (D(2026, 12, 10), None, 60000),
    ]


def test_dose_periods_when_a_plan_takes_over(monograph, tablets):
    first = build_titration(monograph, target_daily_mg=60, products=tablets, start=D(2026, 12, 1))
    second = build_titration(monograph, target_daily_mg=30, products=tablets, start=D(2026, 12, 8))
    periods = build_dose_periods(
        [
            PlanSpan(plan=first, first_day=D(2026, 12, 1), until_day=D(2026, 12, 8)),
            PlanSpan(plan=second, first_day=D(2026, 12, 8)),
        ]
    )
    assert [(p.first_day, p.daily_ug) for p in periods] == [
        (D(2026, 12, 1), 15000),
        (D(2026, 12, 4), 30000),
        (D(2026, 12, 7), 45000),
        (D(2026, 12, 8), 15000),
        (D(2026, 12, 11), 30000),
    ]


def test_a_replaced_plan_ends_in_nothing_only_when_none_follows(monograph, tablets):
    plan = build_titration(monograph, target_daily_mg=30, products=tablets, start=D(2026, 12, 1))
    periods = build_dose_periods([PlanSpan(plan=plan, first_day=D(2026, 12, 1), until_day=D(2026, 12, 10))])
    assert [(p.first_day, p.daily_ug) for p in periods][-1] == (D(2026, 12, 10), 0)


def test_the_list_shows_the_flag_and_rising_side_effects_only():
    current = entries(D(2026, 2, 18), [3, 3, 2, 2], [6, 6, 6, 6])
    flagged = review_benefit(titration_periods(), BASELINE + current, today=SIX_WEEKS)
    assert flagged.list_flags == ("no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal",)
    better = entries(D(2026, 2, 18), [1, 1, 2, 2], [4, 4, 4, 4])
    assert review_benefit(titration_periods(), BASELINE + better, today=SIX_WEEKS).list_flags == ()
    steps = [
        *entries(D(2026, 1, 6), [3], [7], [0]),
        *entries(D(2026, 1, 9), [3], [7], [1]),
        *entries(D(2026, 1, 12), [3], [7], [2]),
    ]
    rising = review_benefit(titration_periods(), BASELINE + steps, today=D(2026, 1, 13))
    assert rising.list_flags == ("side effects rising with each titration step",)


def test_a_plan_replaced_before_its_first_day_does_not_end_the_plan_in_force(monograph, tablets):
    # the plans as stored: A from 1 Dec, superseded on 1 Mar when B was saved to start then; C
    # takes over on 3 Feb, which supersedes B (scheduled, not begun) on 3 Feb
    a = build_titration(monograph, target_daily_mg=60, products=tablets, start=D(2026, 12, 1))
    b = build_titration(monograph, target_daily_mg=30, products=tablets, start=D(2027, 3, 1))
    c = build_titration(monograph, target_daily_mg=30, products=tablets, start=D(2027, 2, 3))
    periods = build_dose_periods(
        [
            PlanSpan(plan=a, first_day=D(2026, 12, 1), until_day=D(2027, 3, 1)),
            PlanSpan(plan=b, first_day=D(2027, 3, 1), until_day=D(2027, 2, 3)),
            PlanSpan(plan=c, first_day=D(2027, 2, 3)),
        ]
    )
    assert [(p.first_day, p.last_day, p.daily_ug) for p in periods][-3:] == [
        (D(2026, 12, 10), D(2027, 2, 2), 60000),
        (D(2027, 2, 3), D(2027, 2, 5), 15000),
        (D(2027, 2, 6), None, 30000),  # C goes on: nothing from 1 Mar
    ]


# A responder to a maintenance dose (baclofen.md gives no rule: Dosewise's reading). Before any
# baclofen (May 2025): Penn 4, stiffness 9; on 30 mg/day from June: Penn 1, stiffness 3; raised to
# 45 on 5 Jan and 60 on 8 Jan 2026, no further change. The baseline (22 Dec - 4 Jan) is at 30
# mg/day; 6 weeks at 60 mg/day on 18 Feb (8 Jan + 41); current window 5-18 Feb.
MAINTENANCE_RISE = [
    DosePeriod(first_day=D(2025, 6, 1), last_day=D(2026, 1, 4), daily_ug=30000),
    DosePeriod(first_day=D(2026, 1, 5), last_day=D(2026, 1, 7), daily_ug=45000),
    DosePeriod(first_day=D(2026, 1, 8), last_day=None, daily_ug=60000),
]


def test_no_change_after_a_rise_from_a_dose_already_taken_is_no_added_benefit_never_a_withdrawal():
    diary = (
        entries(D(2025, 5, 18), [4] * 4, [9] * 4)  # before baclofen: outside the baseline window
        + entries(D(2025, 12, 28), [1] * 4, [3] * 4)  # at 30 mg/day
        + entries(D(2026, 2, 10), [1] * 4, [3] * 4)  # at 60 mg/day: the same
    )
    review = review_benefit(MAINTENANCE_RISE, diary, today=D(2026, 2, 18))
    assert review.status == "no_added_benefit"
    assert review.flagged
    assert review.baseline_doses_ug == (30000,)
    assert review.message.startswith(
        "no added benefit after 6 weeks at 60 mg/day over 30 mg/day: consider returning to the lower dose "
        "[Dosewise's reading, product default DOSEWISE; baclofen.md gives no rule"
    )
    assert "Penn 0-4) 1.0 before titration (at 30 mg/day), 1.0 now (+0.0)" in review.message
    assert review.list_flags == (
        "no added benefit after 6 weeks at 60 mg/day over 30 mg/day: consider returning to the lower dose",
    )
    said = " ".join((review.message, *review.reasons, *review.list_flags, review.rule))
    assert "withdraw" not in said
    # its own rule, with the sources it rests on: no label or UK key for a rule they do not give
    assert "baclofen.md gives no rule for this case" in review.rule
    assert review.sources == ("PSFS", "DOSEWISE")


def test_a_baseline_already_at_the_floor_of_the_scales_raises_no_flag():
    # before titration: Penn 0, stiffness 1 (0.5 mean): neither can fall by 1 / 2
    low = entries(D(2025, 12, 28), [0, 0, 0, 0], [1, 0, 1, 0])
    same = entries(D(2026, 2, 18), [0, 0, 0, 0], [1, 1, 0, 0])
    review = review_benefit(titration_periods(), low + same, today=SIX_WEEKS)
    assert review.status == "not_assessable"
    assert not review.flagged
    assert review.list_flags == ()
    assert review.message.startswith(
        "benefit not assessable after 6 weeks at 60 mg/day: the scores were already low before titration"
    )
    assert review.reasons[0] == (
        "spasm frequency 0.0 and stiffness 0.5 before titration cannot fall by 1 and 2, the least that "
        "counts (product defaults)"
    )


def test_one_scale_that_can_still_fall_keeps_the_review():
    # Penn 0 before titration, but stiffness 5: stiffness could have fallen by 2
    low_spasms = entries(D(2025, 12, 28), [0, 0, 0, 0], [5, 5, 5, 5])
    same = entries(D(2026, 2, 18), [0, 0, 0, 0], [5, 5, 4, 4])
    review = review_benefit(titration_periods(), low_spasms + same, today=SIX_WEEKS)
    assert review.status == "no_clear_benefit"


def test_a_new_titration_after_a_lowering_is_not_assessable():
    # 60 mg/day since June, lowered to 15 on 5 Jan and titrated again: 30 from 8 Jan, 45 from 11 Jan
    # (stable): the baseline (22 Dec - 4 Jan) was at 60 mg/day, more than now
    periods = [
        DosePeriod(first_day=D(2025, 6, 1), last_day=D(2026, 1, 4), daily_ug=60000),
        DosePeriod(first_day=D(2026, 1, 5), last_day=D(2026, 1, 7), daily_ug=15000),
        DosePeriod(first_day=D(2026, 1, 8), last_day=D(2026, 1, 10), daily_ug=30000),
        DosePeriod(first_day=D(2026, 1, 11), last_day=None, daily_ug=45000),
    ]
    diary = entries(D(2025, 12, 28), [2] * 4, [5] * 4) + entries(D(2026, 2, 18), [2] * 4, [5] * 4)
    review = review_benefit(periods, diary, today=D(2026, 2, 21))  # 11 Jan + 41
    assert review.status == "not_assessable"
    assert not review.flagged
    assert review.message.startswith(
        "benefit not assessable after 6 weeks at 45 mg/day: the 2 weeks before titration were at 60 mg/day"
    )
    assert "withdraw" not in " ".join((review.message, *review.reasons))
