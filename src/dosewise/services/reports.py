"""Gather what the prescriber's report shows, for one patient and a date range."""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, exists, func, or_, select
from sqlalchemy.orm import Session

from dosewise.domain.adherence import Slot, Tally, summarize_adherence
from dosewise.domain.interactions import InteractionReport
from dosewise.domain.kidney import format_crcl
from dosewise.domain.monograph import Monograph, cite_sources
from dosewise.domain.plan import Plan
from dosewise.domain.triage import TriageLevel, TriageResult, triage
from dosewise.errors import InputError
from dosewise.exporters.report import (
    LONG_RANGE_DAYS,
    DailyPoint,
    LevelSeries,
    PeriodRow,
    RangeSummary,
    ReportAlternatives,
    ReportData,
    ReportNote,
    ReportPlan,
    ReportReview,
    ReportSymptoms,
)
from dosewise.exporters.safety_checks import SafetyCheck
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services.clock import to_utc
from dosewise.services.doses import MAX_RANGE_DAYS, ON_TIME_WINDOW, day_bounds, load_slots
from dosewise.services.medicines import check_medicines
from dosewise.services.patients import drug_of, patient_guidance, patient_zone
from dosewise.services.plans import TOP_UP_WHEN, keep_slots_ahead, review_is_default, stored_plan
from dosewise.services.safety_checks import load_safety_checks
from dosewise.store.database import read_only
from dosewise.store.models import (
    DoseSlotRow,
    MedicineRow,
    NoteRow,
    PatientRow,
    PlanRow,
    SymptomEntryRow,
    TriageResultRow,
)

# Product defaults (settings, not clinical figures), issue 15:
REPORT_DEFAULT_DAYS = 365  # the report shows the last 12 months unless another range is asked for
SUMMARIZED_AFTER_DAYS = MAX_RANGE_DAYS  # a longer range is summarized by month before its last...
DETAIL_DAYS = 365  # ...12 months, which are shown in detail
SUMMARY_CHUNK_MONTHS = 6  # a summarized range is read this many months at a time (bounded memory)
MAX_LEVEL_POINTS = 2000  # the level chart is drawn from at most this many points
LEVEL_DAYS = 28  # a long range draws the estimated levels of its last four weeks (readable on paper)


def gather_report(
    engine: Engine,
    *,
    patient_id: int,
    first_day: date,
    last_day: date,
    now: datetime,
    levels: bool = True,
) -> ReportData:
    """Everything the report shows for ``first_day``-``last_day``: any range, up to the whole
    diary; a range longer than two years (:data:`SUMMARIZED_AFTER_DAYS`) has its months before
    the last 12 summarized by month (:func:`summarize_months`) and the last 12 in detail."""
    if last_day < first_day:
        raise InputError(f"the range ends ({last_day}) before it starts ({first_day})", field="last")
    summary = None
    if (last_day - first_day).days + 1 > SUMMARIZED_AFTER_DAYS:
        detail_first = last_day - timedelta(days=DETAIL_DAYS - 1)
        summary = summarize_months(
            engine,
            patient_id=patient_id,
            first_day=first_day,
            last_day=detail_first - timedelta(days=1),
            now=now,
        )
        first_day = detail_first
    _keep_doses_ahead(engine, patient_id, now)
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        monograph = load_monograph(drug_of(session, patient_id))
        patient = session.get(PatientRow, patient_id)
        assert patient is not None
        start, _ = day_bounds(first_day, zone)
        _, end = day_bounds(last_day, zone)
        slots = load_slots(session, patient_id, start, end, zone, now)
        plan_rows = plans_in_force(session, patient_id, start, end)
        first_doses = plan_first_doses(session, plan_rows)
        legacy = [row.id for row in plan_rows if row.takes_over_at is None]
        entries = session.scalars(
            select(SymptomEntryRow)
            .where(
                SymptomEntryRow.patient_id == patient_id,
                SymptomEntryRow.recorded_at >= start,
                SymptomEntryRow.recorded_at < end,
            )
            .order_by(SymptomEntryRow.recorded_at, SymptomEntryRow.id)
        ).all()
        note_rows = session.scalars(
            select(NoteRow)
            .where(NoteRow.patient_id == patient_id, NoteRow.recorded_at >= start, NoteRow.recorded_at < end)
            .order_by(NoteRow.recorded_at, NoteRow.id)
        ).all()
        medicines = tuple(
            session.scalars(
                select(MedicineRow.name)
                .where(MedicineRow.patient_id == patient_id, MedicineRow.stopped_at.is_(None))
                .order_by(MedicineRow.id)
            )
        )
        checks = load_safety_checks(session, patient_id, since=start, before=end)
        reviews = _reviews(session, patient_id, start, end)
        patient_name, time_zone = patient.name, patient.time_zone
        flags = {
            "pregnant": patient.pregnant,
            "breastfeeding": patient.breastfeeding,
            "epilepsy": patient.epilepsy,
        }
    # every kept result (the exports); a diary entry's is also shown with the entry, as told then
    safety_checks = tuple(checks)
    told = {check.symptom_entry_id: check for check in checks if check.symptom_entry_id is not None}

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(zone)

    plans = report_plans(plan_rows, first_doses, zone)
    in_force, doses = _doses_in_force(slots, plans, set(legacy))
    crcl = _latest_crcl(plans)
    missed_dues = [slot.due_at for slot in doses if slot.state in ("missed", "skipped")]  # in due order
    symptoms = tuple(
        ReportSymptoms(
            entry_id=entry.id,
            at=local(entry.recorded_at),
            penn_frequency=entry.penn_frequency,
            penn_severity=entry.penn_severity,
            spasticity=entry.spasticity_nrs,
            side_effects=_side_effects(entry.side_effects, monograph),
            note=entry.note,
            triage=_as_told(told[entry.id])
            if entry.id in told
            else triage_entry(entry, missed_dues, crcl, monograph),
        )
        for entry in entries
    )
    interactions = check_medicines(medicines, crcl)
    long_range = (last_day - first_day).days + 1 > LONG_RANGE_DAYS
    level_series = (
        _levels(doses, crcl, start, monograph, window_days=LEVEL_DAYS if long_range else None)
        if levels
        else None
    )
    supply = _supply(engine, patient_id, now, first_day, last_day)
    keys = _source_keys(plans, symptoms, interactions, level_series, safety_checks)
    if supply is not None:
        keys = list(dict.fromkeys([*keys, *supply["sources"]]))
    from dosewise.services.benefit import review_patient_benefit

    benefit = review_patient_benefit(engine, patient_id=patient_id, now=now)
    keys = list(dict.fromkeys([*keys, *benefit.sources]))
    alternatives = _alternatives(engine, patient_id, now)
    guidance = patient_guidance()
    conditions = guidance.advice_for(**{name: bool(value) for name, value in flags.items()})
    return ReportData(
        patient_name=patient_name,
        time_zone=time_zone,
        first_day=first_day,
        last_day=last_day,
        generated_at=now.astimezone(zone),
        plans=plans,
        slots=tuple(slots),
        doses=tuple(doses),
        in_force=frozenset(in_force),
        adherence=summarize_adherence(
            doses, first_day, last_day, on_time_window_h=ON_TIME_WINDOW.total_seconds() / 3600
        ),
        symptoms=symptoms,
        notes=tuple(ReportNote(at=local(n.recorded_at), author=n.author, text=n.text) for n in note_rows),
        medicines=medicines,
        interactions=interactions,
        levels=level_series,
        sources=tuple((key, monograph.sources[key]) for key in keys if key in monograph.sources),
        disclaimer=monograph.disclaimer,
        conditions=conditions,
        condition_sources=tuple(
            (key, source.citation)
            for key, source in guidance.cited(
                key for item in conditions for s in item.statements for key in s.keys
            )
        ),
        settings=(
            f"a dose taken more than {ON_TIME_WINDOW.total_seconds() / 3600:g} h after its time is 'late'",
            f"missed-dose window {monograph.missed_dose.window_h:g} h (a setting) [NHS]",
        ),
        safety_checks=safety_checks,
        supply=supply,
        reviews=reviews,
        summary=summary,
        benefit=benefit,
        alternatives=alternatives,
    )


def _alternatives(engine: Engine, patient_id: int, now: datetime) -> ReportAlternatives:
    """Other treatments compared from the record now (About me's liver answer, never a "what
    if"), with the alternatives.md sources the section cites."""
    from dosewise.services.alternatives import compare_for_patient
    from dosewise.services.patients import LIVER_LABELS

    result = compare_for_patient(engine, patient_id=patient_id, now=now)
    comparison, reference = result.comparison, result.reference
    return ReportAlternatives(
        comparison=comparison,
        sources=tuple((key, comparison.citations[key]) for key in comparison.source_keys),
        unrecognised_medicines=result.unrecognised_medicines,
        medicines=tuple(match.display for match in result.medicines),
        liver_label=dict(LIVER_LABELS).get(comparison.situation.liver, comparison.situation.liver),
        disclaimer=reference.disclaimer,
    )


def plan_first_doses(session: Any, plan_rows: Sequence[PlanRow]) -> dict[int, datetime]:
    """Rows older than migration 0008 have no takeover moment: their first dose stands for it
    (plan id -> first due time, for those rows only)."""
    legacy = [row.id for row in plan_rows if row.takes_over_at is None]
    if not legacy:
        return {}
    found = session.execute(
        select(DoseSlotRow.plan_id, func.min(DoseSlotRow.due_at))
        .where(DoseSlotRow.plan_id.in_(legacy))
        .group_by(DoseSlotRow.plan_id)
    )
    return {plan_id: due_at for plan_id, due_at in found}


def report_plans(
    plan_rows: Sequence[PlanRow], first_doses: dict[int, datetime], zone: tzinfo
) -> tuple[ReportPlan, ...]:
    """The stored plans as the report (and the FHIR export) shows them, times in ``zone``."""

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(zone)

    stored = [stored_plan(row) for row in plan_rows]
    return tuple(
        ReportPlan(
            plan_id=item.plan_id,
            kind=item.kind,
            created_at=local(item.created_at),
            superseded_at=local(item.superseded_at) if item.superseded_at else None,
            plan=item.record.plan,
            times=item.record.times,
            data=item.data,
            in_force_from=_in_force_from(item.takes_over_at or first_doses.get(item.plan_id), local),
            entered_as=item.entered_as,
            confirmed_at=local(item.confirmed_at) if item.confirmed_at else None,
            reason=item.reason,
            review_is_default=review_is_default(item.record.plan),
        )
        for item in stored
    )


def _supply(
    engine: Engine, patient_id: int, now: datetime, first_day: date, last_day: date
) -> dict[str, Any] | None:
    """The supply now (stock, forecast) and the refill log of the period; None: never recorded."""
    from dosewise.services.supply import supply_overview, supply_view

    overview = supply_overview(engine, patient_id=patient_id, now=now)
    if overview.status is None:
        return None
    view = supply_view(overview)
    view["log"] = [
        line for line in view["log"] if first_day.isoformat() <= line["at"][:10] <= last_day.isoformat()
    ]
    return view


def _reviews(session: Any, patient_id: int, start: datetime, end: datetime) -> tuple[ReportReview, ...]:
    """The review requests of the period as the report lists them."""
    from dosewise.services.review_requests import reviews_between

    found = []
    for item in reviews_between(session, patient_id, start, end):
        if item.answer is not None:
            outcome = f"{_shortened(item.answer.describe())} ({item.answer.by_name})"
        elif item.state == "withdrawn":
            outcome = f"withdrawn by {item.closed_by_name}"
        else:
            outcome = "open"
        found.append(
            ReportReview(
                asked_at=item.asked_at,
                asked_by=item.asked_by_name,
                reason=item.reason_label,
                message=_shortened(item.message),
                state=item.state,
                outcome=outcome,
                closed_at=item.closed_at,
            )
        )
    return tuple(found)


REPORT_MESSAGE_CHARS = 300  # layout: a request's message and answer in the report (whole in the diary)


def _shortened(text: str) -> str:
    return text if len(text) <= REPORT_MESSAGE_CHARS else text[: REPORT_MESSAGE_CHARS - 1].rstrip() + "…"


def _keep_doses_ahead(engine: Engine, patient_id: int, now: datetime) -> None:
    """Make an open-ended plan's doses ahead (:func:`plans.keep_slots_ahead`) when they run
    short; otherwise one read, so the report never waits for another process's write lock."""
    with read_only(engine) as session:
        short = session.scalar(
            select(
                exists().where(
                    PlanRow.patient_id == patient_id,
                    PlanRow.slots_until.is_not(None),
                    PlanRow.slots_until < to_utc(now) + TOP_UP_WHEN,
                    or_(PlanRow.superseded_at.is_(None), PlanRow.slots_until < PlanRow.superseded_at),
                )
            )
        )
    if short:
        keep_slots_ahead(engine, now=now, patient_id=patient_id)


def _in_force_from(moment: datetime | None, local: Callable[[datetime], datetime]) -> datetime | None:
    return None if moment is None else local(moment)


def _doses_in_force(
    slots: list[Slot], plans: tuple[ReportPlan, ...], legacy: set[int]
) -> tuple[set[int], list[Slot]]:
    """The ids of the slots of the plan in force at their time, and the doses the report
    counts: one per due time. A replaced plan's slot from the takeover on stays in the diary
    only when something was recorded for it; at a time that also has a slot of the plan in
    force, the one taken (else skipped) stands for both, so a dose is never listed twice.
    Slots of plans saved before migration 0008 that were due before the plan was entered and
    have nothing recorded are not doses anyone could take (a start in the past): not counted."""
    spans = {
        plan.plan_id: (
            plan.in_force_from,
            plan.superseded_at,
            plan.created_at if plan.plan_id in legacy else None,
        )
        for plan in plans
    }
    in_force: set[int] = set()
    by_time: dict[datetime, list[Slot]] = {}
    for slot in slots:
        begins, ends, entered = spans.get(slot.plan_id, (None, None, None))
        if slot.recorded is None and entered is not None and slot.due_at < entered:
            continue
        if begins is not None and begins <= slot.due_at and (ends is None or slot.due_at < ends):
            in_force.add(slot.slot_id)
        elif slot.recorded is None:
            continue
        by_time.setdefault(slot.due_at, []).append(slot)

    def rank(slot: Slot) -> int:
        if slot.state in ("on_time", "late"):
            return 0
        return 1 if slot.state == "skipped" else (2 if slot.slot_id in in_force else 3)

    doses = [min(found, key=rank) for _, found in sorted(by_time.items())]
    return in_force, doses


def _side_effects(stored: str, monograph: Monograph) -> tuple[tuple[str, int], ...]:
    labels = {symptom.key: symptom.label for symptom in monograph.symptoms}
    return tuple((labels.get(item["key"], item["key"]), int(item["severity"])) for item in json.loads(stored))


def _as_told(check: SafetyCheck) -> TriageResult:
    """A kept triage result as the report shows it: what was told then, never worked out again."""
    from dosewise.domain.triage import ADVICE

    level: TriageLevel = (
        "emergency" if check.level == "emergency" else "urgent" if check.level == "urgent" else "routine"
    )
    return TriageResult(
        level=level,
        reasons=check.reasons,
        advice=ADVICE[level],
        symptoms=(),
        unrecognised=(),
        sources=check.sources,
    )


def triage_entry(
    entry: SymptomEntryRow,
    missed_dues: list[datetime],
    crcl: float | None,
    monograph: Monograph | None = None,
) -> TriageResult | None:
    """The entry's side effects triaged with the context of that moment: doses missed or
    skipped in the 24 hours before it (``missed_dues``: their due times, sorted), and the
    kidney function of the plan."""
    keys = [item["key"] for item in json.loads(entry.side_effects)]
    if not keys:
        return None
    at = entry.recorded_at.replace(tzinfo=UTC)
    missed = bisect_right(missed_dues, at) - bisect_left(missed_dues, at - timedelta(hours=24))
    return triage(
        monograph or load_monograph(DEFAULT_DRUG),
        keys,
        missed_doses_24h=min(missed, 24) or None,
        crcl_ml_min=crcl,
    )


def _latest_crcl(plans: tuple[ReportPlan, ...]) -> float | None:
    for plan in reversed(plans):
        if plan.plan.kidney is not None and plan.plan.kidney.crcl_ml_min is not None:
            return plan.plan.kidney.crcl_ml_min
    return None


def _levels(
    doses: list[Slot],
    crcl: float | None,
    start_utc: datetime,
    monograph: Monograph,
    *,
    window_days: int | None = None,
) -> LevelSeries | None:
    """A typical patient's levels from the doses recorded as taken, at the times recorded, to
    12 h after the last one; ``window_days``: only the last days with doses (a long range: a
    year of doses 6 hours apart is not readable on paper), simulated from the day before."""
    taken = sorted(
        (slot.taken_at, slot.dose_ug) for slot in doses if slot.state in ("on_time", "late") and slot.taken_at
    )
    if not taken:
        return None
    origin = start_utc.replace(tzinfo=UTC)
    last = taken[-1][0]
    shown_from = origin
    if window_days is not None:
        shown_from = max(origin, last - timedelta(days=window_days))
        origin = max(origin, shown_from - timedelta(days=1))  # the level the window starts from
    series = level_series(
        [(at, dose_ug) for at, dose_ug in taken if at >= origin], crcl, origin, last, last.tzinfo, monograph
    )
    if shown_from == origin:
        return series
    kept = [index for index, at in enumerate(series.times) if at >= shown_from]
    return LevelSeries(
        times=tuple(series.times[i] for i in kept),
        mg_l=tuple(series.mg_l[i] for i in kept),
        crcl_ml_min=series.crcl_ml_min,
        sources=series.sources,
        crcl_shown=series.crcl_shown,
    )


def planned_levels(
    plan: Plan, times: tuple[time, ...], zone: ZoneInfo, *, last_day: date | None = None
) -> LevelSeries:
    """A typical patient's levels if every dose of the plan is taken on time (the plan's kidney
    function; dialysis has no clearance in the model, so it is drawn without that adjustment),
    through ``last_day`` if given (an open-ended plan's long last step reads better short)."""
    from dosewise.domain.schedule import build_dose_events

    events = build_dose_events(plan, times, zone)
    if last_day is not None:
        events = [event for event in events if event.at.date() <= last_day] or events[:1]
    doses = [(event.at, event.dose_ug) for event in events]
    crcl = None if plan.kidney is None else plan.kidney.crcl_ml_min
    start = events[0].at.replace(hour=0, minute=0)
    return level_series(doses, crcl, start, events[-1].at, zone, load_monograph(plan.drug))


def level_series(
    doses: Sequence[tuple[datetime, int]],
    crcl: float | None,
    origin: datetime,
    last: datetime,
    zone: tzinfo | None,
    monograph: Monograph,
) -> LevelSeries:
    """Levels of a typical patient for doses (aware time, µg) from ``origin`` to 12 h after ``last``."""
    from dosewise.domain.pk.analytic import build_pk_parameters
    from dosewise.domain.pk.simulate import DoseHistory, build_time_grid, population_of_one, simulate_levels

    rules = monograph.pk
    end_h = (last - origin).total_seconds() / 3600 + 12
    history = DoseHistory(
        times_h=tuple(max(0.0, (at - origin).total_seconds() / 3600) for at, _ in doses),
        doses_mg=tuple(dose_ug / 1000 for _, dose_ug in doses),
    )
    step_h = max(0.25, end_h / MAX_LEVEL_POINTS)
    grid = build_time_grid(end_h, step_h)
    levels = simulate_levels(population_of_one(build_pk_parameters(rules, crcl)), history, grid)[:, 0]
    return LevelSeries(
        times=tuple((origin + timedelta(hours=float(h))).astimezone(zone) for h in grid),
        mg_l=tuple(float(v) for v in levels),
        crcl_ml_min=crcl,
        sources=cite_sources(rules.model_source, rules.cl_source, rules.v_source, rules.ka_source),
        crcl_shown=None if crcl is None else format_crcl(monograph.kidney, crcl),
    )


def _source_keys(
    plans: tuple[ReportPlan, ...],
    symptoms: tuple[ReportSymptoms, ...],
    interactions: InteractionReport | None,
    levels: LevelSeries | None,
    safety_checks: tuple[SafetyCheck, ...] = (),
) -> list[str]:
    texts: list[str] = ["PSFS", "NHS", "DOSEWISE", "CG76", "EPI21", "VLAV14"]
    for plan in plans:
        texts += plan.plan.sources
    for entry in symptoms:
        if entry.triage is not None:
            texts += entry.triage.sources
    if interactions is not None:
        texts += interactions.sources
    if levels is not None:
        texts += levels.sources
    for check in safety_checks:
        texts += check.sources
    return list(cite_sources(*texts))


def diary_span(engine: Engine, *, patient_id: int, now: datetime) -> tuple[date, date]:
    """The first and last day with anything in the diary (today if it is empty). The doses an
    open-ended plan has made ahead (a rolling horizon, not an end) do not extend it past today;
    a plan with an end (a taper) does."""
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        moments = [
            session.scalar(select(func.min(PlanRow.created_at)).where(PlanRow.patient_id == patient_id)),
            # index lookups on (patient_id, due_at), so a long diary costs what a short one does
            session.scalar(select(func.min(DoseSlotRow.due_at)).where(DoseSlotRow.patient_id == patient_id)),
            session.scalar(
                select(func.max(DoseSlotRow.due_at)).where(
                    DoseSlotRow.patient_id == patient_id, DoseSlotRow.due_at <= to_utc(now)
                )
            ),
            session.scalar(
                select(func.max(DoseSlotRow.due_at))
                .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
                .where(
                    DoseSlotRow.patient_id == patient_id,
                    DoseSlotRow.due_at > to_utc(now),
                    PlanRow.slots_until.is_(None),
                )
            ),
            session.scalar(
                select(func.min(SymptomEntryRow.recorded_at)).where(SymptomEntryRow.patient_id == patient_id)
            ),
            session.scalar(
                select(func.min(TriageResultRow.recorded_at)).where(TriageResultRow.patient_id == patient_id)
            ),
            to_utc(now),
        ]
    days = [moment.replace(tzinfo=UTC).astimezone(zone).date() for moment in moments if moment is not None]
    return min(days), max(days)


def default_report_range(engine: Engine, *, patient_id: int, now: datetime) -> tuple[date, date]:
    """The range a report shows unless asked for another: the last 12 months of the diary
    (:data:`REPORT_DEFAULT_DAYS`, a product default), or all of it when it is shorter."""
    first, last = diary_span(engine, patient_id=patient_id, now=now)
    return max(first, last - timedelta(days=REPORT_DEFAULT_DAYS - 1)), last


def plans_in_force(session: Session, patient_id: int, start: datetime, end: datetime) -> list[PlanRow]:
    """The patient's plans in force at some moment of ``start``-``end`` (UTC), oldest first."""
    return list(
        session.scalars(
            select(PlanRow)
            .where(
                PlanRow.patient_id == patient_id,
                PlanRow.created_at < end,
                or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at >= start),
            )
            .order_by(PlanRow.id)
        )
    )


def summarize_months(
    engine: Engine, *, patient_id: int, first_day: date, last_day: date, now: datetime
) -> RangeSummary:
    """``first_day``-``last_day`` by month (from the diary's first day if that is later): per
    month the doses and what became of them (the report's own rules: one dose per due time, the
    plan in force then), the lowest and highest daily dose planned, the mean scores. Read
    :data:`SUMMARY_CHUNK_MONTHS` months at a time, so memory does not grow with the diary."""
    diary_first, diary_last = diary_span(engine, patient_id=patient_id, now=now)
    begin = max(first_day, diary_first)
    end = min(last_day, max(diary_last, begin))  # the months after the diary have nothing to read
    months: list[PeriodRow] = []
    points: list[DailyPoint] = []
    chunk_first = begin
    while chunk_first <= end:
        month = chunk_first.replace(day=1)
        for _ in range(SUMMARY_CHUNK_MONTHS):
            month = (month + timedelta(days=32)).replace(day=1)
        chunk_last = min(end, month - timedelta(days=1))
        found_rows, found_points = _month_rows(engine, patient_id, chunk_first, chunk_last, now)
        months += found_rows
        points += found_points
        chunk_first = chunk_last + timedelta(days=1)
    return RangeSummary(first_day=begin, last_day=last_day, months=tuple(months), points=tuple(points))


def _month_rows(
    engine: Engine, patient_id: int, first_day: date, last_day: date, now: datetime
) -> tuple[list[PeriodRow], list[DailyPoint]]:
    """The months of ``first_day``-``last_day`` (whole days; the first and last may be parts)."""
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        start, _ = day_bounds(first_day, zone)
        _, end = day_bounds(last_day, zone)
        slots = load_slots(session, patient_id, start, end, zone, now)
        plan_rows = plans_in_force(session, patient_id, start, end)
        plans = report_plans(plan_rows, plan_first_doses(session, plan_rows), zone)
        legacy = {row.id for row in plan_rows if row.takes_over_at is None}
        scores = session.execute(
            select(
                SymptomEntryRow.recorded_at, SymptomEntryRow.penn_frequency, SymptomEntryRow.spasticity_nrs
            )
            .where(
                SymptomEntryRow.patient_id == patient_id,
                SymptomEntryRow.recorded_at >= start,
                SymptomEntryRow.recorded_at < end,
            )
            .order_by(SymptomEntryRow.recorded_at)
        ).all()
    in_force, doses = _doses_in_force(slots, plans, legacy)
    adherence = summarize_adherence(
        doses, first_day, last_day, on_time_window_h=ON_TIME_WINDOW.total_seconds() / 3600
    )
    planned_ug: dict[date, int] = {}
    taken_ug: dict[date, int] = {}
    for slot in slots:
        if slot.slot_id in in_force:
            day = slot.due_at.date()
            planned_ug[day] = planned_ug.get(day, 0) + slot.dose_ug
    for slot in doses:
        if slot.state in ("on_time", "late"):
            day = slot.due_at.date()
            taken_ug[day] = taken_ug.get(day, 0) + slot.dose_ug
    tallies: dict[date, list[Tally]] = {}
    for day, tally in adherence.by_day:
        tallies.setdefault(day.replace(day=1), []).append(tally)
    penn: dict[date, list[int]] = {}
    spasticity: dict[date, list[int]] = {}
    for recorded_at, penn_value, nrs in scores:
        month = recorded_at.replace(tzinfo=UTC).astimezone(zone).date().replace(day=1)
        penn.setdefault(month, []).append(penn_value)
        spasticity.setdefault(month, []).append(nrs)
    planned_by_month: dict[date, list[int]] = {}
    for day, value in planned_ug.items():
        planned_by_month.setdefault(day.replace(day=1), []).append(value)
    rows, points = [], []
    for month in sorted({*tallies, *penn, *planned_by_month}):
        planned = planned_by_month.get(month, [])
        month_end = min(last_day, (month + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        days = (month_end - max(first_day, month)).days + 1
        taken = sum(value for day, value in taken_ug.items() if day.replace(day=1) == month)
        frequency: float | None = fmean(penn[month]) if month in penn else None
        nrs_mean = fmean(spasticity[month]) if month in spasticity else None
        rows.append(
            PeriodRow(
                label=f"{month:%b %Y}",
                planned_mg=(min(planned) / 1000, max(planned) / 1000) if planned else None,
                tally=_sum_tallies(tallies.get(month, [])),
                penn_frequency=frequency,
                spasticity=nrs_mean,
                entries=len(penn.get(month, [])),
            )
        )
        points.append(
            DailyPoint(
                day=month.replace(day=15),
                planned_mg=fmean(planned) / 1000 if planned else 0,
                taken_mg=taken / 1000 / days,
                penn_frequency=frequency,
                spasticity=nrs_mean,
            )
        )
    return rows, points


def _sum_tallies(tallies: Sequence[Tally]) -> Tally:
    return Tally(
        planned=sum(t.planned for t in tallies),
        on_time=sum(t.on_time for t in tallies),
        late=sum(t.late for t in tallies),
        skipped=sum(t.skipped for t in tallies),
        missed=sum(t.missed for t in tallies),
        pending=sum(t.pending for t in tallies),
    )


def export_fhir(engine: Engine, *, patient_id: int, now: datetime) -> str:
    """The whole diary of a patient as a FHIR R4 Bundle (JSON): :func:`services.fhir.export_fhir`."""
    from dosewise.services import fhir

    return fhir.export_fhir(engine, patient_id=patient_id, now=now)


def export_calendar(engine: Engine, *, patient_id: int, now: datetime) -> bytes:
    """Reminders (.ics) for the patient's doses from ``now`` on (services.calendar builds them)."""
    from dosewise.services import calendar

    return calendar.export_calendar(engine, patient_id=patient_id, now=now)
