"""The JSON API under /api/: the same use cases as the pages, signed in the same way.

Sign in with ``POST /api/session`` (it sets the session cookie and returns the CSRF token);
send that token in the ``X-CSRF-Token`` header with every POST and DELETE. Plans, advice and
checks come back in the same JSON as the CLI's ``--json``, with their sources and disclaimer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from dosewise.domain.adherence import Slot
from dosewise.errors import InputError
from dosewise.exporters.guidance_json import profile_to_dict
from dosewise.exporters.safety_json import interactions_to_dict, missed_dose_to_dict, triage_to_dict
from dosewise.services import access, auth, doses, medicines, missed_doses, notes, plans, symptoms, triage
from dosewise.services import patients as patient_service
from dosewise.services.access import PatientAccess
from dosewise.services.auth import CurrentUser
from dosewise.services.inputs import (
    PLAN_INPUT_FIELDS,
    CorrectionInput,
    DoseInput,
    MedicineInput,
    MissedInput,
    NoteInput,
    PlanCommit,
    PlanInput,
    ProfileInput,
    SymptomsInput,
    TriageInput,
    parse_input,
)
from dosewise.services.plans import BuiltPlan
from dosewise.web.context import (
    SESSION_COOKIE,
    AppContext,
    Ctx,
    Id,
    Patient,
    User,
    clear_session_cookie,
)
from dosewise.web.routes.auth import signed_in, start_session


class Problem(BaseModel):
    detail: str | list[Any]
    field: str | None = Field(default=None, description="a JSON pointer to the input to fix, e.g. /weight_kg")
    overridable: bool | None = None


router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        400: {"description": "The input cannot be used: the detail says what to fix", "model": Problem},
        401: {"description": "Sign in first", "model": Problem},
        403: {"description": "Not allowed (or the CSRF token is missing)", "model": Problem},
        404: {"description": "Not found, or not yours to see", "model": Problem},
        409: {"description": "Contradicts what is stored", "model": Problem},
        422: {"description": "Invalid request, or refused for safety", "model": Problem},
        429: {"description": "Too many failed sign-ins: wait, then try again", "model": Problem},
    },
)
Mg = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    id: int
    email: str
    display_name: str
    role: Literal["patient", "caregiver", "clinician", "admin"]
    verified: bool | None = Field(
        default=None,
        description="a clinician: whether an administrator verified the account (the clinician powers "
        "need it); null for other roles",
    )


class SignedIn(BaseModel):
    user: Me
    csrf_token: str


class PatientOut(BaseModel):
    id: int
    name: str
    time_zone: str
    relation: Literal["owner", "caregiver", "clinician"]
    verified: bool | None = Field(
        default=None, description="relation clinician: whether your clinician account is verified"
    )


class AccessOut(BaseModel):
    grant_id: int
    name: str
    email: str
    role: Literal["caregiver", "clinician"]
    since: datetime
    verified: bool | None = Field(
        default=None,
        description="a clinician: whether an administrator verified the account (unverified: no override, "
        "their plans wait for a verified clinician's confirmation); null for caregivers",
    )


class DoseOut(BaseModel):
    slot_id: Id
    due_at: datetime
    dose_mg: float
    how: str
    state: Literal["on_time", "late", "skipped", "missed", "due", "upcoming"]
    taken_at: datetime | None


class Overdue(BaseModel):
    dose: DoseOut
    advice: dict[str, Any]


class RoutineOut(BaseModel):
    """Where the plan stands besides the doses."""

    kind: str | None = Field(description="the plan in force (null: none yet)")
    stopped: bool = Field(description="a finished taper: no more doses")
    stop_date: date | None = Field(description="a taper: the first day without the drug")
    review_on: date | None = Field(description="review the plan with the prescriber by then")
    new_plan_at: datetime | None = Field(
        description="a new plan takes over then; until then the current doses"
    )
    no_dose_hours: int | None = Field(
        default=None,
        description="24 h or more without a dose recorded: do not simply restart, contact the prescriber",
    )


class TodayOut(BaseModel):
    now: datetime
    doses: list[DoseOut]
    overdue: list[Overdue]
    next_dose: DoseOut | None
    routine: RoutineOut


class RecordState(BaseModel):
    status: Literal["taken", "late", "skipped"] | None = Field(description="null: nothing recorded")
    taken_at: datetime | None


class Corrected(BaseModel):
    slot_id: Id
    due_at: datetime
    before: RecordState
    after: RecordState
    changed: bool = Field(description="false: the record already said this (nothing stored)")
    message: str


class DoseRecorded(BaseModel):
    slot_id: Id
    status: Literal["taken", "late", "skipped"]
    taken_at: datetime | None
    created: bool


class Created(BaseModel):
    id: int


class MedicineOut(BaseModel):
    id: int
    name: str


class MedicinesOut(BaseModel):
    medicines: list[MedicineOut]
    interactions: dict[str, Any] | None


class PlanSaved(BaseModel):
    plan_id: int
    plan: dict[str, Any]
    takes_over: datetime | None = Field(default=None, description="when its doses began or begin (UTC)")
    entered_as: str | None = Field(
        default=None,
        description="who entered it: patient, clinician (verified) or unverified (a clinician whose account "
        "was not verified: it waits for a verified clinician's confirmation, like the patient's entry)",
    )
    confirmed_at: datetime | None = Field(default=None, description="a clinician confirmed it (UTC)")
    reason: str | None = Field(default=None, description="why it changed, if given")


def _saved(stored: plans.StoredPlan) -> PlanSaved:
    def utc(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.replace(tzinfo=UTC)

    return PlanSaved(
        plan_id=stored.plan_id,
        plan=stored.data,
        takes_over=utc(stored.takes_over_at),
        entered_as=stored.entered_as,
        confirmed_at=utc(stored.confirmed_at),
        reason=stored.reason,
    )


def _me(user: CurrentUser) -> Me:
    return Me(
        id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        verified=user.verified if user.role == "clinician" else None,
    )


@router.post("/session", response_model=SignedIn)
def sign_in(body: SignIn, request: Request, context: Ctx) -> JSONResponse:
    session = start_session(context, request, body.email, body.password)
    user = auth.session_user(
        context.engine, token=session.token, now=context.now(), policy=context.settings.session_policy
    )
    if user is None:  # the session was just made
        raise InputError("sign-in failed: try again")
    response = JSONResponse(SignedIn(user=_me(user), csrf_token=session.csrf_token).model_dump(mode="json"))
    signed_in(context, request, response, session)
    return response


@router.delete("/session", status_code=204)
def sign_out(request: Request, context: Ctx, user: User) -> Response:
    token = context.signer.unsign(request.cookies.get(SESSION_COOKIE, "")).decode()
    auth.sign_out(context.engine, token=token)
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.get("/me")
def me(user: User) -> Me:
    return _me(user)


@router.get("/patients")
def patients(context: Ctx, user: User) -> list[PatientOut]:
    return [
        PatientOut(
            id=p.patient_id,
            name=p.name,
            time_zone=p.time_zone,
            relation=p.relation,
            verified=p.may_override if p.relation == "clinician" else None,
        )
        for p in access.patients_of(context.engine, user=user)
    ]


@router.get("/patients/{patient_id}/access")
def access_list(context: Ctx, patient: Patient) -> list[AccessOut]:
    """Who can see the patient's diary (the patient's own list), clinicians with ``verified``."""
    patient.require("manage")
    grants, _ = access.list_access(context.engine, patient_id=patient.patient_id, now=context.now())
    return [
        AccessOut(
            grant_id=g.grant_id,
            name=g.user_name,
            email=g.email,
            role="clinician" if g.role == "clinician" else "caregiver",
            since=g.since.replace(tzinfo=UTC),
            verified=g.verified if g.role == "clinician" else None,
        )
        for g in grants
    ]


def _dose(slot: Slot) -> dict[str, Any]:
    """A DoseOut as plain data (the hot paths skip building and re-validating the model)."""
    return {
        "slot_id": slot.slot_id,
        "due_at": slot.due_at,
        "dose_mg": slot.dose_ug / 1000,
        "how": slot.how,
        "state": slot.state,
        "taken_at": slot.taken_at,
    }


def _json(data: Any, status_code: int = 200) -> Response:
    """Plain data as JSON, encoded as pydantic encodes the documented ``response_model``
    (dates as ISO 8601, UTC as "Z") without validating it a second time."""
    return Response(to_json(data), status_code=status_code, media_type="application/json")


@router.get("/patients/{patient_id}/today", response_model=TodayOut)
def today(context: Ctx, patient: Patient) -> Response:
    due, slots = doses.today(context.engine, patient_id=patient.patient_id, now=context.now())
    monograph = due.monograph
    return _json(
        {
            "now": due.now,
            "doses": [_dose(slot) for slot in slots],
            "overdue": [
                {"dose": _dose(s), "advice": missed_dose_to_dict(a, monograph)} for s, a in due.overdue
            ],
            "next_dose": _dose(due.next_dose) if due.next_dose else None,
            "routine": {
                "kind": due.routine.kind,
                "stopped": due.routine.stopped,
                "stop_date": due.routine.stop_date,
                "review_on": due.routine.review_on,
                "new_plan_at": due.routine.new_plan_at,
                "no_dose_hours": None if due.no_dose_hours is None else round(due.no_dose_hours),
            },
        }
    )


@router.post("/patients/{patient_id}/doses/{slot_id}", response_model=DoseRecorded)
def record_dose(body: DoseInput, slot_id: Id, context: Ctx, user: User, patient: Patient) -> Response:
    patient.require("record")
    result = doses.record_dose(
        context.engine,
        patient_id=patient.patient_id,
        slot_id=slot_id,
        status=body.status,
        now=context.now(),
        taken_at=body.taken_at,
        actor=user.actor,
    )
    taken_at = (
        result.taken_at.replace(tzinfo=UTC) if result.taken_at is not None else None
    )  # stored naive UTC
    return _json(
        {"slot_id": result.slot_id, "status": result.status, "taken_at": taken_at, "created": result.created}
    )


def _correct(
    context: AppContext, user: CurrentUser, patient: PatientAccess, slot_id: int, body: CorrectionInput
) -> Response:
    """A correction by the patient or a caregiver (doses due in the last 48 hours, a Dosewise
    default) or by the patient's clinician (any dose; a clinician corrects, never ticks off)."""
    clinician = patient.relation == "clinician"
    if not clinician:
        patient.require("record")
    now = context.now()
    result = doses.correct_dose(
        context.engine,
        patient_id=patient.patient_id,
        slot_id=slot_id,
        change=body.change,
        taken_at=body.taken_at,
        now=now,
        actor=user.actor,
        any_time=patient.may_override,  # a verified clinician corrects any dose
        may_record=patient.can("record"),
    )
    return _json(
        {
            "slot_id": result.slot_id,
            "due_at": result.due_at,
            "before": {"status": result.before, "taken_at": result.before_taken_at},
            "after": {"status": result.after, "taken_at": result.after_taken_at},
            "changed": result.changed,
            "message": result.describe(now),
        }
    )


@router.post("/patients/{patient_id}/doses/{slot_id}/correction", response_model=Corrected)
def correct_dose(body: CorrectionInput, slot_id: Id, context: Ctx, user: User, patient: Patient) -> Response:
    """Correct a dose's record: ``undo`` it, or say it was ``taken`` (at ``taken_at``) or
    ``skipped``; a missed dose marked taken gets its one record. Audited with before and after."""
    return _correct(context, user, patient, slot_id, body)


@router.delete("/patients/{patient_id}/doses/{slot_id}", response_model=Corrected)
def undo_dose(slot_id: Id, context: Ctx, user: User, patient: Patient) -> Response:
    """Undo a dose's record (the dose is then due or missed again by the usual rule); audited."""
    return _correct(context, user, patient, slot_id, CorrectionInput(change="undo"))


@router.get("/patients/{patient_id}/doses/{slot_id}/missed")
def missed_slot(slot_id: Id, context: Ctx, patient: Patient) -> dict[str, Any]:
    """The missed-dose advice for one dose due in the last 24 hours (the advice Today gives)."""
    answer = missed_doses.advise_missed_from_diary(
        context.engine, patient_id=patient.patient_id, slot_id=slot_id, now=context.now()
    )
    return missed_dose_to_dict(answer.advice, answer.monograph)


@router.post("/patients/{patient_id}/symptoms", status_code=201)
def record_symptoms(body: SymptomsInput, context: Ctx, user: User, patient: Patient) -> Created:
    patient.require("record")
    entry = symptoms.record_symptoms(
        context.engine,
        patient_id=patient.patient_id,
        now=context.now(),
        **body.to_entry(),
        actor=user.actor,
    )
    return Created(id=entry)


@router.post("/patients/{patient_id}/notes", status_code=201)
def add_note(body: NoteInput, context: Ctx, user: User, patient: Patient) -> Created:
    patient.require("note")
    note = notes.add_note(
        context.engine,
        patient_id=patient.patient_id,
        text=body.text,
        now=context.now(),
        actor=user.actor,
        author=f"{user.display_name} ({'patient' if patient.relation == 'owner' else patient.relation})",
    )
    return Created(id=note)


def _medicines(context: AppContext, patient: PatientAccess) -> MedicinesOut:
    check = medicines.medicine_interactions(context.engine, patient_id=patient.patient_id, now=context.now())
    return MedicinesOut(
        medicines=[MedicineOut(id=i, name=n) for i, n in check.medicines],
        interactions=interactions_to_dict(check.report, check.monograph)
        if check.report is not None
        else None,
    )


@router.get("/patients/{patient_id}/medicines")
def list_medicines(context: Ctx, patient: Patient) -> MedicinesOut:
    return _medicines(context, patient)


@router.post("/patients/{patient_id}/medicines")
def add_medicine(body: MedicineInput, context: Ctx, user: User, patient: Patient) -> MedicinesOut:
    patient.require("record")
    medicines.add_medicine(
        context.engine, patient_id=patient.patient_id, name=body.name, now=context.now(), actor=user.actor
    )
    return _medicines(context, patient)


@router.delete("/patients/{patient_id}/medicines/{medicine_id}")
def stop_medicine(medicine_id: Id, context: Ctx, user: User, patient: Patient) -> MedicinesOut:
    patient.require("record")
    medicines.stop_medicine(
        context.engine,
        patient_id=patient.patient_id,
        medicine_id=medicine_id,
        now=context.now(),
        actor=user.actor,
    )
    return _medicines(context, patient)


@router.get("/patients/{patient_id}/alternatives")
def compare_alternatives(
    context: Ctx,
    patient: Patient,
    drug: Annotated[
        list[str] | None, Query(description="a treatment to show, repeatable (default: all)")
    ] = None,
    liver: Annotated[
        Literal["none", "mild", "moderate", "severe"] | None,
        Query(description='a "what if" over the liver disease in About me (default: About me\'s answer)'),
    ] = None,
) -> dict[str, Any]:
    """Other treatments compared for this patient (kidney function of the plan or dialysis,
    medicines taken now, pregnancy and liver disease from About me), every fact with its source
    key and the label's wording: information, not a switch. ``situation.liver_from`` says whether
    the liver answer is About me's or the ``liver`` given ("what_if"). Cautions of topic
    ``baclofen``: the treatment with the baclofen the patient takes (the baclofen monograph's
    interaction table and keys)."""
    from dosewise.exporters.compare_json import comparison_to_dict
    from dosewise.services.alternatives import compare_for_patient

    result = compare_for_patient(
        context.engine, patient_id=patient.patient_id, now=context.now(), drugs=drug or (), liver=liver
    )
    return comparison_to_dict(result)


@router.post("/patients/{patient_id}/triage")
def triage_symptoms(body: TriageInput, context: Ctx, user: User, patient: Patient) -> dict[str, Any]:
    """The guided triage: answers to the danger questions, symptoms, one's own words. The result
    is kept in the diary (``result_id``) for the patient, caregivers and clinicians."""
    result = triage.triage_patient(
        context.engine,
        patient_id=patient.patient_id,
        symptoms=body.texts(),
        now=context.now(),
        actor=user.actor,
        answers=body.answers(),
        amount=body.amount,
    )
    data = triage_to_dict(
        result.result,
        result.monograph,
        unrecognised_medicines=result.unrecognised_medicines,
        emergency=result.emergency,
    )
    data["result_id"] = result.result_id
    return data


@router.post("/patients/{patient_id}/missed")
def missed(body: MissedInput, context: Ctx, user: User, patient: Patient) -> dict[str, Any]:
    answer = missed_doses.advise_missed_from_diary(
        context.engine,
        patient_id=patient.patient_id,
        missed=body.clock(),
        now=context.now(),
    )
    return missed_dose_to_dict(answer.advice, answer.monograph)


def _build(body: PlanInput, patient: PatientAccess, context: AppContext) -> BuiltPlan:
    patient.require("plan")
    today = context.now().astimezone(ZoneInfo(patient.time_zone)).date()
    try:
        return plans.build_plan(body.to_request(), caller=patient, today=today)
    except InputError as error:  # point at the body's own field (scr, not scr_umol_l)
        error.field = PLAN_INPUT_FIELDS.get(error.field or "", error.field)
        raise


def _change(change: plans.PlanChange) -> dict[str, Any]:
    return {
        "takes_over": change.takes_over.isoformat(),
        "daily_mg_before": None if change.current_daily_ug is None else change.current_daily_ug / 1000,
        "daily_mg_after": change.new_daily_ug / 1000,
        "needs_confirmation": change.needs_confirmation,
        "message": change.rise_message() if change.needs_confirmation else None,
    }


@router.post("/patients/{patient_id}/plans/preview")
def preview_plan(body: PlanInput, context: Ctx, patient: Patient) -> dict[str, Any]:
    """The plan the body makes, how it would take over, and a ``draft`` that
    ``POST .../plans/commit`` saves exactly as shown."""
    built = _build(body, patient, context)
    change = plans.plan_change(
        context.engine,
        patient_id=patient.patient_id,
        built=built,
        time_zone=patient.time_zone,
        now=context.now(),
    )
    draft = plans.seal_draft(
        context.settings.secret_key,
        patient_id=patient.patient_id,
        inputs=body.plan_inputs(),
        built=built,
        time_zone=patient.time_zone,
    )
    return {**plans.plan_view(built, time_zone=patient.time_zone), "change": _change(change), "draft": draft}


def _save(
    built: BuiltPlan,
    context: AppContext,
    user: CurrentUser,
    patient: PatientAccess,
    confirm_rise: str | None,
    reason: str | None,
) -> PlanSaved:
    plans.save_plan(
        context.engine,
        patient_id=patient.patient_id,
        built=built,
        time_zone=patient.time_zone,
        now=context.now(),
        actor=user.actor,
        caller=patient,
        confirm_rise=confirm_rise,
        reason=reason,
    )
    saved = plans.current_plan(context.engine, patient_id=patient.patient_id)
    assert saved is not None
    return _saved(saved)


@router.post("/patients/{patient_id}/plans", status_code=201)
def save_plan(body: PlanInput, context: Ctx, user: User, patient: Patient) -> PlanSaved:
    """Save the plan the body describes at once (what is sent is what is saved)."""
    return _save(_build(body, patient, context), context, user, patient, body.confirm_rise, body.reason)


@router.post("/patients/{patient_id}/plans/commit", status_code=201)
def commit_plan(body: PlanCommit, context: Ctx, user: User, patient: Patient) -> PlanSaved:
    """Save exactly the plan a preview showed (its ``draft``)."""
    patient.require("plan")
    draft = plans.open_draft(context.settings.secret_key, body.draft, patient_id=patient.patient_id)
    inputs = parse_input(PlanInput, draft.inputs)
    built = _build(inputs, patient, context)
    plans.check_draft(draft, built, time_zone=patient.time_zone)
    return _save(built, context, user, patient, body.confirm_rise, body.reason)


@router.post("/patients/{patient_id}/plans/{plan_id}/confirm")
def confirm_plan(plan_id: Id, context: Ctx, user: User, patient: Patient) -> PlanSaved:
    """A linked clinician confirms a plan the patient entered."""
    plans.confirm_plan(
        context.engine,
        patient_id=patient.patient_id,
        plan_id=plan_id,
        now=context.now(),
        actor=user.actor,
        caller=patient,
    )
    saved = plans.current_plan(context.engine, patient_id=patient.patient_id)
    assert saved is not None
    return _saved(saved)


@router.get("/patients/{patient_id}/plan")
def current_plan(context: Ctx, patient: Patient) -> PlanSaved:
    from dosewise.errors import NotFound

    plan = plans.current_plan(context.engine, patient_id=patient.patient_id)
    if plan is None:
        raise NotFound("no plan yet")
    return _saved(plan)


@router.get("/patients/{patient_id}/benefit")
def benefit(context: Ctx, patient: Patient) -> dict[str, Any]:
    """The benefit review (baclofen.md section 10): the spasm (Penn) and stiffness scores after
    6 weeks at a stable dose against the 2 weeks before titration; ``flag`` true: "no clear
    benefit after N weeks at D mg/day: consider a slow withdrawal", or, when those 2 weeks were
    already on baclofen, "no added benefit ... over D0 mg/day: consider returning to the lower
    dose" (Dosewise's reading), for the clinician to weigh; ``not_assessable`` when the baseline
    cannot show a benefit. Also whether side effects rose with each titration step. It never
    changes the plan."""
    from dosewise.exporters.benefit_json import benefit_to_dict
    from dosewise.services.benefit import review_patient_benefit

    return benefit_to_dict(
        review_patient_benefit(context.engine, patient_id=patient.patient_id, now=context.now())
    )


FHIR_JSON = {"application/fhir+json": {"schema": {"type": "object"}}}


@router.get(
    "/patients/{patient_id}/fhir",
    response_class=Response,
    responses={200: {"description": "A page of the diary: a FHIR R4 searchset Bundle", "content": FHIR_JSON}},
)
def fhir(
    request: Request,
    context: Ctx,
    patient: Patient,
    count: Annotated[
        str | None, Query(alias="_count", description="entries a page (1-1000, default 100)")
    ] = None,
    dates: Annotated[
        list[str] | None, Query(alias="date", description="a day with a prefix: ge2026-01-01, lt2027-01-01")
    ] = None,
    start: Annotated[str | None, Query(description="the first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(description="the last day, YYYY-MM-DD")] = None,
    page_token: Annotated[str | None, Query(alias="_page", description="a page, from a link")] = None,
) -> Response:
    """The diary as FHIR R4, a page at a time: a ``searchset`` Bundle of ``_count`` entries
    (default 100, at most 1000), optionally of a date range (``date=ge2026-01-01&date=lt2027-01-01``,
    or ``start``/``end``: the first and last day), with ``self``, ``first``, ``previous`` and
    ``next`` links. The whole diary in one Bundle is the download (``/patients/{id}/export/fhir.json``)."""
    patient.require("export")
    from dosewise.services import fhir as fhir_service

    given = {"_count": count, "start": start, "end": end, "_page": page_token}
    query = fhir_service.parse_fhir_query(
        {"date": dates or [], **{key: [value] for key, value in given.items() if value is not None}}
    )

    def link(token: str | None) -> str:
        url = request.url.remove_query_params("_page")
        return str(url if token is None else url.include_query_params(_page=token))

    page = fhir_service.fhir_page(
        context.engine, patient_id=patient.patient_id, now=context.now(), query=query, link=link
    )
    return Response(page, media_type="application/fhir+json")


def _profile(profile: patient_service.PatientProfile) -> dict[str, Any]:
    return profile_to_dict(
        profile.as_dict(),
        dict(patient_service.country_choices()).get(profile.country or ""),
        profile.emergency,
        patient_service.advice_for_profile(profile),
        patient_service.patient_guidance(),
    )


@router.get("/patients/{patient_id}/profile")
def profile(context: Ctx, patient: Patient) -> dict[str, Any]:
    """About me: the country (ISO alpha-2) and its emergency number, pregnant, breastfeeding,
    epilepsy, liver disease, and the advice for those conditions with its sources."""
    return _profile(patient_service.patient_profile(context.engine, patient_id=patient.patient_id))


@router.put("/patients/{patient_id}/profile")
def set_profile(body: ProfileInput, context: Ctx, user: User, patient: Patient) -> dict[str, Any]:
    """Change About me (the patient or their clinician; audited). A field left out is unchanged;
    ``"country": null`` clears the country."""
    patient.require("profile")
    given = body.model_fields_set
    saved = patient_service.set_patient_profile(
        context.engine,
        patient_id=patient.patient_id,
        now=context.now(),
        actor=user.actor,
        country=body.country if "country" in given else patient_service.KEEP,
        pregnant=body.pregnant,
        breastfeeding=body.breastfeeding,
        epilepsy=body.epilepsy,
        liver=body.liver,
    )
    return _profile(saved)
