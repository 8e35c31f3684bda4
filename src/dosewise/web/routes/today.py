"""Today: the doses due, one tap to mark them, late doses with the missed-dose advice in place,
corrections (undo, change, "I took it at") with their audit trail, where the plan stands; and
"I missed a dose" for any dose time, with the same advice Today gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.domain.adherence import Slot
from dosewise.errors import InputError
from dosewise.exporters.safety_json import missed_dose_to_dict
from dosewise.services import doses, missed_doses, supply
from dosewise.services.access import PatientAccess
from dosewise.services.inputs import CorrectionInput, MissedInput
from dosewise.web.context import AppContext, Ctx, Id, Patient, User, render
from dosewise.web.forms import Submitted, read_form
from dosewise.web.routes.profile import condition_context

router = APIRouter(tags=["pages"], include_in_schema=False)
NOTICES = {
    "taken": "Dose recorded as taken.",
    "late": "Dose recorded as taken late.",
    "skipped": "Dose recorded as skipped.",
    "already": "That dose was already recorded; nothing changed.",
    "plan": "The plan is saved. It takes over at its first dose time; its doses are below.",
    "joined": "You can now see this diary.",
    "unchanged": "The diary already said that; nothing changed.",
}


def may_correct(patient: PatientAccess) -> bool:
    """Patients and caregivers correct recent doses; the patient's clinician any dose (but a
    clinician does not tick off doses: no "record" capability)."""
    return patient.can("record") or patient.relation == "clinician"


def today_page(
    context: AppContext,
    request: Request,
    patient: PatientAccess,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    now = context.now()
    zone = ZoneInfo(patient.time_zone)
    local = now.astimezone(zone)
    due, slots = doses.today(context.engine, patient_id=patient.patient_id, now=now)
    monograph = due.monograph
    advice_of = {slot.slot_id: missed_dose_to_dict(advice, monograph) for slot, advice in due.overdue}
    listed = {slot.slot_id for slot in slots}
    # one card per dose: today's due doses carry their advice in the day's list; only a due
    # dose of an earlier day (last night's, after midnight) gets a card of its own
    overdue = [(slot, advice_of[slot.slot_id]) for slot, _ in due.overdue if slot.slot_id not in listed]
    done = request.query_params.get("done", "")
    notice = NOTICES.get(done)
    if done in ("corrected", "undone"):
        notice = _corrected_notice(
            due.slots, request.query_params.get("slot", ""), local, undone=done == "undone"
        )
    correctable_since = None if patient.may_override else local - doses.CORRECTION_WINDOW
    # the doses of the last 24 hours before today, for corrections (today's are in the day's list)
    earlier = [
        slot
        for slot in due.slots
        if slot.due_at.date() < local.date() and slot.due_at <= local and slot.slot_id not in advice_of
    ]
    return render(
        context,
        request,
        "today.html.j2",
        status=status,
        patient=patient,
        now=local,
        slots=slots,
        act_on_id=_slot_to_act_on(slots),
        earlier=earlier if may_correct(patient) else [],
        overdue=overdue,
        advice_of=advice_of,
        next_dose=due.next_dose,
        next_dose_day=_day_word(due.next_dose.due_at, local) if due.next_dose else None,
        missed_recently=due.missed_recently,
        routine=due.routine,
        no_dose_hours=None if due.routine.stopped else due.no_dose_hours,
        long_gap_source=due.monograph.missed_dose.long_gap_source,
        can_record=patient.can("record"),
        can_correct=may_correct(patient),
        correctable_since=correctable_since,
        correction_hours=round(doses.CORRECTION_WINDOW.total_seconds() / 3600),
        recordable_until=local + doses.EARLY_LIMIT,
        early_limit=doses.EARLY_LIMIT,
        notice=notice,
        error=error,
        supply_status=supply.patient_supply(context.engine, patient_id=patient.patient_id, now=now),
        **condition_context(context, patient),
    )


def _slot_to_act_on(slots: list[Slot]) -> int | None:
    """The dose to act on next: the day's first dose neither recorded nor missed (a phone shows
    it first, with its buttons, above the fold)."""
    return next((s.slot_id for s in slots if s.recorded is None and s.state in ("due", "upcoming")), None)


def _day_word(moment: datetime, now: datetime) -> str:
    """ "today", "tomorrow" or the weekday, for a time soon after ``now``."""
    days = (moment.date() - now.date()).days
    return "today" if days == 0 else "tomorrow" if days == 1 else moment.strftime("%A %-d %B")


def _corrected_notice(slots: tuple[Slot, ...], slot_text: str, now: datetime, *, undone: bool) -> str:
    """ "Corrected: 14:00 dose marked taken at 14:40." (the dose as the diary now says)."""
    slot = next((s for s in slots if str(s.slot_id) == slot_text), None)
    if slot is None:
        return "Corrected."
    if undone:
        when = slot.due_at.strftime("%H:%M" if slot.due_at.date() == now.date() else "%a %d %b %H:%M")
        return f"Corrected: the record of the {when} dose is undone."
    return "Corrected: " + doses.describe_record(slot.due_at, slot.recorded, slot.taken_at, now) + "."


@router.get("/patients/{patient_id}/today")
def today(request: Request, context: Ctx, patient: Patient) -> Response:
    return today_page(context, request, patient)


@router.post("/patients/{patient_id}/doses/{slot_id}")
def record(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    slot_id: Id,
    status: Annotated[Literal["taken", "skipped"], Form()],
    taken_at: Annotated[str, Form()] = "",
) -> Response:
    patient.require("record")
    now = context.now()
    try:
        result = doses.record_dose(
            context.engine,
            patient_id=patient.patient_id,
            slot_id=slot_id,
            status=status,
            now=now,
            taken_at=taken_at.strip() or None,
            actor=user.actor,
        )
    except InputError as error:
        return today_page(context, request, patient, status=400, error=str(error))
    done = result.status if result.created else "already"
    return RedirectResponse(f"/patients/{patient.patient_id}/today?done={done}", status_code=303)


async def _correction_form(request: Request) -> Submitted[CorrectionInput]:
    return await read_form(request, CorrectionInput)


@router.post("/patients/{patient_id}/doses/{slot_id}/correction")
def correct(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    slot_id: Id,
    submitted: Annotated[Submitted[CorrectionInput], Depends(_correction_form)],
) -> Response:
    if not may_correct(patient):
        patient.require("record")
    try:
        if submitted.model is None:
            raise submitted.error or InputError("choose a correction", field="change")
        change = submitted.model.change
        result = doses.correct_dose(
            context.engine,
            patient_id=patient.patient_id,
            slot_id=slot_id,
            change=change,
            # one form holds the time field and every button: the time goes with "taken" only
            taken_at=submitted.model.taken_at if change == "taken" else None,
            now=context.now(),
            actor=user.actor,
            any_time=patient.may_override,  # a verified clinician corrects any dose
            may_record=patient.can("record"),
        )
    except InputError as error:
        return today_page(context, request, patient, status=400, error=str(error))
    done = "unchanged"
    if result.changed:
        done = f"{'undone' if result.after is None else 'corrected'}&slot={result.slot_id}"
    return RedirectResponse(f"/patients/{patient.patient_id}/today?done={done}", status_code=303)


@router.get("/patients/{patient_id}/missed")
def missed_form(request: Request, context: Ctx, patient: Patient) -> Response:
    return render(context, request, "missed.html.j2", patient=patient, advice=None, missed="")


async def _missed_form(request: Request) -> Submitted[MissedInput]:
    return await read_form(request, MissedInput)


@router.post("/patients/{patient_id}/missed")
def missed(
    request: Request,
    context: Ctx,
    user: User,
    patient: Patient,
    submitted: Annotated[Submitted[MissedInput], Depends(_missed_form)],
) -> Response:
    typed = str(submitted.values.get("missed", ""))
    try:
        if submitted.model is None:
            raise InputError("say which dose you missed, as the time it was due (HH:MM)", field="missed")
        answer = missed_doses.advise_missed_from_diary(
            context.engine, patient_id=patient.patient_id, missed=submitted.model.clock(), now=context.now()
        )
    except InputError as error:
        return _missed_error(context, request, patient, typed, str(error))
    data = missed_dose_to_dict(answer.advice, answer.monograph)
    return render(
        context,
        request,
        "missed.html.j2",
        patient=patient,
        advice=data,
        missed=typed,
        slot=answer.slot,
        next_dose=answer.advice.next_dose,
        now=context.now().astimezone(ZoneInfo(patient.time_zone)),
        can_correct=may_correct(patient),
    )


def _missed_error(
    context: AppContext, request: Request, patient: PatientAccess, missed: str, message: str
) -> Response:
    return render(
        context,
        request,
        "missed.html.j2",
        status=400,
        patient=patient,
        advice=None,
        missed=missed,
        error=message,
    )
