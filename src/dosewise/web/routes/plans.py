"""The plan builder: titration, taper, maintenance or the clinician's own steps; the kidney
calculator inline; a preview (plan table, when it takes over, the daily dose before and after,
day-by-day schedule, simulated levels) before saving; refusals explained. Every rule is in the
services and the domain, none here.

Save commits exactly the plan the preview showed: the preview puts a signed draft of its inputs
in the form (``plans.seal_draft``); Save opens it, and if the form says something else now (or
the plan would now start at another time) it shows the new preview instead of saving. Only the
patient and their clinician change the plan; a caregiver sees it and cannot post it (403)."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.domain.schedule import MIN_DOSE_SPACING, MIN_DOSE_SPACING_SOURCE, find_dosing_day
from dosewise.domain.units import format_mg
from dosewise.errors import DosewiseError, InputError, NotFound, SafetyRefusal
from dosewise.exporters.plan_json import kidney_to_dict
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services import plans
from dosewise.services.access import PatientAccess
from dosewise.services.clock import from_utc
from dosewise.services.inputs import PlanInput, parse_input
from dosewise.services.plans import DEFAULT_REVIEW_WEEKS, BuiltPlan, PlanChange, RiseNeedsConfirmation
from dosewise.web.context import MAX_ID, AppContext, Ctx, Id, Patient, User, render
from dosewise.web.forms import Submitted, read_form
from dosewise.web.routes.profile import condition_context

router = APIRouter(tags=["pages"], include_in_schema=False)
CHART_LAST_STEP_DAYS = 7  # the chart shows this much of an open-ended plan's last step (setting)
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
    "above_kidney_max": ("above_kidney_max", "Above the kidney-adjusted maximum"),
    "confirm_rise": ("confirm_rise", "The reason for the rise"),
    "reason": ("reason", "Why the plan changes"),
}
# What the page says when Save cannot commit the draft it was sent with.
CHANGED = "You changed the form after the preview: check this plan, then save it."
MOVED = "The time this plan would start has changed since the preview: check it, then save it."
NOTICES = {"confirmed": "The plan is confirmed. The patient sees that you confirmed it."}
WHEN = "%a %-d %b %H:%M"  # "Wed 2 Dec 08:00", on the patient's clock
FORM_DEFAULTS: dict[str, Any] = {
    "kind": "titration",
    "doses_per_day": "3",
    "kidney_way": "none",
    "scr_unit": "umol_l",
    "products": [],
    "steps": [],
}


def worded(error: DosewiseError) -> tuple[str, str | None]:
    """The message as the page says it (the field's label first) and the input to mark."""
    found = FIELD_LABELS.get(getattr(error, "field", None) or "")
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
        product = parse_product_spec(spec, monograph)
        # the canonical spelling (tablet:5mg:whole), as plans store a patient's products: the
        # form then ticks every product the patient has (issue 12: 5 mg tablets were dropped)
        choices.append((product.spec, product.describe()))
    return tuple(choices)


def _today(context: AppContext, patient: PatientAccess) -> date:
    return context.now().astimezone(ZoneInfo(patient.time_zone)).date()


def _form_from_current(patient: PatientAccess, context: AppContext) -> dict[str, Any]:
    """The builder's fields for changing the plan in force. Never a dose other than the one in
    force today: a titration under way is kept at today's step (not its target), a taper under
    way starts from today's dose, a clinician's plan keeps its doses from today on."""
    current = plans.current_plan(context.engine, patient_id=patient.patient_id)
    today = _today(context, patient)
    products = plans.patient_products(context.engine, patient_id=patient.patient_id)
    form = {**FORM_DEFAULTS, "start": today.isoformat(), "products": products}
    if current is None:
        return form
    plan, data = current.record.plan, current.data
    kidney = data.get("kidney") or {}
    crcl = kidney.get("crcl_ml_min")
    way = "dialysis" if kidney.get("band") == "dialysis" else "crcl" if crcl is not None else "none"
    now = context.now().astimezone(ZoneInfo(patient.time_zone))
    daily_ug = plan.daily_ug_on(find_dosing_day(now, current.record.times))  # 06:00 of 22:00,06:00,..
    daily = format_mg(daily_ug) if daily_ug else ""
    kind = {"titration": "maintenance", "maintenance": "maintenance"}.get(plan.kind, plan.kind)
    if not daily_ug:  # a taper that has ended: nothing is taken now
        kind = "titration"
    return {
        **form,
        "kind": kind,
        "mg_day": daily,
        "from_mg_day": daily,
        "steps": _steps_from(plan, today) if kind == "clinician" else [],
        "doses_per_day": str(data.get("doses_per_day", 3)),
        "times": ",".join(data.get("times") or []),
        "products": products or list(data.get("products", [])),
        "kidney_way": way,
        # as shown (truncated within its band): "%g" would round 29.9999 onto 30, another band
        "crcl_ml_min": kidney.get("crcl_shown") or "" if crcl is not None else "",
    }


def _steps_from(plan: Any, today: date) -> list[str]:
    """A clinician's steps from the one in force today on, as DAYS:MG,MG,MG lines."""
    lines = [
        f"{(step.end - max(step.start, today)).days + 1}:{','.join(format_mg(d) for d in step.doses_ug)}"
        for step in plan.steps
        if step.end >= today
    ]
    if not lines:  # after the last step: the plan goes on at that step's doses
        last = plan.steps[-1]
        lines = [f"{last.days}:{','.join(format_mg(d) for d in last.doses_ug)}"]
    return lines


def plan_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    form: dict[str, Any],
    *,
    status: int = 200,
    preview: dict[str, Any] | None = None,
    kidney: dict[str, Any] | None = None,
    error: DosewiseError | str | None = None,
    refusal: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Response:
    current = plans.current_plan(context.engine, patient_id=patient.patient_id)
    message: str | None = None
    error_field: str | None = None
    if isinstance(error, str):
        message = error
    elif error is not None:
        message, error_field = worded(error)
    zone = ZoneInfo(patient.time_zone)
    answering = _answering(context, patient, form)
    stored = None
    if current is not None:
        stored = {
            "saved": from_utc(current.created_at, zone),
            "takes_over": None if current.takes_over_at is None else from_utc(current.takes_over_at, zone),
            "confirmed": None if current.confirmed_at is None else from_utc(current.confirmed_at, zone),
        }
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
        stored=stored,
        now=context.now().astimezone(zone),
        when=WHEN,
        preview=preview,
        kidney=kidney,
        error=message,
        error_field=error_field,
        refusal=refusal,
        notice=notice,
        is_clinician=patient.may_override,
        can_plan=patient.can("plan"),
        answering=answering,
        **condition_context(context, patient),  # the advice for pregnancy, breastfeeding, epilepsy
    )


def _answering(context: AppContext, patient: PatientAccess, form: dict[str, Any]) -> Any:
    """The open review request this plan change answers (``review_request`` in the form), if
    any; one answered or withdrawn meanwhile is dropped from the form (saving then changes the
    plan only)."""
    from dosewise.errors import Conflict
    from dosewise.services.review_requests import open_review_request

    given = str(form.get("review_request") or "")
    if not given:
        return None
    valid_id = given.isascii() and given.isdigit() and len(given) <= len(str(MAX_ID)) and int(given) <= MAX_ID
    if not valid_id or patient.relation != "clinician":
        raise NotFound("no such review request")
    try:
        return open_review_request(context.engine, caller=patient, request_id=int(given))
    except Conflict:
        form["review_request"] = ""
        return None


@router.get("/patients/{patient_id}/plans")
def plans_page(request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    form = _form_from_current(patient, context) if patient.can("plan") else dict(FORM_DEFAULTS)
    form["review_request"] = request.query_params.get("request", "")[:12]
    notice = NOTICES.get(request.query_params.get("done", ""))
    return plan_page(context, request, patient, form, notice=notice)


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
    draft: Annotated[str, Form(max_length=8000)] = "",
    previewed_takeover: Annotated[str, Form(max_length=64)] = "",
    review_request: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Preview (the default), work out kidney function, or save the previewed draft;
    ``review_request``: the open review request the change answers (a clinician's)."""
    patient.require("plan")
    form = {**submitted.values, "review_request": review_request}
    if submitted.model is None:
        return plan_page(context, request, patient, form, status=400, error=submitted.error)
    model = submitted.model
    if action == "kidney":
        return _kidney(context, request, patient, model, form)
    if action == "save":
        answering = _answering(context, patient, form)
        return _save(
            context,
            request,
            user.actor,
            patient,
            model,
            form,
            draft,
            previewed_takeover,
            answers_request=None if answering is None else answering.request_id,
        )
    return _preview(context, request, patient, model, form)


def _refused(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    form: dict[str, Any],
    refusal: SafetyRefusal,
) -> Response:
    explained = {
        "message": str(refusal),
        "overridable": refusal.overridable,
        "clinician": patient.may_override,
        "field": getattr(refusal, "field", None),
    }
    return plan_page(context, request, patient, form, status=422, refusal=explained)


def _kidney(
    context: AppContext, request: Request, patient: PatientAccess, model: PlanInput, form: dict[str, Any]
) -> Response:
    """The calculator's own button: the kidney band from what was typed, without a plan."""
    if model.kidney_way in (None, "none") and model.scr is not None:
        model = model.model_copy(update={"kidney_way": "creatinine"})
    try:
        plan_request = model.to_request()
        plans.check_override(plan_request, patient)
        monograph = load_monograph(plan_request.drug)
        kidney = plans.assess_kidney(monograph, plan_request)
    except SafetyRefusal as refusal:
        return _refused(context, request, patient, form, refusal)
    except InputError as error:
        return plan_page(context, request, patient, form, status=400, error=error)
    kidney_data = kidney_to_dict(kidney, monograph) if kidney is not None else None
    return plan_page(context, request, patient, form, kidney=kidney_data)


def _build(context: AppContext, patient: PatientAccess, model: PlanInput) -> tuple[BuiltPlan, PlanChange]:
    """The plan the inputs make and how it would take over now (InputError, SafetyRefusal)."""
    plan_request = model.to_request()
    built = plans.build_plan(plan_request, caller=patient, today=_today(context, patient))
    change = plans.plan_change(
        context.engine,
        patient_id=patient.patient_id,
        built=built,
        time_zone=patient.time_zone,
        now=context.now(),
    )
    return built, change


def _preview(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    model: PlanInput,
    form: dict[str, Any],
    *,
    status: int = 200,
    error: DosewiseError | str | None = None,
) -> Response:
    """The plan the form makes, how it takes over, and a draft that Save commits as shown;
    ``error``: why this preview is shown instead of saving."""
    try:
        built, change = _build(context, patient, model)
    except SafetyRefusal as refusal:
        return _refused(context, request, patient, form, refusal)
    except InputError as problem:
        return plan_page(context, request, patient, form, status=400, error=problem)
    zone = ZoneInfo(patient.time_zone)
    token = plans.seal_draft(
        context.settings.secret_key,
        patient_id=patient.patient_id,
        inputs=model.plan_inputs(),
        built=built,
        time_zone=patient.time_zone,
    )
    kidney_data = (
        kidney_to_dict(built.plan.kidney, built.monograph) if built.plan.kidney is not None else None
    )
    preview = {
        "plan": plans.plan_view(built, time_zone=patient.time_zone),
        "change": _change_view(change, built, _today(context, patient)),
        "schedule": day_by_day(built, zone, since=change.takes_over, left_out=change.left_out),
        "chart": levels_chart(built, zone),
        "draft": token,
        "takes_over": change.takes_over.isoformat(),
        "review_weeks": model.review_weeks or DEFAULT_REVIEW_WEEKS,
        "review_default": model.review_weeks is None,
        "review_passed": built.plan.review_on is not None and built.plan.review_on < _today(context, patient),
    }
    return plan_page(
        context, request, patient, form, status=status, preview=preview, kidney=kidney_data, error=error
    )


def _change_view(change: PlanChange, built: BuiltPlan, today: date) -> dict[str, Any]:
    """How the preview words the change: when the plan starts, the daily dose before and after,
    a rise that needs a reason."""
    when = change.takes_over.strftime(WHEN)
    start = built.plan.start
    if change.current_daily_ug is None:
        starts = f"This plan starts at {when}, its first dose time from now."
    else:
        which = "on its first day" if start > today else "the next dose time"
        starts = (
            f"This plan starts at {when}, {which}. Until then the current plan goes on; "
            "its later doses are cancelled."
        )
    earlier = None
    if start < today:
        day = start.strftime("%a %-d %b" if start.year == today.year else "%a %-d %b %Y")
        earlier = (
            f"It started earlier, on {day}: its doses are planned from {when} on, and nothing "
            "before is counted as missed."
        )
    message = change.rise_message() if change.needs_confirmation else None
    left_out = None
    if change.left_out:
        times = ", ".join(moment.strftime(WHEN) for moment in change.left_out)
        hours = MIN_DOSE_SPACING.total_seconds() / 3600
        left_out = (
            f"Left out: the dose of {times}, less than {hours:g} hours after a dose already taken "
            f"(doses at least {hours:g} hours apart: a Dosewise default [{MIN_DOSE_SPACING_SOURCE}])."
        )
    return {
        "starts": starts,
        "earlier": earlier,
        "left_out": left_out,
        "when": when,
        "before_mg": None if change.current_daily_ug is None else format_mg(change.current_daily_ug),
        "after_mg": format_mg(change.new_daily_ug),
        "needs_confirmation": change.needs_confirmation,
        "message": None if message is None else message[0].upper() + message[1:],
    }


def _save(
    context: AppContext,
    request: Request,
    actor: str,
    patient: PatientAccess,
    model: PlanInput,
    form: dict[str, Any],
    token: str,
    previewed_takeover: str,
    *,
    answers_request: int | None = None,
) -> Response:
    """Save the draft the preview made, exactly: if the form or the start moved since, or the
    draft cannot be read, show the preview of what the form says now instead (nothing stored)."""
    try:
        opened = plans.open_draft(context.settings.secret_key, token, patient_id=patient.patient_id)
        previewed = parse_input(PlanInput, opened.inputs)
    except InputError as error:
        return _preview(context, request, patient, model, form, status=400, error=_sentence(error))
    if previewed.to_request() != model.to_request():
        return _preview(context, request, patient, model, form, status=409, error=CHANGED)
    try:
        built, change = _build(context, patient, previewed)
        plans.check_draft(opened, built, time_zone=patient.time_zone)
    except InputError as error:
        if error.field != "draft":
            return _preview(context, request, patient, model, form)  # says what is wrong now
        return _preview(context, request, patient, model, form, status=409, error=_sentence(error))
    except SafetyRefusal as refusal:
        return _refused(context, request, patient, form, refusal)
    if change.takes_over.isoformat() != previewed_takeover:
        return _preview(context, request, patient, model, form, status=409, error=MOVED)
    try:
        plans.save_plan(
            context.engine,
            patient_id=patient.patient_id,
            built=built,
            time_zone=patient.time_zone,
            now=context.now(),
            actor=actor,
            caller=patient,
            takes_over=change.takes_over,
            confirm_rise=model.confirm_rise,
            reason=model.reason,
            answers_request=answers_request,
        )
    except RiseNeedsConfirmation:  # the preview says why at length; the field says what to do
        missing = InputError("say why the daily dose rises this much (it is recorded)", field="confirm_rise")
        return _preview(context, request, patient, model, form, status=422, error=missing)
    except InputError as error:
        return _preview(context, request, patient, model, form, status=400, error=error)
    if answers_request is not None:
        from dosewise.services.review_requests import request_url

        return RedirectResponse(
            request_url(patient.patient_id, answers_request) + "?done=plan", status_code=303
        )
    return RedirectResponse(f"/patients/{patient.patient_id}/today?done=plan", status_code=303)


def _sentence(error: DosewiseError) -> str:
    text = str(error)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.post("/patients/{patient_id}/plans/{plan_id}/confirm")
def confirm(plan_id: Id, request: Request, context: Ctx, user: User, patient: Patient) -> Response:
    """A linked clinician confirms a plan the patient entered (403 for anyone else)."""
    plans.confirm_plan(
        context.engine,
        patient_id=patient.patient_id,
        plan_id=plan_id,
        now=context.now(),
        actor=user.actor,
        caller=patient,
    )
    return RedirectResponse(f"/patients/{patient.patient_id}/plans?done=confirmed", status_code=303)


def day_by_day(
    built: BuiltPlan, zone: ZoneInfo, *, since: datetime | None = None, left_out: tuple[datetime, ...] = ()
) -> list[tuple[date, list[tuple[str, float, str]]]]:
    """The first days of the plan from ``since`` (when it takes over): (date, [(clock, mg, how)])."""
    from dosewise.domain.schedule import build_dose_events

    first = None if since is None else since.astimezone(zone).date()
    until = (first or built.plan.start) + timedelta(days=SCHEDULE_DAYS)
    days: dict[date, list[tuple[str, float, str]]] = {}
    for event in build_dose_events(built.plan, built.times, zone, since=first, until=until):
        if (since is not None and event.at < since) or event.at in left_out:
            continue  # before the takeover, or left out by the spacing rule (as Save does)
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

    plan = built.plan
    # an open-ended plan's last step (12 weeks of maintenance) is drawn for a week: steady by then
    last_day = plan.steps[-1].start + timedelta(days=CHART_LAST_STEP_DAYS - 1) if plan.open_ended else None
    levels = planned_levels(plan, built.times, zone, last_day=last_day)
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
