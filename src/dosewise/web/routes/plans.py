"""The plan builder: titration, taper, maintenance or the clinician's own steps; the kidney
calculator inline; a preview (plan table, day-by-day schedule, simulated levels) before saving;
refusals explained. Every rule is in the services and the domain, none here."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError, SafetyRefusal
from dosewise.exporters.plan_json import kidney_to_dict
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services import plans
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import PlanInput
from dosewise.services.plans import BuiltPlan
from dosewise.web.context import AppContext, Ctx, Patient, User, render
from dosewise.web.forms import Submitted, read_form

router = APIRouter(tags=["pages"], include_in_schema=False)
SCHEDULE_DAYS = 14  # the day-by-day table shows this many days (the plan table shows them all)
KINDS = (
    ("titration", "Start or raise baclofen (titration)"),
    ("taper", "Lower and stop baclofen (taper)"),
    ("maintenance", "Keep the current dose (maintenance)"),
    ("clinician", "A clinician's own steps"),
)
# The builder's inputs by service field: (the input's id, its label as the page shows it).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "kind": ("kind", "What kind of plan?"),
    "target_mg_day": ("target_mg_day", "Titration: target mg a day"),
    "from_mg_day": ("from_mg_day", "Taper: the dose taken now, mg a day"),
    "min_days": ("min_days", "Taper: at least this many days"),
    "mg_day": ("mg_day", "Maintenance: mg a day"),
    "review_weeks": ("review_weeks", "Review after, weeks"),
    "steps": ("steps", "Clinician's steps"),
    "start": ("start", "First day"),
    "doses_per_day": ("doses_per_day", "Doses a day"),
    "times": ("times", "Dose times"),
    "products": ("products", "The products you have"),
    "kidney_way": ("kidney_way", "Kidney function"),
    "crcl_ml_min": ("crcl_ml_min", "CrCl, mL/min"),
    "scr": ("scr", "Serum creatinine"),
    "scr_umol_l": ("scr", "Serum creatinine"),
    "scr_mg_dl": ("scr", "Serum creatinine"),
    "scr_unit": ("scr_unit", "Unit"),
    "age_years": ("age_years", "Age, years"),
    "sex": ("sex", "Sex"),
    "weight_kg": ("weight_kg", "Weight, kg"),
    "clinician_override": ("clinician_override", "Clinician override"),
}
FORM_DEFAULTS: dict[str, Any] = {
    "kind": "titration",
    "doses_per_day": "3",
    "kidney_way": "none",
    "scr_unit": "umol_l",
    "products": [],
    "steps": [],
}


def worded(error: InputError) -> tuple[str, str | None]:
    """The message as the page says it (the field's label first) and the input to mark."""
    found = FIELD_LABELS.get(error.field or "")
    if found is None:
        return str(error), None
    element, label = found
    return f"{label}: {error}", element


@cache
def product_choices(drug: str) -> tuple[tuple[str, str], ...]:
    """(spec, label) for every product of the monograph, in the CLI's spelling."""
    from dosewise.domain.products import parse_product_spec

    monograph = load_monograph(drug)
    choices = []
    for definition in monograph.products:
        strength = f"{definition.strength_mg:g}mg"
        if definition.form in ("solution", "suspension"):
            spec = f"{definition.form}:{strength}/ml"
        else:
            split = {2: ":halves", 4: ":quarters"}.get(definition.default_split, "")
            spec = f"{definition.form}:{strength}{split}"
        choices.append((spec, parse_product_spec(spec, monograph).describe()))
    return tuple(choices)


def _form_from_current(patient: PatientAccess, context: AppContext) -> dict[str, Any]:
    current = plans.current_plan(context.engine, patient_id=patient.patient_id)
    today = context.now().astimezone(ZoneInfo(patient.time_zone)).date()
    products = plans.patient_products(context.engine, patient_id=patient.patient_id)
    form = {**FORM_DEFAULTS, "start": today.isoformat(), "products": products}
    if current is None:
        return form
    data = current.data
    kidney = data.get("kidney") or {}
    crcl = kidney.get("crcl_ml_min")
    way = "dialysis" if kidney.get("band") == "dialysis" else "crcl" if crcl is not None else "none"
    last_daily = f"{data['steps'][-1]['daily_mg']:g}" if data.get("steps") else ""
    return {
        **form,
        "kind": "maintenance" if current.kind == "titration" else current.kind,
        "mg_day": last_daily,
        "from_mg_day": last_daily,
        "doses_per_day": str(data.get("doses_per_day", 3)),
        "times": ",".join(data.get("times") or []),
        "products": products or list(data.get("products", [])),
        "kidney_way": way,
        "crcl_ml_min": f"{crcl:g}" if crcl is not None else "",
    }


def plan_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    form: dict[str, Any],
    *,
    status: int = 200,
    preview: dict[str, Any] | None = None,
    kidney: dict[str, Any] | None = None,
    error: InputError | None = None,
    refusal: dict[str, Any] | None = None,
) -> Response:
    current = plans.current_plan(context.engine, patient_id=patient.patient_id)
    message, error_field = worded(error) if error is not None else (None, None)
    return render(
        context,
        request,
        "plans.html.j2",
        status=status,
        patient=patient,
        form=form,
        kinds=KINDS,
        product_choices=product_choices(current.record.plan.drug if current is not None else DEFAULT_DRUG),
        current=current,
        preview=preview,
        kidney=kidney,
        error=message,
        error_field=error_field,
        refusal=refusal,
        is_clinician=patient.may_override,
        can_plan=patient.can("plan"),
    )


@router.get("/patients/{patient_id}/plans")
def plans_page(request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    return plan_page(context, request, patient, _form_from_current(patient, context))


async def _plan_form(request: Request) -> Submitted[PlanInput]:
    return await read_form(request, PlanInput, FORM_DEFAULTS)


@router.post("/patients/{patient_id}/plans")
def build(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[PlanInput], Depends(_plan_form)],
    action: Annotated[str, Form()] = "preview",
) -> Response:
    patient.require("plan")
    form = submitted.values
    if submitted.model is None:
        return plan_page(context, request, patient, form, status=400, error=submitted.error)
    try:
        model = submitted.model
        if action == "kidney" and model.kidney_way in (None, "none") and model.scr is not None:
            model = model.model_copy(update={"kidney_way": "creatinine"})  # the calculator's own button
        plan_request = model.to_request()
        plans.check_override(plan_request, patient)
        if action == "kidney":
            monograph = load_monograph(plan_request.drug)
            kidney = plans.assess_kidney(monograph, plan_request)
            kidney_data = kidney_to_dict(kidney, monograph) if kidney is not None else None
            return plan_page(context, request, patient, form, kidney=kidney_data)
        today = context.now().astimezone(ZoneInfo(patient.time_zone)).date()
        built = plans.build_plan(plan_request, caller=patient, today=today)
    except SafetyRefusal as refusal:
        explained = {
            "message": str(refusal),
            "overridable": refusal.overridable,
            "clinician": patient.may_override,
        }
        return plan_page(context, request, patient, form, status=422, refusal=explained)
    except InputError as error:
        return plan_page(context, request, patient, form, status=400, error=error)
    zone = ZoneInfo(patient.time_zone)
    if action == "save":
        plans.save_plan(
            context.engine,
            patient_id=patient.patient_id,
            built=built,
            time_zone=patient.time_zone,
            now=context.now(),
            actor=user.actor,
            caller=patient,
            confirm_rise=submitted.model.confirm_rise,
        )
        return RedirectResponse(f"/patients/{patient.patient_id}/today?done=plan", status_code=303)
    kidney_data = (
        kidney_to_dict(built.plan.kidney, built.monograph) if built.plan.kidney is not None else None
    )
    preview = {
        "plan": plans.plan_view(built, time_zone=patient.time_zone),
        "schedule": day_by_day(built, zone),
        "chart": levels_chart(built, zone),
    }
    return plan_page(context, request, patient, form, preview=preview, kidney=kidney_data)


def day_by_day(built: BuiltPlan, zone: ZoneInfo) -> list[tuple[date, list[tuple[str, float, str]]]]:
    """The first days of the plan: (date, [(clock, mg, how)])."""
    from dosewise.domain.schedule import build_dose_events

    days: dict[date, list[tuple[str, float, str]]] = {}
    for event in build_dose_events(built.plan, built.times, zone):
        day = event.at.date()
        if day not in days and len(days) >= SCHEDULE_DAYS:
            break
        days.setdefault(day, []).append(
            (event.at.strftime("%H:%M"), event.dose_ug / 1000, event.recipe.describe())
        )
    return list(days.items())


def levels_chart(built: BuiltPlan, zone: ZoneInfo) -> dict[str, str]:
    """The simulated levels of a typical patient as an SVG data URI, with a text summary."""
    from dosewise.exporters.report import levels_chart_svg
    from dosewise.services.reports import planned_levels

    levels = planned_levels(built.plan, built.times, zone)
    svg = levels_chart_svg(levels, "Estimated blood levels if every dose is taken on time (typical patient)")
    peak = max(levels.mg_l)
    last_day = levels.times[-1].date()
    final = [
        v for t, v in zip(levels.times, levels.mg_l, strict=True) if t.date() == last_day - timedelta(days=1)
    ]
    summary = f"Estimated baclofen levels of a typical patient over the plan: highest {peak:.2f} mg/L" + (
        f"; on the last full day between {min(final):.2f} and {max(final):.2f} mg/L." if final else "."
    )
    return {
        "uri": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        "summary": summary,
        "sources": ", ".join(levels.sources),
    }
