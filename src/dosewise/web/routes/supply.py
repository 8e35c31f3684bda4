"""Supply: the stock of each product, when it runs out, the refill log, and the forms "I
counted" and "I collected" (patient and caregivers; clinicians read). The JSON API has the same
use cases: ``GET /api/patients/{id}/supply`` and ``POST /api/patients/{id}/supply/events``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError
from dosewise.services import supply
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import SupplyEventInput
from dosewise.web.context import AppContext, Ctx, Patient, User, render
from dosewise.web.forms import Submitted, read_form
from dosewise.web.routes import api

router = APIRouter(tags=["pages"], include_in_schema=False)
# the JSON API's conventions (its documented problems: 400 input, 403, 404, 422...)
api_router = APIRouter(prefix="/api", tags=["api"], responses=api.router.responses)
NOTICES = {
    "counted": "Count saved.",
    "collected": "Refill saved.",
    "adjusted": "Change saved.",
}
FIELD_LABELS = {"product": "Product", "quantity": "Amount", "note": "Note", "kind": "What happened"}


def supply_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    error: str | None = None,
    form: Mapping[str, object] | None = None,
) -> Response:
    overview = supply.supply_overview(context.engine, patient_id=patient.patient_id, now=context.now())
    return render(
        context,
        request,
        "supply.html.j2",
        status=status,
        patient=patient,
        overview=overview,
        forecast=overview.forecast,
        stock_of={p.product: supply.product_view(p)["stock"] for p in overview.forecast.products},
        describe_when=supply.describe_when,
        sources=[{"key": key, "citation": citation} for key, citation in supply.source_citations()],
        can_record=patient.can("record"),
        form=form or {},
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=error,
    )


@router.get("/patients/{patient_id}/supply")
def supply_view(request: Request, context: Ctx, patient: Patient) -> Response:
    return supply_page(context, request, patient)


async def _event_form(request: Request) -> Submitted[SupplyEventInput]:
    return await read_form(request, SupplyEventInput)


@router.post("/patients/{patient_id}/supply/events")
def record_event(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[SupplyEventInput], Depends(_event_form)],
) -> Response:
    patient.require("record")
    try:
        if submitted.model is None:
            raise submitted.error or InputError("check the amount")
        body = submitted.model
        supply.record_stock(
            context.engine,
            patient_id=patient.patient_id,
            kind=body.kind,
            product=body.product,
            quantity=body.quantity,
            note=body.note,
            now=context.now(),
            actor=user.actor,
        )
    except InputError as error:
        label = FIELD_LABELS.get(error.field or "")
        message = f"{label}: {error}" if label else str(error)
        return supply_page(context, request, patient, status=400, error=message, form=submitted.values)
    return RedirectResponse(f"/patients/{patient.patient_id}/supply?done={body.kind}", status_code=303)


@api_router.get("/patients/{patient_id}/supply")
def supply_api(context: Ctx, patient: Patient) -> dict[str, Any]:
    """Stock per product (counted down by the doses taken), the run-out forecast through the
    plan's coming doses, the level at the thresholds (product defaults: warn at 7 days left,
    caregivers too at 3, urgent at 1 [DOSEWISE]), the refill log, and why it matters (running out
    is an abrupt stop [US-TAB, OZO, LYV])."""
    return supply.supply_view(
        supply.supply_overview(context.engine, patient_id=patient.patient_id, now=context.now())
    )


@api_router.post("/patients/{patient_id}/supply/events", status_code=201)
def supply_event_api(body: SupplyEventInput, context: Ctx, user: User, patient: Patient) -> dict[str, Any]:
    """Record a count (``counted``: what there is now), a refill (``collected``) or a change
    (``adjusted``, with a note); the patient and caregivers only. Returns the supply after it."""
    patient.require("record")
    recorded = supply.record_stock(
        context.engine,
        patient_id=patient.patient_id,
        kind=body.kind,
        product=body.product,
        quantity=body.quantity,
        note=body.note,
        now=context.now(),
        actor=user.actor,
    )
    view = supply.supply_view(
        supply.supply_overview(context.engine, patient_id=patient.patient_id, now=context.now())
    )
    return {"event": {"id": recorded.event_id, "kind": recorded.kind, "product": recorded.product,
                      "quantity": recorded.quantity}, **view}  # fmt: skip
