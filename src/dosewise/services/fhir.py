"""The diary as FHIR R4, a few days at a time (issue 15): pages of a ``searchset`` Bundle for
the API (``_count``, a date range, ``next``/``previous`` links) and one ``collection`` Bundle
streamed for the downloads, never the whole diary in memory.

Every resource has a day (the patient's calendar day): a plan the day it was saved, a dose the
day it was due, a diary score the day it was recorded, a safety check the day it was asked.
The Bundle lists the days in order, and in a day the plans, the doses, the diary scores, then
the safety checks (:func:`dosewise.exporters.fhir.build_day_entries`), so a page is a run of
that list: its position is a day and how many of that day's entries come before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import Engine, select

from dosewise.errors import InputError
from dosewise.exporters.fhir import (
    CLOSE_BUNDLE,
    build_day_entries,
    build_page,
    entry_json,
    open_bundle,
    patient_entry,
    patient_reference,
)
from dosewise.exporters.report import ReportSymptoms
from dosewise.monographs import load_monograph
from dosewise.services.clock import check_date
from dosewise.services.doses import day_bounds, load_slots
from dosewise.services.patients import drug_of, patient_zone
from dosewise.services.reports import diary_span, plan_first_doses, report_plans
from dosewise.services.safety_checks import load_safety_checks
from dosewise.store.database import read_only
from dosewise.store.models import PatientRow, PlanRow, SymptomEntryRow

T = TypeVar("T")

# Product defaults (settings, not clinical figures):
DEFAULT_COUNT = 100  # entries on a page of the API unless ``_count`` says otherwise
MAX_COUNT = 1000  # the most ``_count`` may ask for (a page is validated and held whole)
STREAM_DAYS = 31  # the downloads read this many days at a time
PAGE_DAYS = 7  # a page reads this many days at a time first (more when they hold too little)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """Where a page starts: a day, and how many of that day's entries come before it."""

    day: date
    skip: int = 0

    def token(self) -> str:
        return f"{self.day.isoformat()}.{self.skip}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FhirQuery:
    """A page asked for: the days (None: from the diary's first, to its last), how many entries,
    and where it starts (None: at the first day)."""

    first_day: date | None = None
    last_day: date | None = None
    count: int = DEFAULT_COUNT
    position: Position | None = None


def parse_fhir_query(params: Mapping[str, Sequence[str]]) -> FhirQuery:
    """The API's parameters: ``_count`` (1-:data:`MAX_COUNT`), ``date`` (repeatable, with FHIR's
    prefixes ``eq`` (or none), ``ge``, ``gt``, ``le``, ``lt``, a day ``YYYY-MM-DD``), ``start`` and
    ``end`` (``$everything``'s names: the first and last day) and ``_page`` (from a link)."""
    count = _count(params.get("_count", []))
    first: date | None = None
    last: date | None = None

    def narrow(low: date | None, high: date | None) -> None:
        nonlocal first, last
        if low is not None:
            first = low if first is None else max(first, low)
        if high is not None:
            last = high if last is None else min(last, high)

    for text in params.get("date", []):
        narrow(*_date_bounds(text))
    if params.get("start"):
        narrow(_day(params["start"][-1], "start"), None)
    if params.get("end"):
        narrow(None, _day(params["end"][-1], "end"))
    if first is not None and last is not None and last < first:
        raise InputError(f"the date range is empty ({first} to {last})", field="date")
    position = None
    if params.get("_page"):
        position = _position(params["_page"][-1])
    return FhirQuery(first_day=first, last_day=last, count=count, position=position)


def _count(given: Sequence[str]) -> int:
    if not given:
        return DEFAULT_COUNT
    try:
        count = int(given[-1])
    except ValueError:
        raise InputError(f"_count must be a whole number, got {given[-1]!r}", field="_count") from None
    if not 1 <= count <= MAX_COUNT:
        raise InputError(f"_count must be between 1 and {MAX_COUNT}, got {count}", field="_count")
    return count


def _date_bounds(text: str) -> tuple[date | None, date | None]:
    """A ``date`` parameter as the first and last day it allows (None: no bound)."""
    prefix, day_text = (text[:2], text[2:]) if text[:2].isalpha() else ("eq", text)
    day = _day(day_text, "date")
    bounds = {
        "eq": (day, day),
        "ge": (day, None),
        "gt": (day + timedelta(days=1), None),
        "le": (None, day),
        "lt": (None, day - timedelta(days=1)),
    }
    if prefix not in bounds:
        raise InputError(f"date prefix {prefix!r} is not one of eq, ge, gt, le, lt", field="date")
    return bounds[prefix]


def _day(text: str, what: str) -> date:
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(f"{what} {text!r} must be a day, YYYY-MM-DD, e.g. 2026-12-01", field=what)
    check_date(day, what, field=what)
    return day


def _position(token: str) -> Position:
    day_text, _, skip_text = token.partition(".")
    try:
        position = Position(day=date.fromisoformat(day_text), skip=int(skip_text))
    except ValueError:
        position = None
    if position is None or position.skip < 0 or not skip_text.isdigit():
        raise InputError(
            f"_page {token!r} is not a page of this export: follow the Bundle's links", field="_page"
        )
    return position


def fhir_page(
    engine: Engine, *, patient_id: int, now: datetime, query: FhirQuery, link: Callable[[str | None], str]
) -> str:
    """One page as a ``searchset`` Bundle (JSON): ``query.count`` entries from ``query.position``,
    with links to itself, the first page and the pages before and after it (``link``: the URL of
    the page at a position's token, None: the first). Reads a week at a time (more when a week
    holds too little)."""
    with read_only(engine) as session:
        patient = session.get(PatientRow, patient_id)
        assert patient is not None
        name = patient.name
    first, last = _days(engine, patient_id, now, query)
    position = query.position or Position(day=first)
    if not first <= position.day <= last:
        raise InputError(f"_page {position.token()!r} is outside the dates asked for", field="_page")
    found: list[tuple[date, int, dict[str, Any]]] = []
    day, width = position.day, PAGE_DAYS
    start = (position.day, position.skip)
    while day <= last and len(found) <= query.count:  # only what the page keeps is held
        window_last = min(last, day + timedelta(days=width - 1))
        found += (item for item in _entries(engine, patient_id, now, day, window_last) if item[:2] >= start)
        day, width = window_last + timedelta(days=1), min(width * 2, 366)
    page, rest = found[: query.count], found[query.count :]
    links = [("self", link(query.position.token() if query.position else None)), ("first", link(None))]
    previous = _previous(engine, patient_id, now, first, position, query.count)
    if previous is not None:
        links.append(("previous", link(None if previous == Position(day=first) else previous.token())))
    if rest:
        links.append(("next", link(Position(day=rest[0][0], skip=rest[0][1]).token())))
    return build_page(
        generated_at=now,
        patient=patient_entry(patient_id, name),
        entries=[entry for _, _, entry in page],
        links=links,
    )


def _previous(
    engine: Engine, patient_id: int, now: datetime, first: date, position: Position, count: int
) -> Position | None:
    """Where the page before ``position`` starts (None: it is the first page)."""
    if position.day == first and position.skip == 0:
        return None
    before = [
        item
        for item in _entries(engine, patient_id, now, position.day, position.day)
        if item[1] < position.skip
    ]
    day, width = position.day - timedelta(days=1), PAGE_DAYS
    while day >= first and len(before) < count:
        window_first = max(first, day - timedelta(days=width - 1))
        before = _entries(engine, patient_id, now, window_first, day) + before
        day, width = window_first - timedelta(days=1), min(width * 2, 366)
    if not before:
        return Position(day=first)
    start = before[max(0, len(before) - count)]
    return Position(day=start[0], skip=start[1])


def _days(engine: Engine, patient_id: int, now: datetime, query: FhirQuery) -> tuple[date, date]:
    """The days of the query within the diary's own (an open end is the diary's): a range of
    centuries costs what the diary costs."""
    diary_first, diary_last = diary_span(engine, patient_id=patient_id, now=now)
    first = diary_first if query.first_day is None else max(query.first_day, diary_first)
    last = diary_last if query.last_day is None else min(query.last_day, diary_last)
    return first, max(first, last)  # a range outside the diary: an empty page, not an error


def stream_fhir(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
) -> Iterator[str]:
    """The diary (or ``first_day``-``last_day``) as one FHIR R4 ``collection`` Bundle, in pieces
    of JSON text: :data:`STREAM_DAYS` days are read, validated and sent at a time."""
    with read_only(engine) as session:
        patient = session.get(PatientRow, patient_id)
        assert patient is not None
        name = patient.name
    first, last = _days(engine, patient_id, now, FhirQuery(first_day=first_day, last_day=last_day))
    yield open_bundle(now)
    yield entry_json(patient_entry(patient_id, name))
    day = first
    while day <= last:
        window_last = min(last, day + timedelta(days=STREAM_DAYS - 1))
        entries = _entries(engine, patient_id, now, day, window_last)
        if entries:
            yield "".join(",\n" + entry_json(entry) for _, _, entry in entries)
        day = window_last + timedelta(days=1)
    yield CLOSE_BUNDLE


def export_fhir(engine: Engine, *, patient_id: int, now: datetime) -> str:
    """The whole diary as one FHIR R4 Bundle (JSON text): :func:`stream_fhir`, joined."""
    return "".join(stream_fhir(engine, patient_id=patient_id, now=now))


def _entries(
    engine: Engine, patient_id: int, now: datetime, first_day: date, last_day: date
) -> list[tuple[date, int, dict[str, Any]]]:
    """The entries of ``first_day``-``last_day`` as (day, its place in the day, entry), in order."""
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        monograph = load_monograph(drug_of(session, patient_id))
        start, _ = day_bounds(first_day, zone)
        _, end = day_bounds(last_day, zone)
        plan_rows = session.scalars(
            select(PlanRow)
            .where(PlanRow.patient_id == patient_id, PlanRow.created_at >= start, PlanRow.created_at < end)
            .order_by(PlanRow.created_at, PlanRow.id)
        ).all()
        plans = report_plans(plan_rows, plan_first_doses(session, plan_rows), zone)
        slots = [slot for slot in load_slots(session, patient_id, start, end, zone, now) if slot.recorded]
        entries = session.scalars(
            select(SymptomEntryRow)
            .where(
                SymptomEntryRow.patient_id == patient_id,
                SymptomEntryRow.recorded_at >= start,
                SymptomEntryRow.recorded_at < end,
            )
            .order_by(SymptomEntryRow.recorded_at, SymptomEntryRow.id)
        ).all()
        checks = sorted(
            load_safety_checks(session, patient_id, since=start, before=end),
            key=lambda check: (check.at, check.result_id),
        )
        labels = {symptom.key: symptom.label for symptom in monograph.symptoms}
        # a check triaged from an entry of another day still points at its side effects
        elsewhere = {c.symptom_entry_id for c in checks if c.symptom_entry_id is not None}
        side_effects_of: dict[int, tuple[str, ...]] = {}
        if elsewhere:
            for entry_id, stored in session.execute(
                select(SymptomEntryRow.id, SymptomEntryRow.side_effects).where(
                    SymptomEntryRow.id.in_(elsewhere)
                )
            ):
                side_effects_of[entry_id] = tuple(
                    labels.get(item["key"], item["key"]) for item in json.loads(stored)
                )
        symptoms = [
            ReportSymptoms(
                entry_id=entry.id,
                at=_local(entry.recorded_at, zone),
                penn_frequency=entry.penn_frequency,
                penn_severity=entry.penn_severity,
                spasticity=entry.spasticity_nrs,
                side_effects=tuple(
                    (labels.get(item["key"], item["key"]), int(item["severity"]))
                    for item in json.loads(entry.side_effects)
                ),
                note=entry.note,
                triage=None,
            )
            for entry in entries
        ]
    patient_ref = patient_reference(patient_id)
    found: list[tuple[date, int, dict[str, Any]]] = []
    day = first_day
    by_day_plans = _by_day(plans, lambda plan: plan.created_at.date())
    by_day_slots = _by_day(slots, lambda slot: slot.due_at.date())
    by_day_symptoms = _by_day(symptoms, lambda entry: entry.at.date())
    by_day_checks = _by_day(checks, lambda check: check.at.date())
    while day <= last_day:
        made = build_day_entries(
            patient_ref=patient_ref,
            plans=by_day_plans.get(day, []),
            slots=by_day_slots.get(day, []),
            symptoms=by_day_symptoms.get(day, []),
            safety_checks=by_day_checks.get(day, []),
            side_effects_of=side_effects_of,
        )
        found += [(day, index, entry) for index, entry in enumerate(made)]
        day += timedelta(days=1)
    return found


def _by_day(items: Sequence[T], day_of: Callable[[T], date]) -> dict[date, list[T]]:
    grouped: dict[date, list[T]] = {}
    for item in items:
        grouped.setdefault(day_of(item), []).append(item)
    return grouped


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)
