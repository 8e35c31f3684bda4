"""Other treatments compared (issue 16): the nine treatments of the clinical reference, each
with what this patient's record means for it (the plan's kidney function, the medicines taken
now, pregnancy and liver disease from About me). The page speaks plainly (each fact's ``plain``
wording, with its sources); the label's own wording is under a details element, open for a
clinician. A liver answer chosen on the page is a "what if", said so, never stored. Read only;
everyone who sees the diary sees it. It informs; it never proposes a switch or ranks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dosewise.errors import InputError
from dosewise.services import alternatives
from dosewise.services.patients import LIVER_LABELS
from dosewise.web.context import Ctx, Patient, render

router = APIRouter(tags=["pages"], include_in_schema=False)
WHAT_IF_CHOICES = ("none", "mild", "moderate", "severe")  # a "what if" over About me's answer
LEVEL_CLASS = {
    "contraindicated": "finding-contraindicated",
    "warning": "finding-major",
    "caution": "finding-warning",
    "info": "",
}
LEVEL_WORDS = {  # the level as the patient reads it; the clinician's part keeps the label's word
    "contraindicated": "Not allowed",
    "warning": "Warning",
    "caution": "Take care",
    "info": "Good to know",
}


@router.get("/patients/{patient_id}/alternatives")
def alternatives_page(
    request: Request, context: Ctx, patient: Patient, liver: Annotated[str, Query()] = ""
) -> Response:
    error: InputError | None = None
    if liver and liver not in WHAT_IF_CHOICES:
        error, liver = InputError("choose one of the liver disease answers", field="liver"), ""
    result = alternatives.compare_for_patient(
        context.engine, patient_id=patient.patient_id, now=context.now(), liver=liver or None
    )
    sources = [
        {"key": key, "citation": result.comparison.citations[key]} for key in result.comparison.source_keys
    ]
    labels = dict(LIVER_LABELS)
    return render(
        context,
        request,
        "alternatives.html.j2",
        patient=patient,
        result=result,
        liver=liver,
        liver_labels=[(value, labels[value]) for value in WHAT_IF_CHOICES],
        liver_shown=labels[result.comparison.situation.liver],
        liver_recorded=labels.get(result.liver_recorded or "", "Not known"),
        clinician=patient.relation == "clinician",
        can_edit_profile=patient.can("profile"),
        level_class=LEVEL_CLASS,
        level_words=LEVEL_WORDS,
        sources=sources,
        error=error,
        status=400 if error else 200,
    )
