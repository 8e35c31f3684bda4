"""Other treatments compared (issue 16): the nine treatments of the clinical reference, each
with what this patient's record means for it (the plan's kidney function, the medicines taken
now, pregnancy from About me; liver disease, which is not recorded, chosen on the page). Read
only; everyone who sees the diary sees it. It informs; it never proposes a switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dosewise.errors import InputError
from dosewise.services import alternatives
from dosewise.web.context import Ctx, Patient, render

router = APIRouter(tags=["pages"], include_in_schema=False)
LIVER_LABELS = (
    ("none", "No liver disease"),
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe"),
)
LEVEL_CLASS = {
    "contraindicated": "finding-contraindicated",
    "warning": "finding-major",
    "caution": "finding-warning",
    "info": "",
}


@router.get("/patients/{patient_id}/alternatives")
def alternatives_page(
    request: Request, context: Ctx, patient: Patient, liver: Annotated[str, Query()] = "none"
) -> Response:
    error: InputError | None = None
    if liver not in dict(LIVER_LABELS):
        error, liver = InputError("choose one of the liver disease answers", field="liver"), "none"
    result = alternatives.compare_for_patient(
        context.engine, patient_id=patient.patient_id, now=context.now(), liver=liver
    )
    sources = [
        {"key": key, "citation": result.reference.sources[key]} for key in result.comparison.source_keys
    ]
    return render(
        context,
        request,
        "alternatives.html.j2",
        patient=patient,
        result=result,
        liver=liver,
        liver_labels=LIVER_LABELS,
        level_class=LEVEL_CLASS,
        sources=sources,
        error=error,
        status=400 if error else 200,
    )
