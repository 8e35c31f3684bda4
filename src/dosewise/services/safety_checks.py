"""The triage results kept for a patient (``triage_results``), read back as they were given,
for the people who look after them: the report, the exports, the safety checks page and the
API. Nothing is recomputed: a stored result is the record of the advice given.

The question keys become their questions and the ticked symptom keys their labels (from the
monograph of the patient's drug); times are in the patient's zone; the actor who asked
("user:7") is named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from dosewise.domain.monograph import cite_sources
from dosewise.exporters.safety_checks import Answer, SafetyCheck
from dosewise.monographs import load_monograph
from dosewise.services.clock import to_utc
from dosewise.services.patients import drug_of, patient_zone
from dosewise.services.triage import stored_result
from dosewise.store.database import read_only
from dosewise.store.models import TriageResultRow, UserRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dosewise.domain.monograph import Monograph

LISTED = 200  # setting: the safety checks page and the API list at most this many, newest first


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyCheckList:
    """What the safety checks page and the API show."""

    checks: tuple[SafetyCheck, ...]  # newest first, at most the limit
    total: int  # every result kept for the patient
    sources: tuple[tuple[str, str], ...]  # (key, citation) of the sources the listed ones cite


def list_safety_checks(engine: Engine, *, patient_id: int, limit: int = LISTED) -> SafetyCheckList:
    """The patient's newest ``limit`` stored triage results, how many there are in all, and the
    citations of their sources (those the monograph still has)."""
    with read_only(engine) as session:
        checks = tuple(load_safety_checks(session, patient_id, limit=limit))
        total = session.scalar(
            select(func.count()).select_from(TriageResultRow).where(TriageResultRow.patient_id == patient_id)
        )
        monograph = load_monograph(drug_of(session, patient_id))
    keys = cite_sources(*(", ".join(check.sources) for check in checks))
    return SafetyCheckList(
        checks=checks,
        total=total or 0,
        sources=tuple((key, monograph.sources[key]) for key in keys if key in monograph.sources),
    )


def safety_checks(
    engine: Engine,
    *,
    patient_id: int,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
) -> list[SafetyCheck]:
    """The patient's stored triage results, newest first (``since`` inclusive, ``before``
    exclusive: aware, or naive UTC; ``limit``: the newest so many)."""
    with read_only(engine) as session:
        return load_safety_checks(session, patient_id, since=since, before=before, limit=limit)


def load_safety_checks(
    session: Session,
    patient_id: int,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
) -> list[SafetyCheck]:
    """:func:`safety_checks` in the caller's transaction (the report reads them with the rest)."""
    zone = patient_zone(session, patient_id)
    monograph = load_monograph(drug_of(session, patient_id))
    statement = select(TriageResultRow).where(TriageResultRow.patient_id == patient_id)
    if since is not None:
        statement = statement.where(TriageResultRow.recorded_at >= _naive_utc(since))
    if before is not None:
        statement = statement.where(TriageResultRow.recorded_at < _naive_utc(before))
    statement = statement.order_by(TriageResultRow.recorded_at.desc(), TriageResultRow.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.scalars(statement).all()
    names = _actor_names(session, {row.recorded_by for row in rows})
    labels = {symptom.key: symptom.label for symptom in monograph.symptoms}
    checks = []
    for row in rows:
        stored = stored_result(row)
        inputs = json.loads(row.inputs)
        checks.append(
            SafetyCheck(
                result_id=stored.result_id,
                at=stored.recorded_at.astimezone(zone),
                level=stored.level,
                reasons=stored.reasons,
                ticked=tuple(labels[text] for text in stored.typed if text in labels),
                typed=tuple(text for text in stored.typed if text not in labels),
                answers=_answers(stored.answers, monograph),
                amount=str(inputs.get("amount", "")),
                unrecognised=stored.unrecognised,
                sources=stored.sources,
                recorded_by=stored.recorded_by,
                recorded_by_name=names.get(stored.recorded_by, stored.recorded_by),
                symptom_entry_id=stored.symptom_entry_id,
            )
        )
    return checks


def _naive_utc(moment: datetime) -> datetime:
    """As stored: an aware time in UTC without its zone (a naive one is taken as UTC already)."""
    return moment if moment.tzinfo is None else to_utc(moment).replace(tzinfo=None)


def _answers(answers: dict[str, bool], monograph: Monograph) -> tuple[Answer, ...]:
    """The answers in the order the questions are asked; a key no longer asked keeps its key."""
    asked = {question.key: question.text for question in monograph.triage_questions}
    order = {key: number for number, key in enumerate(asked)}
    return tuple(
        Answer(key=key, question=asked.get(key, key), yes=bool(value))
        for key, value in sorted(answers.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    )


def _actor_names(session: Session, actors: set[str]) -> dict[str, str]:
    """Who each actor is, as people read it: a user's name and role (a clinician whose account
    is not verified says so), the command line."""
    from dosewise.services.admin import describe_role

    ids = {
        int(actor.removeprefix("user:")): actor
        for actor in actors
        if actor.startswith("user:") and actor.removeprefix("user:").isdigit()
    }
    names = {"cli": "the command line"} if "cli" in actors else {}
    if ids:
        for user_id, name, role, verified_at in session.execute(
            select(UserRow.id, UserRow.display_name, UserRow.role, UserRow.verified_at).where(
                UserRow.id.in_(ids)
            )
        ):
            names[ids[user_id]] = f"{name} ({describe_role(role, verified_at)})"
        for user_id, actor in ids.items():
            names.setdefault(actor, f"a deleted account (user {user_id})")
    return names
