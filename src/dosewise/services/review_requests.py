"""Ask the clinician: review requests and their answers (issue 14, point 4).

- The patient or a caregiver asks the patient's clinicians for a review: why (one of
  :data:`REASONS`) and a short message, with the report as it was at that moment (the rendered
  HTML of the last :data:`SNAPSHOT_DAYS` days: what the clinician opens is what the patient
  saw, whatever is corrected later).
- A clinician answers with a short message, or by changing the plan from the request
  (:func:`answer_with_plan`, called by :func:`dosewise.services.plans.start_plan` in the plan's
  own transaction): a request answered by a plan change says so and links the plan.
- A request is open until answered or withdrawn (by the patient or a caregiver).
- Every step is kept in the diary (these tables, the audit trail, the report's "Review requests")
  and tells the other side through the outbox (:func:`notifications.announce`), in the same
  transaction as the step: kept together or not at all. The notifications name the reason but
  not the message (a lock screen is not private); the message is read in Dosewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from dosewise.errors import Conflict, InputError, NotFound
from dosewise.services.access import NotAllowed, PatientAccess
from dosewise.services.audit import audit
from dosewise.services.clock import from_utc, to_utc
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import PatientRow, ReviewAnswerRow, ReviewRequestRow

Reason = Literal["side_effects", "no_benefit", "dose_question", "other"]
REASONS: dict[Reason, str] = {
    "side_effects": "side effects",
    "no_benefit": "no benefit",
    "dose_question": "a question about the dose",
    "other": "something else",
}
State = Literal["open", "answered", "withdrawn"]
# Settings (not clinical numbers): a short message, a few requests open at once, the report of
# the last four weeks attached (the report's own layout limits keep it to ~100 kB of HTML).
MAX_MESSAGE = 1000  # characters, a request's message and an answer's
MAX_OPEN = 3  # open requests per patient at once
SNAPSHOT_DAYS = 28
MAX_SNAPSHOT_CHARS = 2_000_000  # beyond this the report is kept without the levels chart, then not at all
LISTED = 50  # requests listed on a page (newest first)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewAnswer:
    answer_id: int
    at: datetime  # in the patient's zone
    by: str  # the actor
    by_name: str  # "Dr Noor Haddad (clinician)"
    kind: Literal["message", "plan"]
    message: str
    plan_id: int | None

    def describe(self) -> str:
        """How it was answered, as the report and the pages say it."""
        if self.kind == "plan":
            said = f": {self.message}" if self.message else ""
            return f"changed the plan{said}"
        return f"answered: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRequest:
    request_id: int
    patient_id: int
    asked_at: datetime  # in the patient's zone
    asked_by: str
    asked_by_name: str
    reason: Reason
    message: str
    state: State
    closed_at: datetime | None  # answered or withdrawn, in the patient's zone
    closed_by_name: str | None
    report_first_day: date
    report_last_day: date
    has_report: bool
    answer: ReviewAnswer | None = None

    @property
    def reason_label(self) -> str:
        return REASONS[self.reason]

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def waiting(self, now: datetime) -> str:
        """How long it has been open (or was, until closed): "3 hours", "2 days"."""
        return describe_age((self.closed_at or now) - self.asked_at)

    def describe_state(self) -> str:
        if self.state == "withdrawn" and self.closed_at is not None:
            return f"withdrawn {self.closed_at:%Y-%m-%d %H:%M} by {self.closed_by_name}"
        if self.answer is not None:
            return f"{self.answer.by_name} {self.answer.describe()} ({self.answer.at:%Y-%m-%d %H:%M})"
        return "open: waiting for a clinician"


def describe_age(age: timedelta) -> str:
    """An age in words, rounded down: "under an hour", "5 hours", "3 days"."""
    hours = int(age.total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def check_reason(reason: str) -> Reason:
    if reason not in REASONS:
        raise InputError(f"choose why: {', '.join(REASONS.values())}", field="reason")
    return reason


def check_message(message: str, *, required: bool = True) -> str:
    """The message as kept: stripped, at most :data:`MAX_MESSAGE` characters."""
    text = message.strip()
    if required and not text:
        raise InputError("write a short message for the clinician", field="message")
    if len(text) > MAX_MESSAGE:
        raise InputError(
            f"the message is {len(text)} characters: keep it to {MAX_MESSAGE} (the diary and the "
            "report hold the rest)",
            field="message",
        )
    return text


def require_family(caller: PatientAccess) -> None:
    if caller.relation not in ("owner", "caregiver"):
        raise NotAllowed("only the patient or a caregiver asks for a review; the clinician answers it")


def require_clinician(caller: PatientAccess) -> None:
    if caller.relation != "clinician":
        raise NotAllowed("only the patient's clinician answers a review request")


def _user_of(actor: str) -> int | None:
    text = actor.removeprefix("user:")
    return int(text) if actor.startswith("user:") and text.isdigit() else None


# --- asking ------------------------------------------------------------------------------------


def ask_review(
    engine: Engine, *, caller: PatientAccess, reason: str, message: str, now: datetime, actor: str
) -> int:
    """Keep a review request with the report as it is now, and tell the clinicians (and the rest
    of the family); returns its id. Nothing is kept when an input is wrong."""
    require_family(caller)
    why = check_reason(reason)
    text = check_message(message)
    patient_id = caller.patient_id
    _check_open_count(engine, patient_id)
    first, last, html = report_snapshot_now(engine, patient_id=patient_id, now=now)
    with unit_of_work(engine) as session:
        _check_open_count_in(session, patient_id)  # again, in the transaction that writes
        row = ReviewRequestRow(
            patient_id=patient_id,
            asked_at=to_utc(now),
            asked_by=actor,
            reason=why,
            message=text,
            state="open",
            closed_at=None,
            closed_by=None,
            report_first_day=first,
            report_last_day=last,
            report_html=html,
        )
        session.add(row)
        session.flush()
        audit(session, now, actor, patient_id, "ask_review", "review_request", row.id, {"reason": why})
        _announce_request(session, row, now=now)
        return row.id


def _check_open_count(engine: Engine, patient_id: int) -> None:
    with read_only(engine) as session:
        _check_open_count_in(session, patient_id)


def _check_open_count_in(session: Session, patient_id: int) -> None:
    count = session.scalar(
        select(func.count())
        .select_from(ReviewRequestRow)
        .where(ReviewRequestRow.patient_id == patient_id, ReviewRequestRow.state == "open")
    )
    if (count or 0) >= MAX_OPEN:
        raise InputError(
            f"{MAX_OPEN} requests are open already: wait for an answer, or withdraw one and ask again "
            "(if something is urgent, use How do I feel? or call your prescriber)",
            field="message",
        )


def report_snapshot_now(engine: Engine, *, patient_id: int, now: datetime) -> tuple[date, date, str]:
    """The report of the last :data:`SNAPSHOT_DAYS` days (from the diary's first day if it is
    younger), rendered now: (first day, last day, HTML). Kept as HTML: the self-contained page
    the clinician reads on screen (charts inline, no scripts), ~80-100 kB for four weeks; a PDF
    takes seconds to render and can be printed from it. Bounded by :data:`MAX_SNAPSHOT_CHARS`."""
    from dosewise.exporters.report import render_report_html
    from dosewise.services.reports import diary_span, gather_report

    first, last = diary_span(engine, patient_id=patient_id, now=now)
    with read_only(engine) as session:
        patient = session.get(PatientRow, patient_id)
        if patient is None:
            raise NotFound("no such patient")
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    last = today
    first = min(max(first, today - timedelta(days=SNAPSHOT_DAYS - 1)), today)
    for levels in (True, False):
        data = gather_report(
            engine, patient_id=patient_id, first_day=first, last_day=last, now=now, levels=levels
        )
        html = render_report_html(data)
        if len(html) <= MAX_SNAPSHOT_CHARS:
            return first, last, html
    return first, last, ""


def _announce_request(session: Session, row: ReviewRequestRow, *, now: datetime) -> None:
    from dosewise.domain.notifications import Text
    from dosewise.services.notifications import EVERYONE, Announcement, announce

    patient = session.get(PatientRow, row.patient_id)
    name = patient.name if patient is not None else f"patient {row.patient_id}"
    asker = _names(session, {row.asked_by}).get(row.asked_by, "someone")
    reason = REASONS[cast("Reason", row.reason)]
    clinician = Text(
        title=f"Review request from {name}: {reason}",
        body=f"{asker} asks for a review of {name}'s baclofen ({reason}), with the report of "
        f"{row.report_first_day:%-d %b} to {row.report_last_day:%-d %b}. Open Dosewise to read the "
        "message and answer it or change the plan.",
    )
    family = Text(
        title=f"{asker} asked the clinician for a review",
        body=f"A review request for {name} ({reason}) was sent to the clinicians with the current "
        "report. Open Dosewise to read it; you will be told when it is answered.",
    )
    announce(
        session,
        [
            Announcement(
                kind="review_request",
                # side effects are worth a clinician's look sooner; anything urgent goes through
                # How do I feel? (triage alerts), never through a review request
                level="warning" if row.reason == "side_effects" else "info",
                subject=f"r{row.id}",
                patient_id=row.patient_id,
                audience=EVERYONE,
                texts={"clinician": clinician, "caregiver": family, "patient": family},
                url=request_url(row.patient_id, row.id),
                due=now,
                exclude_user=_user_of(row.asked_by),
            )
        ],
        now=now,
    )


def request_url(patient_id: int, request_id: int) -> str:
    return f"/patients/{patient_id}/review-requests/{request_id}"


# --- withdrawing -------------------------------------------------------------------------------


def withdraw_review(
    engine: Engine, *, caller: PatientAccess, request_id: int, now: datetime, actor: str
) -> None:
    """The patient or a caregiver withdraws an open request; the clinicians are told."""
    with unit_of_work(engine) as session:
        row = _row(session, caller.patient_id, request_id)
        require_family(caller)
        closed = session.execute(
            update(ReviewRequestRow)
            .where(ReviewRequestRow.id == row.id, ReviewRequestRow.state == "open")
            .values(state="withdrawn", closed_at=to_utc(now), closed_by=actor)
        )
        if not getattr(closed, "rowcount", 0):
            raise Conflict(f"this request is {row.state} already")
        audit(session, now, actor, caller.patient_id, "withdraw_review", "review_request", row.id)
        _announce_withdrawn(session, row, actor=actor, now=now)


def _announce_withdrawn(session: Session, row: ReviewRequestRow, *, actor: str, now: datetime) -> None:
    from dosewise.domain.notifications import Text
    from dosewise.services.notifications import EVERYONE, Announcement, announce

    patient = session.get(PatientRow, row.patient_id)
    name = patient.name if patient is not None else f"patient {row.patient_id}"
    who = _names(session, {actor}).get(actor, "someone")
    asked = from_utc(row.asked_at, ZoneInfo(patient.time_zone if patient else "UTC"))
    announce(
        session,
        [
            Announcement(
                kind="review_request",
                level="info",
                subject=f"r{row.id}:withdrawn",
                patient_id=row.patient_id,
                audience=EVERYONE,
                text=Text(
                    title=f"Review request withdrawn ({name})",
                    body=f"{who} withdrew the review request of {asked:%-d %b %H:%M} "
                    f"({REASONS[cast('Reason', row.reason)]}): nothing to answer.",
                ),
                url=request_url(row.patient_id, row.id),
                due=now,
                exclude_user=_user_of(actor),
            )
        ],
        now=now,
    )


# --- answering ---------------------------------------------------------------------------------


def answer_review(
    engine: Engine, *, caller: PatientAccess, request_id: int, message: str, now: datetime, actor: str
) -> int:
    """A clinician answers an open request with a short message; the patient and caregivers are
    told. Returns the answer's id (Conflict when it was answered or withdrawn meanwhile)."""
    with unit_of_work(engine) as session:
        row = _row(session, caller.patient_id, request_id)  # another patient's: not found, first
        require_clinician(caller)
        text = check_message(message)
        answer = _close(session, row, actor=actor, now=now, kind="message", message=text, plan_id=None)
        if answer is None:
            raise Conflict(f"this request is {row.state} already")
        _announce_answer(session, row, answer, now=now)
        return answer.id


def answer_with_plan(
    session: Session,
    *,
    patient_id: int,
    request_id: int,
    plan_id: int,
    actor: str,
    now: datetime,
    message: str,
) -> tuple[int, int] | None:
    """In the plan's transaction: the new plan answers the request ("changed the plan", with the
    plan's reason). Returns (request id, answer id), or None when the request was answered or
    withdrawn meanwhile (the plan is kept; the request stays as it was). The patient is told by
    the plan's own message, worded as this answer (:func:`plans._tell_plan_changed`)."""
    row = session.get(ReviewRequestRow, request_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("no such review request")
    answer = _close(
        session, row, actor=actor, now=now, kind="plan", message=message[:MAX_MESSAGE], plan_id=plan_id
    )
    return None if answer is None else (row.id, answer.id)


def _close(
    session: Session,
    row: ReviewRequestRow,
    *,
    actor: str,
    now: datetime,
    kind: Literal["message", "plan"],
    message: str,
    plan_id: int | None,
) -> ReviewAnswerRow | None:
    """Mark the request answered (only if it is still open: one statement, so two clinicians
    answering at once make one answer) and keep the answer; None if it was not open."""
    closed = session.execute(
        update(ReviewRequestRow)
        .where(ReviewRequestRow.id == row.id, ReviewRequestRow.state == "open")
        .values(state="answered", closed_at=to_utc(now), closed_by=actor)
    )
    if not getattr(closed, "rowcount", 0):
        session.refresh(row)
        return None
    answer = ReviewAnswerRow(
        request_id=row.id,
        patient_id=row.patient_id,
        answered_at=to_utc(now),
        answered_by=actor,
        kind=kind,
        message=message,
        plan_id=plan_id,
    )
    session.add(answer)
    session.flush()
    detail: dict[str, Any] = {"kind": kind}
    if plan_id is not None:
        detail["plan_id"] = plan_id
    audit(session, now, actor, row.patient_id, "answer_review", "review_request", row.id, detail)
    return answer


def _announce_answer(
    session: Session, row: ReviewRequestRow, answer: ReviewAnswerRow, *, now: datetime
) -> None:
    from dosewise.domain.notifications import Text
    from dosewise.services.notifications import FAMILY, Announcement, announce

    patient = session.get(PatientRow, row.patient_id)
    zone = ZoneInfo(patient.time_zone if patient else "UTC")
    who = _names(session, {answer.answered_by}).get(answer.answered_by, "the clinician")
    asked = from_utc(row.asked_at, zone)
    announce(
        session,
        [
            Announcement(
                kind="review_answer",
                level="info",
                subject=f"r{row.id}:a{answer.id}",
                patient_id=row.patient_id,
                audience=FAMILY,
                text=Text(
                    title=f"{who} answered the review request",
                    body=f"The answer to the review request of {asked:%-d %b %H:%M} "
                    f"({REASONS[cast('Reason', row.reason)]}) is in Dosewise. The plan is unchanged.",
                ),
                url=request_url(row.patient_id, row.id),
                due=now,
                exclude_user=_user_of(answer.answered_by),
            )
        ],
        now=now,
    )


# --- reading -----------------------------------------------------------------------------------


def _row(session: Session, patient_id: int, request_id: int) -> ReviewRequestRow:
    row = session.get(ReviewRequestRow, request_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("no such review request")
    return row


def list_reviews(engine: Engine, *, patient_id: int, limit: int = LISTED) -> list[ReviewRequest]:
    """The patient's requests, open ones first, then newest first."""
    with read_only(engine) as session:
        rows = session.scalars(
            select(ReviewRequestRow)
            .where(ReviewRequestRow.patient_id == patient_id)
            .order_by(
                (ReviewRequestRow.state == "open").desc(),
                ReviewRequestRow.asked_at.desc(),
                ReviewRequestRow.id.desc(),
            )
            .limit(limit)
        ).all()
        return _views(session, patient_id, list(rows))


def review_request(engine: Engine, *, patient_id: int, request_id: int) -> ReviewRequest:
    with read_only(engine) as session:
        return _views(session, patient_id, [_row(session, patient_id, request_id)])[0]


def open_review_request(engine: Engine, *, caller: PatientAccess, request_id: int) -> ReviewRequest:
    """The open request a clinician is answering by changing the plan (the plan page)."""
    require_clinician(caller)
    found = review_request(engine, patient_id=caller.patient_id, request_id=request_id)
    if not found.is_open:
        raise Conflict(f"this request is {found.state} already")
    return found


def reviews_between(session: Session, patient_id: int, start: datetime, end: datetime) -> list[ReviewRequest]:
    """The requests asked in [start, end) (naive UTC) or answered or withdrawn then, oldest first
    (the report)."""
    from sqlalchemy import and_, or_

    rows = session.scalars(
        select(ReviewRequestRow)
        .where(
            ReviewRequestRow.patient_id == patient_id,
            or_(
                and_(ReviewRequestRow.asked_at >= start, ReviewRequestRow.asked_at < end),
                and_(ReviewRequestRow.closed_at >= start, ReviewRequestRow.closed_at < end),
            ),
        )
        .order_by(ReviewRequestRow.asked_at, ReviewRequestRow.id)
    ).all()
    return _views(session, patient_id, list(rows))


def snapshot_html(engine: Engine, *, patient_id: int, request_id: int) -> str:
    """The report kept with the request (NotFound when none could be kept)."""
    with read_only(engine) as session:
        html = _row(session, patient_id, request_id).report_html
    if not html:
        raise NotFound("no report was kept with this request")
    return html


def _views(session: Session, patient_id: int, rows: list[ReviewRequestRow]) -> list[ReviewRequest]:
    if not rows:
        return []
    patient = session.get(PatientRow, patient_id)
    zone = ZoneInfo(patient.time_zone if patient is not None else "UTC")
    answers = {
        answer.request_id: answer
        for answer in session.scalars(
            select(ReviewAnswerRow).where(ReviewAnswerRow.request_id.in_([row.id for row in rows]))
        )
    }
    actors = {row.asked_by for row in rows} | {row.closed_by for row in rows if row.closed_by}
    actors |= {answer.answered_by for answer in answers.values()}
    names = _names(session, actors)
    found = []
    for row in rows:
        answer = answers.get(row.id)
        found.append(
            ReviewRequest(
                request_id=row.id,
                patient_id=row.patient_id,
                asked_at=from_utc(row.asked_at, zone),
                asked_by=row.asked_by,
                asked_by_name=names.get(row.asked_by, row.asked_by),
                reason=cast("Reason", row.reason),
                message=row.message,
                state=cast("State", row.state),
                closed_at=None if row.closed_at is None else from_utc(row.closed_at, zone),
                closed_by_name=None if row.closed_by is None else names.get(row.closed_by, row.closed_by),
                report_first_day=row.report_first_day,
                report_last_day=row.report_last_day,
                has_report=bool(row.report_html),
                answer=None
                if answer is None
                else ReviewAnswer(
                    answer_id=answer.id,
                    at=from_utc(answer.answered_at, zone),
                    by=answer.answered_by,
                    by_name=names.get(answer.answered_by, answer.answered_by),
                    kind=cast("Literal['message', 'plan']", answer.kind),
                    message=answer.message,
                    plan_id=answer.plan_id,
                ),
            )
        )
    return found


def _names(session: Session, actors: set[str]) -> dict[str, str]:
    from dosewise.services.safety_checks import _actor_names

    return _actor_names(session, actors)


def open_requests_of(
    session: Session | Any, patient_ids: list[int]
) -> dict[int, tuple[int, datetime, str, int]]:
    """Per patient with open requests: (the oldest open one's id, when it was asked (naive UTC),
    its reason, how many are open). For the clinician's list."""
    found: dict[int, tuple[int, datetime, str, int]] = {}
    if not patient_ids:
        return found
    rows = session.execute(
        select(
            ReviewRequestRow.patient_id,
            ReviewRequestRow.id,
            ReviewRequestRow.asked_at,
            ReviewRequestRow.reason,
        )
        .where(ReviewRequestRow.patient_id.in_(patient_ids), ReviewRequestRow.state == "open")
        .order_by(ReviewRequestRow.patient_id, ReviewRequestRow.asked_at, ReviewRequestRow.id)
    ).all()
    for patient_id, request_id, asked_at, reason in rows:
        if patient_id in found:
            first = found[patient_id]
            found[patient_id] = (first[0], first[1], first[2], first[3] + 1)
        else:
            found[patient_id] = (request_id, asked_at, reason, 1)
    return found


REASON_CHOICES: tuple[tuple[str, str], ...] = tuple(REASONS.items())
