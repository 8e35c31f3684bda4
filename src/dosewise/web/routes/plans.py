"""The plan builder: titration, taper, maintenance or the clinician's own steps; the kidney
calculator inline; a preview (plan table, day-by-day schedule, simulated levels) before saving;
refusals explained. Every rule is in the services and the domain, none here."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.errors import InputError, SafetyRefusal
from dosewise.exporters.plan_json import kidney_to_dict, plan_to_dict
from dosewise.monographs import load_monograph
from dosewise.services import diary, history
from dosewise.services.accounts import PatientAccess
from dosewise.services.plans import (
    DEFAULT_MAINTENANCE_DAYS,
    BuiltPlan,
    KidneyInput,
    PlanRequest,
    assess_kidney,
    build_plan,
    parse_date,
)
from dosewise.web.context import AppContext, Ctx, Patient, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)
SCHEDULE_DAYS = 14  # the day-by-day table shows this many days (the plan table shows them all)
KINDS = (
    ("titration", "Start or raise baclofen (titration)"),
    ("taper", "Lower and stop baclofen (taper)"),
    ("maintenance", "Keep the current dose (maintenance)"),
    ("clinician", "A clinician's own steps"),
)


@dataclass(frozen=True, slots=True)
class PlanForm:
    """The builder's fields as typed (strings), so a form with a mistake comes back as it was."""

    kind: str = "titration"
    target_mg_day: str = ""
    mg_day: str = ""
    from_mg_day: str = ""
    steps: str = ""
    days: str = str(DEFAULT_MAINTENANCE_DAYS)
    min_days: str = ""
    doses_per_day: str = "3"
    times: str = ""
    start: str = ""
    products: tuple[str, ...] = ()
    kidney_way: str = "none"
    crcl: str = ""
    scr: str = ""
    scr_unit: str = "umol_l"
    age: str = ""
    sex: str = ""
    weight_kg: str = ""
    clinician_override: bool = False

    def request(self, clinician: bool) -> PlanRequest:
        if self.clinician_override and not clinician:
            raise InputError("only a clinician can override a limit")
        way = self.kidney_way
        scr = _number(self.scr, "serum creatinine") if way == "creatinine" else None
        return PlanRequest(
            kind=self.kind,
            target_mg_day=_number(self.target_mg_day, "the target dose")
            if self.kind == "titration"
            else None,
            mg_day=_number(self.mg_day, "the daily dose") if self.kind == "maintenance" else None,
            from_mg_day=_number(self.from_mg_day, "the current dose") if self.kind == "taper" else None,
            steps=tuple(line.strip() for line in self.steps.splitlines() if line.strip())
            if self.kind == "clinician"
            else (),
            days=_or(_whole(self.days, "the number of days"), DEFAULT_MAINTENANCE_DAYS),
            min_days=_whole(self.min_days, "the shortest taper"),
            doses_per_day=_or(_whole(self.doses_per_day, "doses a day"), 3),
            times=self.times.strip() or None,
            start=parse_date(self.start, "the start date"),
            products=self.products,
            kidney=KidneyInput(
                crcl_ml_min=_number(self.crcl, "the creatinine clearance") if way == "crcl" else None,
                dialysis=way == "dialysis",
                scr_mg_dl=scr if self.scr_unit == "mg_dl" else None,
                scr_umol_l=scr if self.scr_unit != "mg_dl" else None,
            ),
            age_years=_number(self.age, "the age"),
            sex="female" if self.sex == "female" else "male" if self.sex == "male" else None,
            weight_kg=_number(self.weight_kg, "the weight"),
            clinician_override=self.clinician_override,
        )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _whole(text: str, what: str) -> int | None:
    """A whole number as typed ("" -> None); "2.5" or "two" says what to fix."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise InputError(f"{what} must be a whole number, not {text!r}")
    return int(cleaned)


def _number(text: str, what: str) -> float | None:
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(f"{what} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what} must be a number, not {text!r}")
    return value


@cache
def product_choices() -> tuple[tuple[str, str], ...]:
    """(spec, label) for every product of the monograph, in the CLI's spelling."""
    from dosewise.domain.products import parse_product_spec

    monograph = load_monograph("baclofen")
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


def _form_from_current(patient: PatientAccess, context: AppContext) -> PlanForm:
    current = history.current_plan(context.engine, patient_id=patient.patient_id)
    today = datetime.now(tz=ZoneInfo(patient.time_zone)).date()
    products = tuple(history.patient_products(context.engine, patient_id=patient.patient_id))
    if current is None:
        return PlanForm(start=today.isoformat(), products=products)
    data = current.data
    kidney = data.get("kidney") or {}
    crcl = kidney.get("crcl_ml_min")
    way = "dialysis" if kidney.get("band") == "dialysis" else "crcl" if crcl is not None else "none"
    return PlanForm(
        kind="maintenance" if current.kind == "titration" else current.kind,
        mg_day=f"{data['steps'][-1]['daily_mg']:g}" if data.get("steps") else "",
        from_mg_day=f"{data['steps'][-1]['daily_mg']:g}" if data.get("steps") else "",
        doses_per_day=str(data.get("doses_per_day", 3)),
        times=",".join(data.get("times", [])),
        start=today.isoformat(),
        products=products or tuple(data.get("products", [])),
        kidney_way=way,
        crcl=f"{crcl:g}" if crcl is not None else "",
    )


def plan_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    user_role: str,
    form: PlanForm,
    *,
    status: int = 200,
    preview: dict[str, Any] | None = None,
    kidney: dict[str, Any] | None = None,
    error: str | None = None,
    refusal: dict[str, Any] | None = None,
) -> Response:
    current = history.current_plan(context.engine, patient_id=patient.patient_id)
    return render(
        context,
        request,
        "plans.html.j2",
        status=status,
        patient=patient,
        form=form,
        kinds=KINDS,
        product_choices=product_choices(),
        current=current,
        preview=preview,
        kidney=kidney,
        error=error,
        refusal=refusal,
        is_clinician=user_role == "clinician" and patient.relation == "clinician",
        can_plan=patient.can("plan"),
    )


@router.get("/patients/{patient_id}/plans")
def plans(request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    return plan_page(context, request, patient, user.role, _form_from_current(patient, context))


@router.post("/patients/{patient_id}/plans")
def build(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    action: Annotated[str, Form()] = "preview",
    kind: Annotated[str, Form()] = "titration",
    target_mg_day: Annotated[str, Form()] = "",
    mg_day: Annotated[str, Form()] = "",
    from_mg_day: Annotated[str, Form()] = "",
    steps: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = str(DEFAULT_MAINTENANCE_DAYS),
    min_days: Annotated[str, Form()] = "",
    doses_per_day: Annotated[str, Form()] = "3",
    times: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    products: Annotated[list[str] | None, Form()] = None,
    kidney_way: Annotated[str, Form()] = "none",
    crcl: Annotated[str, Form()] = "",
    scr: Annotated[str, Form()] = "",
    scr_unit: Annotated[str, Form()] = "umol_l",
    age: Annotated[str, Form()] = "",
    sex: Annotated[str, Form()] = "",
    weight_kg: Annotated[str, Form()] = "",
    clinician_override: Annotated[str, Form()] = "",
) -> Response:
    patient.require("plan")
    form = PlanForm(
        kind=kind,
        target_mg_day=target_mg_day,
        mg_day=mg_day,
        from_mg_day=from_mg_day,
        steps=steps,
        days=days,
        min_days=min_days,
        doses_per_day=doses_per_day,
        times=times,
        start=start,
        products=tuple(p for p in (products or []) if p.strip()),
        kidney_way=kidney_way,
        crcl=crcl,
        scr=scr,
        scr_unit=scr_unit,
        age=age,
        sex=sex,
        weight_kg=weight_kg,
        clinician_override=clinician_override == "yes",
    )
    clinician = user.role == "clinician" and patient.relation == "clinician"
    monograph = load_monograph("baclofen")
    try:
        plan_request = form.request(clinician)
        kidney = assess_kidney(monograph, plan_request)
        kidney_data = kidney_to_dict(kidney, monograph) if kidney is not None else None
        if action == "kidney":
            return plan_page(context, request, patient, user.role, form, kidney=kidney_data)
        built = build_plan(plan_request)
    except SafetyRefusal as refusal:
        explained = {
            "message": str(refusal),
            "overridable": refusal.overridable,
            "clinician": clinician,
        }
        return plan_page(context, request, patient, user.role, form, status=422, refusal=explained)
    except InputError as error:
        return plan_page(context, request, patient, user.role, form, status=400, error=str(error))
    zone = ZoneInfo(patient.time_zone)
    data = plan_to_dict(built.plan, built.monograph, times=built.times, time_zone=patient.time_zone)
    if action == "save":
        diary.start_plan(
            context.engine,
            patient_id=patient.patient_id,
            plan=built.plan,
            plan_json=data,
            times=built.times,
            zone=zone,
            now=context.now(),
            actor=user.actor,
        )
        return RedirectResponse(f"/patients/{patient.patient_id}/today?done=plan", status_code=303)
    preview = {"plan": data, "schedule": day_by_day(built, zone), "chart": levels_chart(built, zone)}
    return plan_page(context, request, patient, user.role, form, preview=preview, kidney=kidney_data)


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
    from dosewise.services.report import planned_levels

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
