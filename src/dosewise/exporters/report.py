"""The report for the prescriber: HTML (Jinja2) and PDF (WeasyPrint) from one template, with
SVG charts (matplotlib) inlined so the HTML is one self-contained file.

The data arrives already gathered (``services.reports``): this module only draws and lays out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from statistics import fmean
from typing import TYPE_CHECKING, Any

from dosewise.domain.adherence import Adherence, Slot, Tally
from dosewise.domain.alternatives import Caution, Comparison
from dosewise.domain.benefit import BenefitReview
from dosewise.domain.guidance import ConditionAdvice
from dosewise.domain.interactions import InteractionReport
from dosewise.domain.plan import Plan
from dosewise.domain.triage import TriageResult
from dosewise.domain.units import format_mg, ug_to_mg
from dosewise.exporters.safety_checks import SafetyCheck, count_levels, describe_serious

if TYPE_CHECKING:
    from jinja2 import Environment

# Layout settings (not clinical figures): a one-year diary stays a handful of pages.
LISTED_DOSES = 40  # a short range lists the doses not taken on time one by one, up to this many
LONG_RANGE_DAYS = 42  # a longer range: counts per week or month, missed and skipped doses by day
MONTHLY_RANGE_DAYS = 120  # longer than this: per month rather than per week; scores as weekly means
LISTED_NOTES = 60  # the most recent notes are listed; earlier ones are counted (all are in the CSV)
LISTED_ROUTINE_CHECKS = 30  # routine safety checks listed (newest first); every urgent one is


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPlan:
    plan_id: int
    kind: str
    created_at: datetime
    superseded_at: datetime | None
    plan: Plan  # the typed plan as it was saved
    times: tuple[time, ...]  # its dose times
    data: dict[str, Any]  # its view (plan_to_dict), with its sources, for the template
    # when its doses began: the moment it took over (older rows: its first dose); None: no dose
    in_force_from: datetime | None = None
    entered_as: str | None = None  # "patient", "clinician" or "unverified" (None: saved before this was kept)
    confirmed_at: datetime | None = None  # a clinician confirmed the plan the patient entered
    reason: str | None = None  # why it was entered (a large rise needs one)
    review_is_default: bool = False  # its review date is the Dosewise default, not the clinician's

    @property
    def never_in_force(self) -> bool:
        """Replaced before its first dose (or it has none)."""
        if self.in_force_from is None:
            return True
        return self.superseded_at is not None and self.superseded_at <= self.in_force_from

    @property
    def stopped_on(self) -> date | None:
        """The day a finished taper stopped the doses (None: it goes on, or was replaced first)."""
        stop = self.plan.stop_date
        if stop is None or (self.superseded_at is not None and self.superseded_at.date() < stop):
            return None
        return stop

    def daily_mg_in_force(self) -> list[float]:
        """The daily doses of its steps while it was in force, in order (repeats merged)."""
        plan = self.plan
        first = self.in_force_from.date() if self.in_force_from is not None else plan.start
        # replaced at 08:00 on a day: that day's doses from then on belong to the next plan
        last = None if self.superseded_at is None else (self.superseded_at - timedelta(minutes=1)).date()
        values: list[float] = []
        for number, step in enumerate(plan.steps, start=1):
            continues = plan.open_ended and number == len(plan.steps)
            if (step.end < first and not continues) or (last is not None and step.start > last):
                continue
            if not values or values[-1] != ug_to_mg(step.daily_ug):
                values.append(ug_to_mg(step.daily_ug))
        return values or [ug_to_mg(step.daily_ug) for step in plan.steps[:1]]

    def describe_doses(self) -> str:
        """``15 → 30 → 45 mg/day``; a taper that finished adds ``, then stopped``."""
        text = " → ".join(f"{value:g}" for value in self.daily_mg_in_force()) + " mg/day"
        return text + (", then stopped" if self.stopped_on is not None else "")

    def describe_entry(self) -> str:
        """Who entered the plan, and whether a clinician confirmed it."""
        if self.entered_as == "clinician":
            return "entered by a clinician"
        if self.entered_as == "unverified":
            if self.confirmed_at is not None:
                return (
                    "entered by a clinician not verified then, confirmed by a verified clinician on "
                    f"{self.confirmed_at:%Y-%m-%d}"
                )
            return (
                "entered by a clinician whose account was not verified, not confirmed by a verified clinician"
            )
        if self.entered_as == "patient":
            if self.confirmed_at is not None:
                return f"entered by the patient, confirmed by the clinician on {self.confirmed_at:%Y-%m-%d}"
            return "entered by the patient, not confirmed by a clinician"
        return f"saved {self.created_at:%Y-%m-%d} (who entered it was not recorded then)"

    def describe_dates(self) -> str:
        """When it was in force, never contradictory: the save date is never called a start."""
        if self.never_in_force:
            when = f"saved {self.created_at:%Y-%m-%d %H:%M}"
            if self.superseded_at is not None:
                return f"{when}, replaced before its first dose ({self.superseded_at:%Y-%m-%d %H:%M})"
            return f"{when}, no dose planned"
        assert self.in_force_from is not None
        start = f"{self.in_force_from:%Y-%m-%d %H:%M}"
        if self.superseded_at is not None:
            return f"{start} to {self.superseded_at:%Y-%m-%d %H:%M}"
        if self.stopped_on is not None:
            return f"{start} to the stop on {self.stopped_on:%Y-%m-%d}"
        return f"since {start}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSymptoms:
    entry_id: int
    at: datetime
    penn_frequency: int
    penn_severity: int | None
    spasticity: int
    side_effects: tuple[tuple[str, int], ...]  # (label, severity 1-3)
    note: str
    triage: TriageResult | None  # of the side effects, with the context of that moment


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportNote:
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReview:
    """A review request of the period: asked when, by whom, why; answered (or withdrawn) when
    and how. Long messages are shortened (the diary and the CSV export keep them whole)."""

    asked_at: datetime
    asked_by: str
    reason: str
    message: str  # shortened (the whole message is in the diary and the CSV export)
    state: str  # open, answered, withdrawn
    outcome: str  # "open", "changed the plan: ...", "answered: ...", "withdrawn ..."
    closed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSeries:
    """Estimated plasma levels of a typical patient from the doses recorded as taken."""

    times: tuple[datetime, ...]
    mg_l: tuple[float, ...]
    crcl_ml_min: float | None
    sources: tuple[str, ...]
    crcl_shown: str | None = None  # as people read it: within its band (domain.kidney.format_crcl)


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeSummary:
    """A range longer than two years (issue 15): everything before its last 12 months, by month
    (the report then shows the last 12 months in detail), so a ten-year diary is read a few
    months at a time and the report stays a handful of pages."""

    first_day: date  # the first day summarized (the diary's first day when the range began earlier)
    last_day: date  # the day before the detailed part
    months: tuple[PeriodRow, ...]
    points: tuple[DailyPoint, ...]  # per month, dated the 15th: mean mg/day planned and taken, mean scores

    @property
    def total(self) -> Tally:
        return _add_tallies([row.tally for row in self.months])

    @property
    def entries(self) -> int:
        return sum(row.entries for row in self.months)


RECORD_TOPICS = ("kidney", "liver", "pregnancy", "medicine")  # the cautions the record brings, a row each
# "with the baclofen you take" is said once for all treatments (ReportAlternatives.with_baclofen):
# the same for every patient on baclofen, a line each would double the section's length


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportAlternatives:
    """Other treatments compared from the record at the time of the report (issue 16): the
    label's wording, levels and the source keys of alternatives.md, never a proposal to switch."""

    comparison: Comparison
    # (key, citation) cited: alternatives.md's, and the baclofen monograph's ("with the baclofen")
    sources: tuple[tuple[str, str], ...]
    unrecognised_medicines: tuple[str, ...]  # medicines of the record not recognised: not considered
    medicines: tuple[str, ...]  # the medicines considered, as read ("Cipro (ciprofloxacin)")
    liver_label: str  # About me's answer, as people read it
    disclaimer: str

    def record_cautions(self, cautions: Sequence[Caution]) -> list[Caution]:
        """The cautions this record brings (kidney, liver, pregnancy, medicines, the baclofen
        taken); the ones shown to everyone (boxed warnings, withdrawal) are in the API and
        ``dosewise compare``, and the labelled use is said with each treatment."""
        return [c for c in cautions if c.topic in RECORD_TOPICS and not _pregnancy_not_covered(c)]

    def by_category(self) -> list[tuple[str, list[tuple[str, tuple[str, ...]]]]]:
        """What each treatment is labelled for, grouped: (category words, [(name, its keys)])."""
        groups: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for item in self.comparison.drugs:
            drug = item.drug
            groups.setdefault(CATEGORY_WORDS[drug.category], []).append(
                (drug.name, drug.labelled_for.sources)
            )
        return list(groups.items())

    def with_baclofen(self) -> list[tuple[str, list[tuple[tuple[str, ...], list[str]]]]]:
        """The baclofen interaction table's grade for each treatment, grouped: [(level, [(source
        keys, [names])])], most serious level first, in the reference's order within."""
        levels: dict[str, dict[tuple[str, ...], list[str]]] = {}
        for item in self.comparison.drugs:
            for caution in item.cautions:
                if caution.topic == "baclofen":
                    by_sources = levels.setdefault(caution.level, {})
                    by_sources.setdefault(caution.sources, []).append(item.drug.name)
        order = ("contraindicated", "warning", "caution", "info")
        return [(level, list(levels[level].items())) for level in order if level in levels]

    @property
    def nothing_for(self) -> list[str]:
        """The treatments this record brings nothing for (no row in the table)."""
        return [item.drug.name for item in self.comparison.drugs if not self.record_cautions(item.cautions)]

    @property
    def pregnancy_not_covered(self) -> list[str]:
        """The treatments the reference has no pregnancy information for, when the patient is
        pregnant (said once for all of them rather than once per treatment)."""
        return [
            item.drug.name
            for item in self.comparison.drugs
            if any(map(_pregnancy_not_covered, item.cautions))
        ]

    def cited(self) -> list[tuple[str, str]]:
        """(key, citation) of what the section shows, first mention first."""
        keys: dict[str, None] = {}
        for item in self.comparison.drugs:
            drug = item.drug
            for fact in (drug.labelled_for, drug.start, drug.max_daily):
                keys.update(dict.fromkeys(fact.sources))
            for caution in self.record_cautions(item.cautions):
                keys.update(dict.fromkeys(caution.sources))
        for _, groups in self.with_baclofen():
            for sources, _names in groups:
                keys.update(dict.fromkeys(sources))
        citations = dict(self.sources)
        return [(key, citations[key]) for key in keys if key in citations]


def _pregnancy_not_covered(caution: Caution) -> bool:
    return caution.topic == "pregnancy" and not caution.sources and caution.unconfirmed


CATEGORY_WORDS = {
    "spasticity": "labelled for spasticity",
    "spasticity_and_msk_spasm": "labelled for spasticity and local muscle spasm",
    "off_label_spasticity": "not labelled for spasticity (off-label use)",
    "short_term_msk_spasm": "not labelled for spasticity: acute muscle spasm only, 2-3 weeks",
}  # the table "Short-term MSK spasm only vs spasticity" of alternatives.md


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    patient_name: str
    time_zone: str
    first_day: date
    last_day: date
    generated_at: datetime
    plans: tuple[ReportPlan, ...]
    slots: tuple[Slot, ...]
    adherence: Adherence
    symptoms: tuple[ReportSymptoms, ...]
    notes: tuple[ReportNote, ...]
    medicines: tuple[str, ...]
    interactions: InteractionReport | None
    levels: LevelSeries | None
    sources: tuple[tuple[str, str], ...]  # (key, citation)
    disclaimer: str
    # the doses the report lists and counts: one per due time (``slots`` may hold two when a
    # replaced plan's dose was recorded after the next plan took over), and the ids of the
    # slots of the plan in force at their time (the dose planned then, never two plans added)
    doses: tuple[Slot, ...] = ()
    in_force: frozenset[int] = frozenset()
    settings: tuple[str, ...] = field(default=())  # Dosewise defaults used, said in the report
    # the advice for the patient's conditions (About me: pregnant, breastfeeding, epilepsy) and
    # the sources it cites, as (key, citation)
    conditions: tuple[ConditionAdvice, ...] = ()
    condition_sources: tuple[tuple[str, str], ...] = ()
    # the triage results stored in the period ("safety checks"), newest first, as given then
    safety_checks: tuple[SafetyCheck, ...] = ()
    # supply and refills (issue 14): the supply view now (stock, forecast, the refill log of the
    # period; services.supply.supply_view); None when no stock was ever recorded
    supply: dict[str, Any] | None = None
    # review requests asked, answered or withdrawn in the period, oldest first
    reviews: tuple[ReportReview, ...] = ()
    # a range longer than two years: its months before the last 12 (first_day is then the first
    # day of the detailed part, and summary.first_day the first day of the whole range)
    summary: RangeSummary | None = None
    # the benefit review at the time of the report (baclofen.md section 10; issue 16): None when
    # not gathered. Always of "now", whatever the range: it is about the dose in force.
    benefit: BenefitReview | None = None
    # other treatments compared from the record now (issue 16); None when not gathered
    alternatives: ReportAlternatives | None = None

    @property
    def range_total(self) -> Tally:
        """The doses of the whole range (a summarized one: its months and its last 12 months)."""
        if self.summary is None:
            return self.adherence.total
        return _add_tallies([self.summary.total, self.adherence.total])

    @property
    def range_entries(self) -> int:
        return len(self.symptoms) + (self.summary.entries if self.summary is not None else 0)

    @property
    def range_days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def long_range(self) -> bool:
        return self.range_days > LONG_RANGE_DAYS

    @property
    def current_plan(self) -> ReportPlan | None:
        """The plan in force at the end of the range (the last one that had doses)."""
        in_force = [plan for plan in self.plans if not plan.never_in_force]
        return in_force[-1] if in_force else (self.plans[-1] if self.plans else None)

    @property
    def earlier_plans(self) -> tuple[ReportPlan, ...]:
        current = self.current_plan
        return tuple(plan for plan in self.plans if plan is not current)


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyPoint:
    day: date
    planned_mg: float
    taken_mg: float
    penn_frequency: float | None  # mean of the day's entries
    spasticity: float | None


def daily_series(data: ReportData) -> list[DailyPoint]:
    """Per day of the range: the dose planned (the slots of the plan in force at each dose
    time, never a replaced plan's added to it) and taken, and mean symptom scores."""
    planned: dict[date, int] = {}
    taken: dict[date, int] = {}
    for slot in data.slots:
        if slot.slot_id in data.in_force:
            day = slot.due_at.date()
            planned[day] = planned.get(day, 0) + slot.dose_ug
    for slot in data.doses:
        if slot.state in ("on_time", "late"):
            day = slot.due_at.date()
            taken[day] = taken.get(day, 0) + slot.dose_ug
    penn: dict[date, list[int]] = {}
    nrs: dict[date, list[int]] = {}
    for entry in data.symptoms:
        penn.setdefault(entry.at.date(), []).append(entry.penn_frequency)
        nrs.setdefault(entry.at.date(), []).append(entry.spasticity)
    days = sorted({*planned, *taken, *penn})
    return [
        DailyPoint(
            day=day,
            planned_mg=planned.get(day, 0) / 1000,
            taken_mg=taken.get(day, 0) / 1000,
            penn_frequency=fmean(penn[day]) if day in penn else None,
            spasticity=fmean(nrs[day]) if day in nrs else None,
        )
        for day in days
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodRow:
    """One week or month of a long range: what was planned, what became of it, the scores."""

    label: str
    planned_mg: tuple[float, float] | None  # lowest and highest daily dose planned (None: none)
    tally: Tally
    penn_frequency: float | None  # mean of the period's entries
    spasticity: float | None
    entries: int


def period_of(day: date, monthly: bool) -> date:
    """The first day of the week (Monday) or month ``day`` is in."""
    return day.replace(day=1) if monthly else day - timedelta(days=day.weekday())


def period_rows(data: ReportData, points: Sequence[DailyPoint]) -> list[PeriodRow]:
    """The range per month (longer than :data:`MONTHLY_RANGE_DAYS`) or per week."""
    monthly = data.range_days > MONTHLY_RANGE_DAYS
    planned: dict[date, list[float]] = {}
    for point in points:
        if point.planned_mg:
            planned.setdefault(period_of(point.day, monthly), []).append(point.planned_mg)
    tallies: dict[date, list[Tally]] = {}
    for day, tally in data.adherence.by_day:
        tallies.setdefault(period_of(day, monthly), []).append(tally)
    scores: dict[date, list[ReportSymptoms]] = {}
    for entry in data.symptoms:
        scores.setdefault(period_of(entry.at.date(), monthly), []).append(entry)
    rows = []
    for start in sorted({*planned, *tallies, *scores}):
        entries = scores.get(start, [])
        doses = planned.get(start)
        if monthly:
            label = f"{start:%b %Y}"
        else:
            ends = min(start + timedelta(days=6), data.last_day)
            label = f"{max(start, data.first_day):%Y-%m-%d} to {ends:%m-%d}"
        rows.append(
            PeriodRow(
                label=label,
                planned_mg=(min(doses), max(doses)) if doses else None,
                tally=_add_tallies(tallies.get(start, [])),
                penn_frequency=fmean(e.penn_frequency for e in entries) if entries else None,
                spasticity=fmean(e.spasticity for e in entries) if entries else None,
                entries=len(entries),
            )
        )
    return rows


def _add_tallies(tallies: Sequence[Tally]) -> Tally:
    return Tally(
        planned=sum(t.planned for t in tallies),
        on_time=sum(t.on_time for t in tallies),
        late=sum(t.late for t in tallies),
        skipped=sum(t.skipped for t in tallies),
        missed=sum(t.missed for t in tallies),
        pending=sum(t.pending for t in tallies),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthOfMisses:
    """The doses missed and skipped in one month, grouped by day: ``3 (14:00), 9 (08:00, 20:00)``."""

    label: str
    missed: str
    skipped: str
    missed_count: int
    skipped_count: int


def not_taken_by_month(doses: Sequence[Slot]) -> list[MonthOfMisses]:
    by_month: dict[date, dict[str, dict[int, list[str]]]] = {}
    for slot in doses:
        if slot.state in ("missed", "skipped"):
            days = by_month.setdefault(slot.due_at.date().replace(day=1), {"missed": {}, "skipped": {}})
            days[slot.state].setdefault(slot.due_at.day, []).append(f"{slot.due_at:%H:%M}")

    def listed(days: dict[int, list[str]]) -> str:
        return "; ".join(f"{day} ({', '.join(times)})" for day, times in sorted(days.items())) or "none"

    return [
        MonthOfMisses(
            label=f"{month:%B %Y}",
            missed=listed(found["missed"]),
            skipped=listed(found["skipped"]),
            missed_count=sum(len(t) for t in found["missed"].values()),
            skipped_count=sum(len(t) for t in found["skipped"].values()),
        )
        for month, found in sorted(by_month.items())
    ]


def weekly_means(points: Sequence[DailyPoint]) -> list[DailyPoint]:
    """The scores as weekly means (dated mid-week), for the chart of a long range."""
    weeks: dict[date, list[DailyPoint]] = {}
    for point in points:
        if point.spasticity is not None:
            weeks.setdefault(period_of(point.day, False), []).append(point)
    return [
        DailyPoint(
            day=monday + timedelta(days=3),
            planned_mg=0,
            taken_mg=0,
            penn_frequency=fmean(p.penn_frequency for p in week if p.penn_frequency is not None),
            spasticity=fmean(p.spasticity for p in week if p.spasticity is not None),
        )
        for monday, week in sorted(weeks.items())
    ]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # real text: smaller, searchable, readable aloud
    matplotlib.rcParams["svg.hashsalt"] = "dosewise"  # stable ids: the same data, the same file
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    from matplotlib import pyplot

    return pyplot


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def symptom_chart_svg(
    points: Sequence[DailyPoint], title: str, *, weekly_scores: bool = False, monthly: bool = False
) -> str | None:
    """Spasm frequency and spasticity (left axis) against the daily dose taken (right axis);
    ``weekly_scores``: the scores as weekly means (a long range); ``monthly``: one point a month
    (a summarized range: mean mg/day and mean scores of the month)."""
    if not points:
        return None
    pyplot = _pyplot()
    days = [point.day for point in points]
    figure, scores = pyplot.subplots(figsize=(7.2, 3.4), dpi=100)
    try:
        doses = scores.twinx()
        taken = "dose taken (mg/day, month's mean)" if monthly else "dose taken (mg/day)"
        doses.bar(days, [p.taken_mg for p in points], width=27 if monthly else 0.9, color="#c6dbef",
                  label=taken)  # fmt: skip
        doses.step(days, [p.planned_mg for p in points], where="mid", color="#08519c", linewidth=1.2,
                   label="dose planned (mg/day)")  # fmt: skip
        doses.set_ylabel("baclofen (mg/day)")
        highest = max(*(p.planned_mg for p in points), *(p.taken_mg for p in points), 1)
        doses.set_ylim(0, highest * 1.3)  # room for the legend above the bars
        scored = weekly_means(points) if weekly_scores else [p for p in points if p.spasticity is not None]
        mean = "week's mean" if weekly_scores else ("month's mean" if monthly else "day's mean")
        marker = 1.5 if weekly_scores else 2.5
        scores.plot([p.day for p in scored], [p.spasticity for p in scored], color="#a50f15", marker="o",
                    markersize=marker, linewidth=1.2, label=f"spasticity 0-10 ({mean})")  # fmt: skip
        scores.plot([p.day for p in scored], [p.penn_frequency for p in scored], color="#31a354", marker="s",
                    markersize=marker, linewidth=1.2, label=f"Penn spasm frequency 0-4 ({mean})")  # fmt: skip
        return _finish_scores_chart(figure, scores, doses, title, top=13, legend_columns=2)
    finally:
        pyplot.close(figure)


def _finish_scores_chart(
    figure: Any, scores: Any, doses: Any, title: str, *, top: float, legend_columns: int
) -> str:
    """The scores' axis (0-10 ticks, room above up to ``top`` for the legend) drawn over the
    doses' twin axis, one legend for both, the title and the date axis: the SVG."""
    scores.set_ylim(0, top)
    scores.set_yticks(range(0, 11, 2))
    scores.set_ylabel("score")
    scores.set_zorder(doses.get_zorder() + 1)
    scores.patch.set_visible(False)
    handles = [*scores.get_legend_handles_labels()[0], *doses.get_legend_handles_labels()[0]]
    labels = [*scores.get_legend_handles_labels()[1], *doses.get_legend_handles_labels()[1]]
    scores.legend(handles, labels, loc="upper left", fontsize=7, ncol=legend_columns, framealpha=0.9)
    scores.set_title(title, fontsize=10)
    scores.grid(alpha=0.3)
    _date_axis(scores, None)
    figure.tight_layout()
    return _svg(figure)


def _date_axis(axes: Any, zone: Any) -> None:
    """Dates on the x axis in the patient's zone (matplotlib would show UTC)."""
    from matplotlib import dates

    locator = dates.AutoDateLocator(tz=zone, maxticks=10)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=zone))  # type: ignore[no-untyped-call]


def benefit_chart_svg(review: BenefitReview, title: str) -> str | None:
    """The review's comparison: the daily dose the plans gave (right axis, a step line) from the
    baseline's first day to the review, and the mean scores of the baseline and of the current
    window (left axis, a segment over each window), so the change is read against the dose;
    None without baseline scores."""
    if review.baseline is None or not review.baseline.entries or review.stable_since is None:
        return None  # nothing to compare (the symptoms chart already draws the dose)
    first = review.baseline.first_day
    last = review.today
    points: list[tuple[date, float]] = []
    for period in review.periods:
        if (period.last_day is not None and period.last_day < first) or period.first_day > last:
            continue
        points.append((max(first, period.first_day), ug_to_mg(period.daily_ug)))
    if not points:
        return None
    points.append((last + timedelta(days=1), points[-1][1]))
    pyplot = _pyplot()
    figure, scores = pyplot.subplots(figsize=(7.2, 3.0), dpi=100)
    try:
        doses = scores.twinx()
        doses.step([p[0] for p in points], [p[1] for p in points], where="post", color="#08519c",
                   linewidth=1.2, label="dose planned (mg/day)")  # fmt: skip
        doses.set_ylabel("baclofen (mg/day)")
        doses.set_ylim(0, max(1.0, *(p[1] for p in points)) * 1.45)  # the legend's row above the line
        windows = [w for w in (review.baseline, review.current) if w is not None and w.entries]
        for number, window in enumerate(windows):
            span = [window.first_day, window.last_day + timedelta(days=1)]
            scores.plot(span, [window.stiffness_nrs] * 2, color="#a50f15", linewidth=3,
                        label="stiffness 0-10 (mean)" if number == 0 else None)  # fmt: skip
            scores.plot(span, [window.penn_frequency] * 2, color="#31a354", linewidth=3, linestyle="--",
                        label="Penn spasm frequency 0-4 (mean)" if number == 0 else None)  # fmt: skip
        return _finish_scores_chart(figure, scores, doses, title, top=14, legend_columns=3)
    finally:
        pyplot.close(figure)


def levels_chart_svg(levels: LevelSeries, title: str) -> str:
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(7.2, 3.0), dpi=100)
    try:
        axes.plot(levels.times, levels.mg_l, color="#08306b", linewidth=0.9, label="estimated level")
        axes.set_ylabel("baclofen in plasma (mg/L)")
        axes.set_ylim(bottom=0)
        axes.set_title(title, fontsize=10)
        axes.grid(alpha=0.3)
        _date_axis(axes, levels.times[0].tzinfo)
        figure.tight_layout()
        return _svg(figure)
    finally:
        pyplot.close(figure)


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=PackageLoader("dosewise.exporters", "templates"),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["mg"] = lambda ug: format_mg(int(ug))
    environment.filters["css_string"] = _css_string
    environment.filters["num"] = lambda value: f"{value:g}"
    environment.filters["pct"] = lambda share: "-" if share is None else f"{share * 100:.0f}%"
    return environment


def _css_string(text: str) -> Any:
    """A CSS string literal: every character that is not a plain letter, digit or space is a hex
    escape, so nothing in it can end the string or the ``<style>`` element."""
    from markupsafe import Markup

    body = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{body}"')  # noqa: S704 (escaped above)


def render_report_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (charts inline)."""
    from markupsafe import Markup

    points = daily_series(data)
    weekly = data.range_days > MONTHLY_RANGE_DAYS
    symptom_svg = symptom_chart_svg(points, "Symptoms against the daily dose", weekly_scores=weekly)
    levels_svg = (
        levels_chart_svg(data.levels, "Estimated plasma level from the doses recorded as taken")
        if data.levels is not None
        else None
    )
    problems = [slot for slot in data.doses if slot.state in ("missed", "late", "skipped")]
    side_effects: dict[str, list[ReportSymptoms]] = {}
    for entry in data.symptoms:
        for label, _severity in entry.side_effects:
            side_effects.setdefault(label, []).append(entry)
    triage_events = [
        entry for entry in data.symptoms if entry.triage is not None and entry.triage.level != "routine"
    ]
    notes = sorted(
        [(note.at, note.text, False) for note in data.notes]
        + [(entry.at, entry.note, True) for entry in data.symptoms if entry.note],
        key=lambda item: item[0],
    )
    scored = data.symptoms
    # "How do I feel?" results: a diary entry's result is in the Triage events box, with its entry
    asked = [check for check in data.safety_checks if check.symptom_entry_id is None]
    serious_checks = [check for check in asked if check.serious]
    routine_checks = [check for check in asked if not check.serious]
    summary_svg = (
        symptom_chart_svg(data.summary.points, "By month: mean daily dose and mean scores", monthly=True)
        if data.summary is not None
        else None
    )
    benefit_svg = (
        benefit_chart_svg(data.benefit, "Benefit review: scores before titration and now, against the dose")
        if data.benefit is not None
        else None
    )
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            benefit=data.benefit,
            benefit_svg=Markup(benefit_svg) if benefit_svg else None,  # noqa: S704 (matplotlib's own SVG)
            summary=data.summary,
            summary_svg=Markup(summary_svg) if summary_svg else None,  # noqa: S704 (matplotlib's own SVG)
            range_first=data.summary.first_day if data.summary is not None else data.first_day,
            current=data.current_plan,
            earlier=data.earlier_plans,
            symptom_svg=Markup(symptom_svg) if symptom_svg else None,  # noqa: S704 (matplotlib's own SVG)
            levels_svg=Markup(levels_svg) if levels_svg else None,  # noqa: S704
            long_range=data.long_range,
            periods=period_rows(data, points) if data.long_range else [],
            monthly=data.range_days > MONTHLY_RANGE_DAYS,
            weekly_scores=weekly,
            problems=problems[:LISTED_DOSES],
            more_problems=max(0, len(problems) - LISTED_DOSES),
            not_taken=not_taken_by_month(data.doses) if data.long_range else [],
            side_effects=sorted(side_effects.items(), key=lambda item: (-len(item[1]), item[0])),
            triage_events=sorted(
                triage_events, key=lambda e: (e.triage.level != "emergency" if e.triage else True, e.at)
            ),
            mean_penn=fmean(e.penn_frequency for e in scored) if scored else None,
            mean_spasticity=fmean(e.spasticity for e in scored) if scored else None,
            notes=notes[-LISTED_NOTES:],
            earlier_notes=max(0, len(notes) - LISTED_NOTES),
            state_words={"missed": "missed", "late": "taken late", "skipped": "skipped"},
            serious_checks=serious_checks,  # newest first, as gathered
            routine_checks=routine_checks[:LISTED_ROUTINE_CHECKS],
            more_routine_checks=max(0, len(routine_checks) - LISTED_ROUTINE_CHECKS),
            asked_checks=asked,
            check_counts=count_levels(asked),
            serious_summary=describe_serious(asked),
        )
    )


def render_report_pdf(data: ReportData, html: str | None = None) -> bytes:
    """The same report as PDF (WeasyPrint), A4, page numbers in the footer."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = HTML(string=html or render_report_html(data)).write_pdf()
    if pdf is None:  # pragma: no cover - only None when a target file is given
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
