"""A clinician's patient list: who needs attention, and why.

A patient is flagged for doses missed in the last days, an urgent or emergency triage (a side
effect of a diary entry, or a result kept when someone asked "How do I feel?"; shown with when
it was given), an open review request ("Ask the clinician": read live with the list, not part
of the summary; ranked after an urgent triage, before missed doses), or spasm scores rising
against the days before. The look-back and the rise that counts are Dosewise settings (the
clinical reference gives no such numbers); the page says so.

The list ranks from a summary per patient (``attention_summaries``) that holds while nothing
is written and the clock has not reached its ``valid_until``; :func:`attention` is the
reference, one patient at a time, that the list always equals.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from statistics import fmean
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    Engine,
    Select,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased

from dosewise.domain.adherence import slot_state
from dosewise.domain.triage import TriageLevel
from dosewise.errors import InputError
from dosewise.monographs import DEFAULT_DRUG
from dosewise.services.auth import CurrentUser
from dosewise.services.clock import from_utc, to_utc
from dosewise.services.doses import dose_status, load_slots, missed_dose_window
from dosewise.services.patients import patient_zone
from dosewise.services.plans import keep_all_slots_ahead, keep_slots_ahead, plan_crcl
from dosewise.services.reports import triage_entry
from dosewise.store.database import SQLITE_BUSY_TIMEOUT_MS, read_connection, read_only
from dosewise.store.models import (
    NOT_TAKEN,
    WITH_SIDE_EFFECTS,
    AccessGrantRow,
    AttentionSummaryRow,
    DoseSlotRow,
    PatientRow,
    PlanRow,
    ReviewRequestRow,
    SymptomEntryRow,
    TriageResultRow,
)

LOOK_BACK = timedelta(days=7)  # setting: the recent period the flags look at
RISE_POINTS = 2.0  # setting: a rise of the mean spasticity rating (0-10) that is flagged
# A summary is recomputed at least this often even when nothing says it changed: a new
# Dosewise (its triage rules) then shows within a day. Not a clinical setting.
SUMMARY_MAX_AGE = timedelta(days=1)
# On SQLite a list waits at most this long for the write lock to store summaries, then shows
# what it computed without storing it (a GET never queues behind a long write).
SUMMARY_WRITE_WAIT_MS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Attention:
    patient_id: int
    name: str
    relation: str
    missed: int
    skipped: int
    worst_triage: TriageLevel | None  # "emergency" or "urgent" in the period, else None
    spasticity_now: float | None
    spasticity_before: float | None
    has_plan: bool
    # when the worst triage of the period was given (the newest of that level), in the
    # patient's zone; None when there is none
    worst_triage_at: datetime | None = None
    # review requests open now (read live, not summarized): how many, and the oldest one's id,
    # reason and how long it has waited ("2 days")
    open_requests: int = 0
    open_request_id: int | None = None
    open_request_reason: str | None = None
    open_request_waiting: str | None = None

    @property
    def rising(self) -> bool:
        return (
            self.spasticity_now is not None
            and self.spasticity_before is not None
            and self.spasticity_now - self.spasticity_before >= RISE_POINTS
        )

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.worst_triage is not None:
            when = f" on {self.worst_triage_at:%-d %b %H:%M}" if self.worst_triage_at is not None else ""
            found.append(f"{self.worst_triage} triage{when}")
        if self.open_requests:
            more = f" (+{self.open_requests - 1} more)" if self.open_requests > 1 else ""
            found.append(
                f"review request: {self.open_request_reason}, waiting {self.open_request_waiting}{more}"
            )
        if self.missed:
            found.append(f"{self.missed} dose{'s' if self.missed != 1 else ''} missed")
        if self.rising:
            found.append(f"spasticity rising ({self.spasticity_before:.1f} → {self.spasticity_now:.1f})")
        return found

    @property
    def rank(self) -> tuple[int, int, int, str]:
        triage = {"emergency": 0, "urgent": 1}.get(
            self.worst_triage or "", 3 if not self.open_requests else 2
        )
        return (triage, -self.missed, 0 if self.rising else 1, self.name.lower())


PAGE_SIZE = 50  # setting: rows per page of the list


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientPage:
    """One page of the ranked list, and where it stands in the whole list."""

    rows: tuple[Attention, ...]
    total: int  # patients the clinician sees
    flagged: int  # of those, patients who need attention (on any page)
    page: int  # 1 is the first
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_number(self) -> int:
        """The position in the whole list of the page's first row (1-based)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def patient_page(
    engine: Engine, *, user: CurrentUser, now: datetime, page: int = 1, page_size: int = PAGE_SIZE
) -> PatientPage:
    """A page of the patients the clinician sees, those who need attention first (then by
    name); a page past the end is the last page.

    Ranked from each patient's attention summary (``attention_summaries``, migration 0007),
    read with the grants in one statement. The summaries that are missing or no longer valid
    at ``now`` are computed again from the diary, for those patients only, in a fixed number
    of grouped statements whatever their number (:func:`_gather`), and stored in a short write
    of their own. A summary is valid from the moment it was computed until ``valid_until``,
    the first moment the clock alone could change it (:func:`_valid_until`); any write to the
    rows it comes from makes it stale at once (triggers). So the rows are what
    :func:`attention` gives one patient at a time, at every ``now``."""
    if page < 1 or page_size < 1:
        raise InputError("a page number and size start at 1")
    keep_all_slots_ahead(engine, now=now)  # doses of open-ended plans exist to count them
    now_utc = to_utc(now)
    ranked = _ranked_page(engine, user_id=user.user_id, now_utc=now_utc, page=page, page_size=page_size)
    if ranked is not None:
        return ranked
    with read_connection(engine) as connection:
        listed = connection.execute(_summaries_statement(), {"user_id": user.user_id, "now": now_utc}).all()
    # plain tuples, validity decided in SQL: a thousand rows of datetimes parsed in Python (on
    # SQLite) cost more than the rest of the page
    summaries: dict[int, _Summary] = {}
    stale: list[int] = []
    missing: list[int] = []
    opened: dict[int, tuple[int, datetime, str, int]] = {}
    for patient_id, _, _, _, has_row, fresh, *summary in listed:
        request_id, asked_at, reason, count = summary[7:]
        if request_id is not None:
            opened[patient_id] = (request_id, asked_at, reason, count)
        if fresh:
            summaries[patient_id] = tuple(summary[:7])
            continue
        stale.append(patient_id)
        if not has_row:
            missing.append(patient_id)
    if stale:
        refreshed = _refresh(engine, user_id=user.user_id, stale=stale, missing=missing, now_utc=now_utc)
        # stored: ranked by the database like every other page (one order for every page)
        ranked = _ranked_page(engine, user_id=user.user_id, now_utc=now_utc, page=page, page_size=page_size)
        if ranked is not None:
            return ranked
        summaries.update(refreshed)  # not stored (a writer came first): ranked here this once
    keyed = []
    flagged = 0
    for patient_id, name, role, time_zone, *_ in listed:
        found = summaries.get(patient_id)
        if found is None:  # no longer let in (between the two reads)
            continue
        missed, _, worst, _, spasticity_now, spasticity_before, _ = found
        rising = (
            spasticity_now is not None
            and spasticity_before is not None
            and spasticity_now - spasticity_before >= RISE_POINTS
        )
        asked = patient_id in opened
        flagged += bool(worst is not None or missed or rising or asked)
        triage = 0 if worst == "emergency" else 1 if worst == "urgent" else 2 if asked else 3
        keyed.append(
            (
                (triage, -missed, 0 if rising else 1, name.lower(), name, patient_id),
                (patient_id, name, role, time_zone),
                found,
            )
        )
    keyed.sort(key=lambda item: item[0])
    pages = max(1, -(-len(keyed) // page_size))
    page = min(page, pages)
    first = (page - 1) * page_size
    return PatientPage(
        rows=tuple(
            Attention(
                patient_id=patient_id,
                name=name,
                relation="clinician" if role == "clinician" else "caregiver",
                missed=missed,
                skipped=skipped,
                worst_triage=worst,
                worst_triage_at=_local(worst_at, time_zone),
                spasticity_now=spasticity_now,
                spasticity_before=spasticity_before,
                has_plan=bool(has_plan),
                **_request_fields(opened.get(patient_id), now_utc),
            )
            for _, (patient_id, name, role, time_zone), (
                missed,
                skipped,
                worst,
                worst_at,
                spasticity_now,
                spasticity_before,
                has_plan,
            ) in keyed[first : first + page_size]
        ),
        total=len(keyed),
        flagged=flagged,
        page=page,
        page_size=page_size,
    )


def _request_fields(found: tuple[int, datetime, str, int] | None, now_utc: datetime) -> dict[str, Any]:
    """The Attention fields of a patient's open review requests (none: the defaults)."""
    from dosewise.services.review_requests import REASONS, describe_age

    if found is None:
        return {}
    request_id, asked_at, reason, count = found
    return {
        "open_requests": count,
        "open_request_id": request_id,
        "open_request_reason": REASONS.get(reason, reason),  # type: ignore[call-overload]
        "open_request_waiting": describe_age(now_utc - asked_at),
    }


def _local(naive_utc: datetime | None, time_zone: str) -> datetime | None:
    """A stored time in the patient's zone (the list shows each patient's times in their own)."""
    return None if naive_utc is None else from_utc(naive_utc, ZoneInfo(time_zone))


def _ranked_page(
    engine: Engine, *, user_id: int, now_utc: datetime, page: int, page_size: int
) -> PatientPage | None:
    """The page ranked by the database, in one statement returning only its rows, when every
    summary of the list is valid at ``now_utc`` (the usual case: the list opened again during
    the day); None otherwise (a summary to compute, or a page past the end), and
    :func:`patient_page` takes its longer way. Ties are broken by the database's ``lower(name)``."""
    with read_connection(engine) as connection:
        rows = connection.execute(
            _ranked_statement(),
            {
                "user_id": user_id,
                "now": now_utc,
                "rise": RISE_POINTS,
                "limit": page_size,
                "offset": (page - 1) * page_size,
            },
        ).all()
    if not rows or rows[0].stale:
        return None
    return PatientPage(
        rows=tuple(
            Attention(
                patient_id=row.id,
                name=row.name,
                relation="clinician" if row.role == "clinician" else "caregiver",
                missed=row.missed,
                skipped=row.skipped,
                worst_triage=row.worst_triage,
                worst_triage_at=_local(row.worst_triage_at, row.time_zone),
                spasticity_now=row.spasticity_now,
                spasticity_before=row.spasticity_before,
                has_plan=bool(row.has_plan),
                **_request_fields(
                    None
                    if row.request_id is None
                    else (row.request_id, row.request_asked_at, row.request_reason, row.requests),
                    now_utc,
                ),
            )
            for row in rows
        ),
        total=rows[0].total,
        flagged=int(rows[0].flagged),
        page=page,
        page_size=page_size,
    )


@cache
def _ranked_statement() -> Select[*tuple[Any, ...]]:
    """A page of the clinician's patients ranked from their summaries (emergency, then urgent
    triage, then most doses missed, then spasticity rising, then by name), with the whole
    list's size, how many need attention and how many summaries are not valid at ``now``."""
    summary = AttentionSummaryRow
    now: BindParameter[datetime] = bindparam("now")
    rising = and_(
        summary.spasticity_now.is_not(None),
        summary.spasticity_before.is_not(None),
        summary.spasticity_now - summary.spasticity_before >= bindparam("rise"),
    )
    oldest, count = _open_request_columns()
    asked = oldest.id.is_not(None)
    flagged = case((or_(summary.worst_triage.is_not(None), summary.missed > 0, rising, asked), 1), else_=0)
    valid = and_(summary.computed_at <= now, summary.valid_until > now)
    return (
        select(
            PatientRow.id,
            PatientRow.name,
            AccessGrantRow.role,
            PatientRow.time_zone,
            summary.missed,
            summary.skipped,
            summary.worst_triage,
            summary.worst_triage_at,
            summary.spasticity_now,
            summary.spasticity_before,
            summary.has_plan,
            func.count().over().label("total"),
            func.sum(flagged).over().label("flagged"),
            func.sum(case((valid, 0), else_=1)).over().label("stale"),
            oldest.id.label("request_id"),
            oldest.asked_at.label("request_asked_at"),
            oldest.reason.label("request_reason"),
            count.label("requests"),
        )
        .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
        .outerjoin(summary, summary.patient_id == PatientRow.id)
        .outerjoin(oldest, oldest.id == _oldest_open_request())
        .where(AccessGrantRow.user_id == bindparam("user_id"), AccessGrantRow.revoked_at.is_(None))
        .order_by(
            case(
                (summary.worst_triage == "emergency", 0),
                (summary.worst_triage == "urgent", 1),
                (asked, 2),
                else_=3,
            ),
            summary.missed.desc(),
            case((rising, 0), else_=1),
            func.lower(PatientRow.name),
            PatientRow.name,
            PatientRow.id,
        )
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


# What the list keeps of a patient's Attention (a row of attention_summaries): missed, skipped,
# worst triage and when it was given (naive UTC), spasticity now and before, has a plan
_Summary = tuple[int, int, TriageLevel | None, datetime | None, float | None, float | None, bool]


def _refresh(
    engine: Engine, *, user_id: int, stale: list[int], missing: list[int], now_utc: datetime
) -> dict[int, _Summary]:
    """The summaries of the ``stale`` patients computed again at ``now_utc`` (naive UTC), and
    stored where no write came in between.

    The patients with no summary row get one first (stale, with a random version), so that a
    write while they are computed changes a version (the triggers change only rows that
    exist). Each summary is then stored only if its row still has the version read with the
    diary's rows (the same statement): a summary computed from rows read before a write is
    never stored as valid after it. A store that fails (on SQLite, another writer holding the
    lock) only means the next list computes them again."""
    if missing:
        _write(engine, _placeholders_statement(engine), [
            {"patient_id": patient_id, "version": random.getrandbits(62), "missed": 0, "skipped": 0,
             "has_plan": False}
            for patient_id in missing
        ])  # fmt: skip
    # one window for the whole list: every monograph Dosewise has says 2 h; per-drug windows
    # would join the plans' drugs here
    window = missed_dose_window(DEFAULT_DRUG)
    facts = _gather(engine, user_id=user_id, now_utc=now_utc, window=window, patient_ids=stale)
    triaged: dict[tuple[str, int, float | None], TriageLevel | None] = {}
    found: dict[int, _Summary] = {}
    stored: list[dict[str, Any]] = []
    for fact in facts:
        sum_now, count_now, sum_before, count_before = fact.scores
        worst, worst_at = _worse(_worst_triage(fact, triaged), fact.stored_worst)
        summary: _Summary = (
            fact.missed,
            fact.skipped,
            worst,
            worst_at,
            sum_now / count_now if count_now else None,
            sum_before / count_before if count_before else None,
            fact.has_plan,
        )
        found[fact.patient_id] = summary
        if fact.version is not None:
            stored.append(
                {
                    "b_patient_id": fact.patient_id,
                    "b_version": fact.version,
                    "b_valid_until": fact.valid_until,
                    "b_computed_at": now_utc,
                    **dict(zip(_STORED, summary, strict=True)),
                }
            )
    if stored:
        stored.sort(key=lambda values: values["b_patient_id"])  # one lock order for every list
        _write(engine, _store_statement(), stored)
    return found


_STORED = (
    "b_missed",
    "b_skipped",
    "b_worst_triage",
    "b_worst_triage_at",
    "b_spasticity_now",
    "b_spasticity_before",
    "b_has_plan",
)


def _write(engine: Engine, statement: Any, rows: Sequence[dict[str, Any]]) -> bool:
    """One short write transaction (an executemany); False if it could not be done now."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection if engine.dialect.name == "sqlite" else None
        if driver is not None:  # wait for the write lock briefly, not the diary's 10 s
            driver.execute(f"PRAGMA busy_timeout = {SUMMARY_WRITE_WAIT_MS}")
        try:
            with connection.begin():
                connection.execute(statement, rows)
        except (OperationalError, IntegrityError):  # locked, a deadlock, a patient just deleted
            return False
        finally:
            if driver is not None:
                driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return True


def _placeholders_statement(engine: Engine) -> Any:
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    return insert(AttentionSummaryRow).on_conflict_do_nothing(index_elements=["patient_id"])


@cache
def _store_statement() -> Update:
    summary = AttentionSummaryRow
    return (
        update(summary)
        .where(summary.patient_id == bindparam("b_patient_id"), summary.version == bindparam("b_version"))
        .values(
            valid_until=bindparam("b_valid_until"),
            computed_at=bindparam("b_computed_at"),
            missed=bindparam("b_missed"),
            skipped=bindparam("b_skipped"),
            worst_triage=bindparam("b_worst_triage"),
            worst_triage_at=bindparam("b_worst_triage_at"),
            spasticity_now=bindparam("b_spasticity_now"),
            spasticity_before=bindparam("b_spasticity_before"),
            has_plan=bindparam("b_has_plan"),
        )
    )


@cache
def _summaries_statement() -> Select[*tuple[Any, ...]]:
    """The patients the user was let in by, with whether they have a summary row, whether it
    is valid at ``now`` (computed at or before it, valid until after it), and its values."""
    summary = AttentionSummaryRow
    now: BindParameter[datetime] = bindparam("now")
    oldest, count = _open_request_columns()
    return (
        select(
            PatientRow.id,
            PatientRow.name,
            AccessGrantRow.role,
            PatientRow.time_zone,
            summary.version.is_not(None),
            case((and_(summary.computed_at <= now, summary.valid_until > now), 1), else_=0),
            summary.missed,
            summary.skipped,
            summary.worst_triage,
            summary.worst_triage_at,
            summary.spasticity_now,
            summary.spasticity_before,
            summary.has_plan,
            oldest.id,
            oldest.asked_at,
            oldest.reason,
            count,
        )
        .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
        .outerjoin(summary, summary.patient_id == PatientRow.id)
        .outerjoin(oldest, oldest.id == _oldest_open_request())
        .where(AccessGrantRow.user_id == bindparam("user_id"), AccessGrantRow.revoked_at.is_(None))
    )


def _oldest_open_request() -> Any:
    """The id of the patient's oldest open review request (the partial index of open ones)."""
    return (
        select(ReviewRequestRow.id)
        .where(
            ReviewRequestRow.patient_id == PatientRow.id, ReviewRequestRow.state == literal_column("'open'")
        )
        .order_by(ReviewRequestRow.asked_at, ReviewRequestRow.id)
        .limit(1)
        .correlate(PatientRow)
        .scalar_subquery()
    )


def _open_request_columns() -> tuple[Any, Any]:
    """The oldest open review request of the row's patient (to join) and how many are open:
    read live with the list (requests are not part of the attention summary)."""
    counted = aliased(ReviewRequestRow)
    count = (
        select(func.count())
        .select_from(counted)
        .where(counted.patient_id == PatientRow.id, counted.state == literal_column("'open'"))
        .correlate(PatientRow)
        .scalar_subquery()
    )
    return aliased(ReviewRequestRow, name="oldest_open_request"), count


def patient_list(engine: Engine, *, user: CurrentUser, now: datetime) -> list[Attention]:
    """Every patient the clinician sees, ranked as :func:`patient_page` ranks them (one page
    as long as the list)."""
    found = patient_page(engine, user=user, now=now, page_size=1_000_000)
    return list(found.rows)


@dataclass(slots=True)
class _Facts:
    """What the list needs of one patient, read for all of them at once."""

    patient_id: int
    missed: int  # doses missed in the period
    skipped: int
    has_plan: bool
    crcl_ml_min: float | None = None  # the newest plan's: read for the patients with side effects
    scores: tuple[int, int, int, int] = (0, 0, 0, 0)  # spasticity: sum, count now; sum, count before
    side_effect_entries: list[tuple[datetime, str]] = field(default_factory=list)  # (recorded_at, JSON)
    missed_dues: list[datetime] = field(default_factory=list)  # aware UTC, sorted: for triage
    # the worst stored triage result of the period and when it was given (naive UTC)
    stored_worst: tuple[TriageLevel | None, datetime | None] = (None, None)
    version: int | None = None  # of the patient's summary row, read with these facts
    valid_until: datetime | None = None  # naive UTC: see _valid_until


def _gather(
    engine: Engine, *, user_id: int, now_utc: datetime, window: timedelta, patient_ids: Sequence[int]
) -> list[_Facts]:
    """The facts of the given patients the user was let in by, in one transaction of plain
    rows (``now_utc`` naive UTC; ``window`` the missed-dose advice's), each with the moment
    they stop being valid (:func:`_valid_until`)."""
    start = now_utc - LOOK_BACK
    window_start = start - timedelta(days=1)  # doses missed in the 24 h before an entry count
    parameters = {
        "user_id": user_id,
        "now": now_utc,
        "start": start,
        "window_start": window_start,
        "before": start - LOOK_BACK,
        "ids": list(patient_ids),
    }
    facts: dict[int, _Facts] = {}
    # per patient: (last past due, next due) for the patients whose doses are read one by one
    edges: dict[int, tuple[datetime | None, datetime | None]] = {}
    with read_connection(engine) as connection:
        horizon = now_utc + window
        for (
            patient_id,
            last_past,
            next_due,
            unrecorded,
            skipped,
            unrecorded_last,
            has_plan,
            version,
            first_not_taken_now,
            first_not_taken_before,
            first_entry_now,
            first_entry_before,
            stored_worst,
            stored_worst_at,
            first_stored,
        ) in connection.execute(_patients_statement(), parameters):
            # an unrecorded dose turns "missed" once the one after it is less than the window
            # away: for every slot but the last past one, the next is itself past; the last
            # one's next is the first slot due from now on (or, at the end of the plans, the
            # usual gap: those patients' doses are read one by one below)
            if unrecorded_last and next_due is not None and next_due >= horizon:
                unrecorded_last_missed = 0  # still "due": the advice says take it now
            else:
                unrecorded_last_missed = unrecorded_last
            facts[patient_id] = _Facts(
                patient_id=patient_id,
                missed=unrecorded - unrecorded_last + unrecorded_last_missed,
                skipped=skipped,
                has_plan=bool(has_plan),
                version=version,
                stored_worst=(stored_worst, stored_worst_at),
                valid_until=_valid_until(
                    now_utc,
                    window,
                    next_due=next_due,
                    due_last=bool(unrecorded_last and not unrecorded_last_missed),
                    first_not_taken=(first_not_taken_now, first_not_taken_before),
                    first_entry=(first_entry_now, first_entry_before),
                    first_stored=first_stored,
                ),
            )
            edges[patient_id] = (last_past, next_due)
        if not facts:
            return []
        for patient_id, sum_now, count_now, sum_before, count_before in connection.execute(
            _scores_statement(), parameters
        ):
            facts[patient_id].scores = (sum_now or 0, count_now, sum_before or 0, count_before)
        for patient_id, recorded_at, side_effects, crcl in connection.execute(
            _side_effects_statement(), parameters
        ):
            found = facts[patient_id]
            found.side_effect_entries.append((recorded_at, side_effects))
            found.crcl_ml_min = crcl  # the newest plan's (triage)
        rows: dict[int, list[tuple[datetime, str | None, str]]] = {}
        for patient_id, due_at, recorded, times in connection.execute(_not_taken_statement(), parameters):
            rows.setdefault(patient_id, []).append((due_at, recorded, times))
    for patient_id, not_taken in rows.items():
        last_past, next_due = edges[patient_id]
        _count_one_by_one(facts[patient_id], sorted(not_taken), last_past, next_due, now_utc, window)
    return list(facts.values())


def _valid_until(
    now_utc: datetime,
    window: timedelta,
    *,
    next_due: datetime | None,
    due_last: bool,
    first_not_taken: tuple[datetime | None, datetime | None],
    first_entry: tuple[datetime | None, datetime | None],
    first_stored: datetime | None = None,
) -> datetime:
    """The first moment after ``now_utc`` at which the clock alone (no row written) could change
    the patient's :class:`Attention`, or earlier; naive UTC. What changes with the clock:

    - a dose comes due (the first at or after now): from then on it is in the period, "due",
      then "missed" unless recorded (a dose recorded before its time enters the period then);
    - the last past dose, not recorded and still "due", turns "missed" once the next is less
      than the window away (an ended plan's: the usual gap, see :func:`_count_one_by_one`);
    - a dose not taken (missed, skipped, or still due) leaves the period LOOK_BACK after its
      due time, and the day before it (the doses missed in the 24 h before an entry) a day
      later: the first of each, ``first_not_taken`` (due in the period, due in the day before
      or later);
    - an entry moves from the period to the one before LOOK_BACK after it, and out of that
      2 x LOOK_BACK after it (its triage counts only in the period): ``first_entry`` (the
      first recorded in the period, and in the one before or later);
    - a stored urgent or emergency triage result leaves the period LOOK_BACK after it was
      given (one stored with a diary entry: after the entry): ``first_stored``, the first of
      the period. Which is the worst, and when it was given, changes only when one leaves.

    Each later one of a kind comes after the first, so the first of each is enough. Capped at
    SUMMARY_MAX_AGE, so that what the code (the triage rules) says shows within a day."""
    bounds = [now_utc + SUMMARY_MAX_AGE]
    if next_due is not None:
        bounds.append(next_due)
        if due_last:
            bounds.append(next_due - window)
    not_taken_now, not_taken_before = first_not_taken
    if not_taken_now is not None:
        bounds.append(not_taken_now + LOOK_BACK)
    if not_taken_before is not None:
        bounds.append(not_taken_before + LOOK_BACK + timedelta(days=1))
    entry_now, entry_before = first_entry
    if entry_now is not None:
        bounds.append(entry_now + LOOK_BACK)
    if entry_before is not None:
        bounds.append(entry_before + 2 * LOOK_BACK)
    if first_stored is not None:
        bounds.append(first_stored + LOOK_BACK)
    return min(bounds)


def _count_one_by_one(
    found: _Facts,
    not_taken: list[tuple[datetime, str | None, str]],
    last_past: datetime | None,
    next_due: datetime | None,
    now_utc: datetime,
    window: timedelta,
) -> None:
    """The patient's missed and skipped doses, and the due times of both (for triage), from
    their slots not taken in the period and the day before, in due order."""
    start = now_utc - LOOK_BACK
    missed = skipped = 0
    for due_at, status, times in not_taken:
        recorded = dose_status(status) if status is not None else None
        following = last_past
        if following is None or due_at >= following:  # the last past dose: what comes next
            following = next_due
            if following is None:  # the plan's last dose: the usual gap between doses
                following = due_at + timedelta(hours=24 / max(1, len(times.split(","))))
        state = slot_state(recorded, due_at, following, now_utc, window)
        if state == "due" and found.valid_until is not None:  # turns "missed" after following - window
            found.valid_until = min(found.valid_until, following - window)
        if state not in ("missed", "skipped"):
            continue
        found.missed_dues.append(due_at.replace(tzinfo=UTC))
        if due_at >= start:
            missed += state == "missed"
            skipped += state == "skipped"
    found.missed, found.skipped = missed, skipped


@cache
def _patients_statement() -> Select[*tuple[Any, ...]]:
    """A row per patient asked for (``ids``) that the user was let in by: the
    dose counts of the period and the due times around now (each a step or a short range along
    a ``dose_slots`` index), whether they have a plan, their summary's version (read in the
    same statement as the counts), and the first dose not taken and the first entry of the
    period and of the time before (what :func:`_valid_until` needs: a step along an index),
    and the worst stored triage result of the period with when it was given, and the first
    such result (it leaves the period first)."""
    slot = aliased(DoseSlotRow)
    now: BindParameter[datetime] = bindparam("now")
    start: BindParameter[datetime] = bindparam("start")
    of_patient = slot.patient_id == PatientRow.id
    # ORDER BY ... LIMIT 1, not max()/min(): one step along the (patient, due) index (SQLite
    # reads every slot of the range for an aggregate with a condition)
    last_past = (
        select(slot.due_at).where(of_patient, slot.due_at < now).order_by(slot.due_at.desc()).limit(1)
    ).scalar_subquery()
    last_slot = aliased(DoseSlotRow)
    last_past_inner = (
        select(last_slot.due_at)
        .where(last_slot.patient_id == PatientRow.id, last_slot.due_at < now)
        .order_by(last_slot.due_at.desc())
        .limit(1)
        .correlate(PatientRow)
        .scalar_subquery()
    )
    not_taken = (of_patient, NOT_TAKEN, slot.due_at >= start, slot.due_at < now)

    def counted(*conditions: Any) -> Any:
        return select(func.count()).select_from(slot).where(*not_taken, *conditions).scalar_subquery()

    def first_not_taken(since: str) -> Any:  # one step along the partial index
        return (
            select(slot.due_at)
            .where(of_patient, NOT_TAKEN, slot.due_at >= bindparam(since), slot.due_at < now)
            .order_by(slot.due_at)
            .limit(1)
            .scalar_subquery()
        )

    entry = aliased(SymptomEntryRow)
    stored = aliased(TriageResultRow)
    linked = aliased(SymptomEntryRow)
    # a result stored with a diary entry is that entry's triage: it counts at the entry's time
    given_at = func.coalesce(linked.recorded_at, stored.recorded_at)
    emergency_first = case((stored.level == literal_column("'emergency'"), 0), else_=1)

    def stored_result(column: Any, *order: Any) -> Any:
        """The first stored urgent or emergency result of the period in ``order`` (the
        (patient, recorded) index, then the few results of the patient)."""
        return (
            select(column)
            .select_from(stored)
            .outerjoin(linked, linked.id == stored.symptom_entry_id)
            .where(
                stored.patient_id == PatientRow.id,
                stored.level.in_(("emergency", "urgent")),
                given_at >= start,
            )
            .order_by(*order)
            .limit(1)
            .scalar_subquery()
        )

    def first_entry(since: str) -> Any:
        return (
            select(entry.recorded_at)
            .where(entry.patient_id == PatientRow.id, entry.recorded_at >= bindparam(since))
            .order_by(entry.recorded_at)
            .limit(1)
            .scalar_subquery()
        )

    return (
        select(
            PatientRow.id,
            last_past.label("last_past"),
            select(slot.due_at)
            .where(of_patient, slot.due_at >= now)
            .order_by(slot.due_at)
            .limit(1)
            .scalar_subquery()
            .label("next_due"),
            counted(slot.recorded.is_(None)).label("unrecorded"),
            counted(slot.recorded == literal_column("'skipped'")).label("skipped"),
            counted(slot.recorded.is_(None), slot.due_at == last_past_inner).label("unrecorded_last"),
            exists().where(PlanRow.patient_id == PatientRow.id).label("has_plan"),
            AttentionSummaryRow.version,
            first_not_taken("start").label("first_not_taken_now"),
            first_not_taken("window_start").label("first_not_taken_before"),
            first_entry("start").label("first_entry_now"),
            first_entry("before").label("first_entry_before"),
            stored_result(stored.level, emergency_first, given_at.desc()).label("stored_worst"),
            stored_result(given_at, emergency_first, given_at.desc()).label("stored_worst_at"),
            stored_result(given_at, given_at).label("first_stored"),
        )
        .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
        .outerjoin(AttentionSummaryRow, AttentionSummaryRow.patient_id == PatientRow.id)
        .where(
            AccessGrantRow.user_id == bindparam("user_id"),
            AccessGrantRow.revoked_at.is_(None),
            PatientRow.id.in_(bindparam("ids", expanding=True)),
        )
    )


def _granted() -> Select[*tuple[Any, ...]]:
    """The patients asked for (``ids``) that the user was let in by."""
    return select(AccessGrantRow.patient_id).where(
        AccessGrantRow.user_id == bindparam("user_id"),
        AccessGrantRow.revoked_at.is_(None),
        AccessGrantRow.patient_id.in_(bindparam("ids", expanding=True)),
    )


@cache
def _scores_statement() -> Select[*tuple[Any, ...]]:
    """The spasticity sums and counts per patient, now and the period before (from the
    (patient, recorded, rating) index alone)."""
    recent = SymptomEntryRow.recorded_at >= bindparam("start")
    return (
        select(
            SymptomEntryRow.patient_id,
            func.sum(case((recent, SymptomEntryRow.spasticity_nrs))),
            func.count(case((recent, 1))),
            func.sum(case((~recent, SymptomEntryRow.spasticity_nrs))),
            func.count(case((~recent, 1))),
        )
        .where(SymptomEntryRow.patient_id.in_(_granted()), SymptomEntryRow.recorded_at >= bindparam("before"))
        .group_by(SymptomEntryRow.patient_id)
    )


@cache
def _side_effects_statement() -> Select[*tuple[Any, ...]]:
    """The entries of the period with side effects (the partial index), with the kidney
    function of the patient's newest plan (triage)."""
    crcl = (
        select(PlanRow.crcl_ml_min)
        .where(PlanRow.patient_id == SymptomEntryRow.patient_id)
        .order_by(PlanRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(SymptomEntryRow.patient_id, SymptomEntryRow.recorded_at, SymptomEntryRow.side_effects, crcl)
        .where(
            SymptomEntryRow.patient_id.in_(_granted()),
            WITH_SIDE_EFFECTS,
            SymptomEntryRow.recorded_at >= bindparam("start"),
        )
        .order_by(SymptomEntryRow.recorded_at, SymptomEntryRow.id)
    )


@cache
def _not_taken_statement() -> Select[*tuple[Any, ...]]:
    """The slots not taken in the period and the day before, of the patients whose triage
    needs their due times (side effects reported) or whose plans have ended (the last dose's
    "missed" needs its plan's dose times)."""
    now: BindParameter[datetime] = bindparam("now")
    start: BindParameter[datetime] = bindparam("start")
    later = aliased(DoseSlotRow)
    needed = union(
        select(SymptomEntryRow.patient_id).where(
            SymptomEntryRow.patient_id.in_(_granted()),
            WITH_SIDE_EFFECTS,
            SymptomEntryRow.recorded_at >= start,
        ),
        select(AccessGrantRow.patient_id).where(
            AccessGrantRow.user_id == bindparam("user_id"),
            AccessGrantRow.revoked_at.is_(None),
            AccessGrantRow.patient_id.in_(bindparam("ids", expanding=True)),
            ~exists().where(later.patient_id == AccessGrantRow.patient_id, later.due_at >= now),
        ),
    )
    return (
        select(DoseSlotRow.patient_id, DoseSlotRow.due_at, DoseSlotRow.recorded, PlanRow.times)
        .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
        .where(
            DoseSlotRow.patient_id.in_(needed),
            NOT_TAKEN,
            DoseSlotRow.due_at >= bindparam("window_start"),
            DoseSlotRow.due_at < now,
        )
    )


def _worst_triage(
    found: _Facts, triaged: dict[tuple[str, int, float | None], TriageLevel | None]
) -> tuple[TriageLevel | None, datetime | None]:
    """The worst triage of the entries' side effects and the newest entry of that level."""
    worst: tuple[TriageLevel | None, datetime | None] = (None, None)
    for entry in found.side_effect_entries:
        level = _triage_level(entry, found.missed_dues, found.crcl_ml_min, triaged)
        if level in ("emergency", "urgent"):
            worst = _worse(worst, (level, entry[0]))
    return worst


def _worse(
    first: tuple[TriageLevel | None, datetime | None], second: tuple[TriageLevel | None, datetime | None]
) -> tuple[TriageLevel | None, datetime | None]:
    """Of two (level, when given), the more urgent; of the same level, the newer."""
    if first[0] is None or second[0] is None:
        return second if first[0] is None else first

    def weight(item: tuple[TriageLevel | None, datetime | None]) -> tuple[bool, datetime]:
        return item[0] == "emergency", item[1] or datetime.min  # noqa: DTZ901 (naive UTC, as stored)

    return first if weight(first) >= weight(second) else second


def _triage_level(
    entry: tuple[datetime, str],
    missed_dues: list[datetime],
    crcl: float | None,
    triaged: dict[tuple[str, int, float | None], TriageLevel | None],
) -> TriageLevel | None:
    """The level :func:`reports.triage_entry` gives the entry (recorded at, side effects),
    triaged once per list for each (side effects, doses missed in the 24 h before, kidney
    function): what triage depends on. Most entries of a list repeat a few such combinations."""
    recorded_at, side_effects = entry
    at = recorded_at.replace(tzinfo=UTC)
    missed = bisect_right(missed_dues, at) - bisect_left(missed_dues, at - timedelta(hours=24))
    key = (side_effects, missed, crcl)
    if key not in triaged:
        # the two columns triage_entry reads, as an unsaved row
        row = SymptomEntryRow(recorded_at=recorded_at, side_effects=side_effects)
        result = triage_entry(row, missed_dues, crcl)
        triaged[key] = result.level if result is not None else None
    return triaged[key]


def attention(engine: Engine, *, patient_id: int, name: str, relation: str, now: datetime) -> Attention:
    """One patient's flags, read for that patient alone (:func:`patient_list` reads them for
    every patient at once and gives the same answer)."""
    keep_slots_ahead(engine, now=now, patient_id=patient_id)
    now_utc = to_utc(now)
    start = now_utc - LOOK_BACK
    with read_only(engine) as session:
        zone = patient_zone(session, patient_id)
        slots = load_slots(session, patient_id, start - timedelta(days=1), now_utc, zone, now)
        entries = session.scalars(
            select(SymptomEntryRow)
            .where(SymptomEntryRow.patient_id == patient_id, SymptomEntryRow.recorded_at >= start - LOOK_BACK)
            .order_by(SymptomEntryRow.recorded_at)
        ).all()
        plan = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
        ).first()
        crcl = plan_crcl(plan)
        stored = session.execute(
            select(
                TriageResultRow.level, TriageResultRow.recorded_at, TriageResultRow.symptom_entry_id
            ).where(TriageResultRow.patient_id == patient_id)
        ).all()
    recent = [s for s in slots if to_utc(s.due_at) >= start]
    missed_dues = [slot.due_at for slot in slots if slot.state in ("missed", "skipped")]
    worst: tuple[TriageLevel | None, datetime | None] = (None, None)
    for entry in entries:
        if entry.recorded_at < start:
            continue
        result = triage_entry(entry, missed_dues, crcl)
        if result is not None and result.level in ("emergency", "urgent"):
            worst = _worse(worst, (result.level, entry.recorded_at))
    # the results kept when triage was given; one kept with a diary entry counts at its time
    entry_times = {entry.id: entry.recorded_at for entry in entries}
    for level, recorded_at, entry_id in stored:
        given_at = recorded_at if entry_id is None else entry_times.get(entry_id)
        if level in ("emergency", "urgent") and given_at is not None and given_at >= start:
            worst = _worse(worst, (cast("TriageLevel", level), given_at))
    with read_connection(engine) as connection:
        opened = _open_requests_in(connection, patient_id)
    now_scores = [e.spasticity_nrs for e in entries if e.recorded_at >= start]
    before_scores = [e.spasticity_nrs for e in entries if e.recorded_at < start]
    return Attention(
        patient_id=patient_id,
        name=name,
        relation=relation,
        missed=sum(1 for s in recent if s.state == "missed"),
        skipped=sum(1 for s in recent if s.state == "skipped"),
        worst_triage=worst[0],
        worst_triage_at=from_utc(worst[1], zone) if worst[1] is not None else None,
        spasticity_now=fmean(now_scores) if now_scores else None,
        spasticity_before=fmean(before_scores) if before_scores else None,
        has_plan=plan is not None,
        **_request_fields(opened, now_utc),
    )


def _open_requests_in(connection: Any, patient_id: int) -> tuple[int, datetime, str, int] | None:
    from dosewise.services.review_requests import open_requests_of

    return open_requests_of(connection, [patient_id]).get(patient_id)
