"""The triage results kept for a patient ("safety checks"), for everyone the patient let in:
a page, and ``GET /api/patients/{id}/triage`` (newest first). Reading them needs only access
to the patient (every relation may view); nothing here asks anything again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dosewise.exporters.safety_checks import SafetyCheck, describe_serious
from dosewise.services.safety_checks import LISTED, list_safety_checks
from dosewise.web.context import Ctx, Patient, render

router = APIRouter(tags=["pages"], include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])


@router.get("/patients/{patient_id}/triage/history")
def triage_history(request: Request, context: Ctx, patient: Patient) -> Response:
    found = list_safety_checks(context.engine, patient_id=patient.patient_id)
    return render(
        context,
        request,
        "triage_history.html.j2",
        patient=patient,
        checks=found.checks,
        total=found.total,
        serious=describe_serious(found.checks),
        sources=[{"key": key, "citation": citation} for key, citation in found.sources],
    )


class AnswerOut(BaseModel):
    key: str = Field(description="the question's key")
    question: str = Field(description="the question as asked")
    answer: bool = Field(description="yes (true) or no (false)")


class SaidOut(BaseModel):
    """What the result was given from."""

    ticked: list[str] = Field(description="symptoms ticked, by their label")
    typed: list[str] = Field(description="words typed, as typed")
    answers: list[AnswerOut] = Field(description="the guided questions answered, in the order asked")
    amount: str | None = Field(description="how much was taken, as typed (the overdose question)")
    unrecognised: list[str] = Field(description="typed words triage did not recognise")
    summary: list[str] = Field(description="all of it, one readable line each")


class SafetyCheckOut(BaseModel):
    id: int
    recorded_at: datetime = Field(description="when it was given, in the patient's zone")
    level: Literal["emergency", "urgent", "routine"]
    reasons: list[str] = Field(description="each ends with its [SOURCE] keys")
    said: SaidOut
    sources: list[str] = Field(description="source keys")
    recorded_by: str = Field(description="who asked: the actor, user:ID or cli")
    recorded_by_name: str = Field(description="who asked, as people read it")
    symptom_entry_id: int | None = Field(description="the diary entry whose side effects were triaged")


def _out(check: SafetyCheck) -> SafetyCheckOut:
    return SafetyCheckOut(
        id=check.result_id,
        recorded_at=check.at,
        level=check.level,  # type: ignore[arg-type]  # the table's check constraint
        reasons=list(check.reasons),
        said=SaidOut(
            ticked=list(check.ticked),
            typed=list(check.typed),
            answers=[AnswerOut(key=a.key, question=a.question, answer=a.yes) for a in check.answers],
            amount=check.amount or None,
            unrecognised=list(check.unrecognised),
            summary=check.said(),
        ),
        sources=list(check.sources),
        recorded_by=check.recorded_by,
        recorded_by_name=check.recorded_by_name,
        symptom_entry_id=check.symptom_entry_id,
    )


@api_router.get("/patients/{patient_id}/triage")
def triage_results(
    context: Ctx, patient: Patient, limit: Annotated[int, Query(ge=1, le=LISTED)] = LISTED
) -> list[SafetyCheckOut]:
    """The triage results kept for the patient, newest first (at most ``limit``)."""
    found = list_safety_checks(context.engine, patient_id=patient.patient_id, limit=limit)
    return [_out(check) for check in found.checks]
