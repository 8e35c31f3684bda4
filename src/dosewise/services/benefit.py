"""The benefit review (baclofen.md section 10, "No benefit after a trial") read from the diary.

The plans give the daily doses (:func:`domain.benefit.build_dose_periods`); the symptom entries
give the scores. For one patient or a clinician's whole list, in two statements whatever the
number of patients: the patients with their plans, then the entries each review reads (from
the baseline's first day on, per patient: an index range scan on (patient_id, recorded_at)).
Read only: the review never changes a plan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, or_, select

from dosewise.domain.benefit import (
    BenefitReview,
    PlanSpan,
    ScoreEntry,
    build_dose_periods,
    find_first_scored_day,
    review_benefit,
)
from dosewise.errors import NotFound
from dosewise.services.clock import from_utc, to_utc
from dosewise.services.doses import day_bounds
from dosewise.store.database import read_only
from dosewise.store.models import PatientRow, PlanRow, SymptomEntryRow
from dosewise.store.plan_codec import decode_plan


def review_patient_benefit(engine: Engine, *, patient_id: int, now: datetime) -> BenefitReview:
    """The benefit review of one patient at ``now`` (:class:`NotFound` for no such patient)."""
    found = review_benefits(engine, patient_ids=[patient_id], now=now)
    if patient_id not in found:
        raise NotFound(f"no patient {patient_id}")
    return found[patient_id]


def review_benefits(engine: Engine, *, patient_ids: Sequence[int], now: datetime) -> dict[int, BenefitReview]:
    """The benefit reviews of ``patient_ids`` at ``now`` (those that exist), in two statements."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    now_utc = to_utc(now)
    with read_only(engine) as session:
        rows = session.execute(
            select(
                PatientRow.id,
                PatientRow.time_zone,
                PlanRow.record,
                PlanRow.takes_over_at,
                PlanRow.superseded_at,
                PlanRow.created_at,
            )
            .outerjoin(PlanRow, PlanRow.patient_id == PatientRow.id)
            .where(PatientRow.id.in_(ids))
            .order_by(PatientRow.id, PlanRow.id)
        ).all()
        zones: dict[int, ZoneInfo] = {}
        spans: dict[int, list[PlanSpan]] = {}
        for patient_id, zone_name, record, takes_over_at, superseded_at, created_at in rows:
            zone = zones.setdefault(patient_id, ZoneInfo(zone_name))
            spans.setdefault(patient_id, [])
            if record is None:
                continue  # no plan
            plan = decode_plan(record).plan
            # its doses begin at the takeover (rows older than 0008: at its start); the plan it
            # replaced is superseded at that same moment
            first_day = plan.start if takes_over_at is None else _local_day(takes_over_at, zone)
            if not spans[patient_id] and created_at is not None and plan.start < _local_day(created_at, zone):
                # the first plan, entered as already under way ("started earlier"): the dose was
                # taken from its start, not from the day it was entered
                first_day = min(first_day, plan.start)
            until_day = None if superseded_at is None else _local_day(superseded_at, zone)
            spans[patient_id].append(PlanSpan(plan=plan, first_day=first_day, until_day=until_day))
        today = {patient_id: from_utc(now_utc, zone).date() for patient_id, zone in zones.items()}
        periods = {patient_id: build_dose_periods(found) for patient_id, found in spans.items()}
        bounds = []
        for patient_id, found_periods in periods.items():
            first = find_first_scored_day(found_periods, today=today[patient_id])
            if first is not None:
                start, _ = day_bounds(first, zones[patient_id])
                bounds.append(
                    and_(SymptomEntryRow.patient_id == patient_id, SymptomEntryRow.recorded_at >= start)
                )
        entries: dict[int, list[ScoreEntry]] = {}
        if bounds:
            for patient_id, recorded_at, penn, nrs, side_effects in session.execute(
                select(
                    SymptomEntryRow.patient_id,
                    SymptomEntryRow.recorded_at,
                    SymptomEntryRow.penn_frequency,
                    SymptomEntryRow.spasticity_nrs,
                    SymptomEntryRow.side_effects,
                ).where(or_(*bounds), SymptomEntryRow.recorded_at <= now_utc)
            ):
                entries.setdefault(patient_id, []).append(
                    ScoreEntry(
                        day=_local_day(recorded_at, zones[patient_id]),
                        penn_frequency=penn,
                        stiffness_nrs=nrs,
                        side_effect_burden=_burden(side_effects),
                    )
                )
    return {
        patient_id: review_benefit(periods[patient_id], entries.get(patient_id, []), today=today[patient_id])
        for patient_id in zones
    }


def _local_day(naive_utc: datetime, zone: ZoneInfo) -> date:
    return from_utc(naive_utc, zone).date()


def _burden(stored: str) -> int:
    """The sum of the side effects' severities (1-3 each) of an entry (0: none)."""
    if stored in ("", "[]"):
        return 0
    return sum(int(item["severity"]) for item in json.loads(stored))
