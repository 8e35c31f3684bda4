"""Plans: build one from what a person asked for, check who may ask for what, save it.

A :class:`PlanRequest` holds the answers of a plan form, an API body or a plan command's options
as plain values (the web and the API fill it from :class:`dosewise.services.inputs.PlanInput`,
the CLI from its options); :func:`build_plan` checks them and calls the domain builders, which
enforce every limit of the clinical reference. Who may lift a limit (the clinician override) is
checked here too, against the caller's relation to the patient. Imports stay light: the CLI's
``plan`` path goes through here and must start fast.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from dosewise.errors import Conflict, InputError, NotFound, SafetyRefusal
from dosewise.monographs import load_monograph
from dosewise.services.clock import check_date

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Engine

    from dosewise.domain.kidney import KidneyAssessment, Sex
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan
    from dosewise.store.models import PlanRow
    from dosewise.store.plan_codec import PlanRecord

# The plan path of the CLI must start fast (docs/benchmarks.md): everything that reaches the
# database is imported inside the functions that store or read plans.

# Product defaults (issue 12; baclofen.md section 10 asks for a review date, not its length):
# an open-ended plan is reviewed this many weeks after its last step begins; the clinician sets it.
DEFAULT_REVIEW_WEEKS = 12
MAX_REVIEW_WEEKS = 104
# Dose slots of an open-ended plan are made this far ahead, topped up when fewer days are left
# (settings, not clinical numbers: the schedule itself never ends).
SLOTS_AHEAD = timedelta(days=60)
TOP_UP_WHEN = timedelta(days=21)
# Doses at least domain.schedule.MIN_DOSE_SPACING apart (baclofen.md section 10, a product
# default [DOSEWISE], one constant): plans warn below it (domain.schedule.check_dose_times), and
# no new slot is offered this close to a dose already taken when a plan takes over. Imported
# where it is used: the domain's schedule module stays off the `kidney` command's start-up path.
PLAN_KINDS = ("titration", "maintenance", "taper", "clinician")
# Who entered a plan (plans.entered_as): "clinician" is a verified clinician; the patient's entry
# and that of a clinician whose account is not verified yet ("unverified", issue 15) wait for a
# verified clinician to confirm them.
AWAITING_CONFIRMATION = ("patient", "unverified")
NOT_VERIFIED = (
    "your clinician account is not verified yet: an administrator of this Dosewise installation "
    "verifies clinicians; until then you cannot {what}"
)
KidneyWay = Literal["none", "crcl", "creatinine", "dialysis"]


class Caller(Protocol):
    """Who asks for a plan, as far as plans care (``PatientAccess`` on the web)."""

    @property
    def may_override(self) -> bool: ...

    @property
    def relation(self) -> str: ...


class RiseNeedsConfirmation(SafetyRefusal):
    """The new plan raises the daily dose by more than a step may: it is saved only with an
    explicit confirmation and a reason (audited)."""

    field = "confirm_rise"


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyInput:
    """Kidney function, given at most one way: a measured CrCl, dialysis, or serum creatinine.

    ``way`` is what the person chose (a form's radio button); when it is given, the values must
    match it, so a ticked choice with its field left empty is an error, never a full-dose plan.
    """

    way: KidneyWay | None = None
    crcl_ml_min: float | None = None
    dialysis: bool = False
    scr_mg_dl: float | None = None
    scr_umol_l: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRequest:
    kind: str  # one of PLAN_KINDS
    drug: str = "baclofen"
    target_mg_day: float | None = None  # titration
    mg_day: float | None = None  # maintenance
    from_mg_day: float | None = None  # taper
    steps: tuple[str, ...] = ()  # clinician-entered, "DAYS:MG,MG,MG" each
    review_weeks: int | None = None  # open-ended plans: review after this (DEFAULT_REVIEW_WEEKS)
    min_days: int | None = None  # taper
    doses_per_day: int = 3
    times: str | None = None  # "08:00,14:00,20:00"
    start: date | None = None  # None: today (build_plan's ``today``)
    started_earlier: bool = False  # a start before today is explicit: the plan is already under way
    products: tuple[str, ...] = ()
    kidney: KidneyInput = KidneyInput()
    age_years: float | None = None
    sex: Sex | None = None
    weight_kg: float | None = None
    clinician_override: bool = False
    # the clinician also confirms a plan above the kidney-adjusted maximum (80 mg/day x the band
    # factor), up to 120 x the factor, with the override only (baclofen.md section 10) [CHEONG20]
    above_kidney_max: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltPlan:
    plan: Plan
    monograph: Monograph
    times: tuple[time, ...]


@contextmanager
def about(field: str) -> Iterator[None]:
    """Errors raised inside are about ``field`` unless they already name one."""
    try:
        yield
    except InputError as error:
        if error.field is None:
            error.field = field
        raise


def check_override(request: PlanRequest, caller: Caller | None) -> None:
    """Only the patient's own clinician may lift a limit (the override, and going above the
    kidney-adjusted maximum). ``caller`` None is the local CLI, where the person at the keyboard
    answers for ``--clinician-override`` themselves."""
    if caller is None or caller.may_override:
        return
    unverified = caller.relation == "clinician"  # the patient's clinician, not verified yet
    if request.clinician_override and unverified:
        raise InputError(NOT_VERIFIED.format(what="override a limit"), field="clinician_override")
    if request.above_kidney_max and unverified:
        raise InputError(
            NOT_VERIFIED.format(what="plan above the kidney-adjusted maximum"), field="above_kidney_max"
        )
    if request.clinician_override:
        raise InputError("only the patient's clinician can override a limit", field="clinician_override")
    if request.above_kidney_max:
        raise InputError(
            "only the patient's clinician can plan above the kidney-adjusted maximum",
            field="above_kidney_max",
        )


def build_plan(request: PlanRequest, *, caller: Caller | None = None, today: date | None = None) -> BuiltPlan:
    """The plan the request describes, or InputError / SafetyRefusal saying what to change.

    ``today`` is the patient's date when the plan is for their diary: a start before it must
    be explicit (``started_earlier``), and no start means today.
    """
    from dataclasses import replace

    if request.kind not in PLAN_KINDS:
        raise InputError(f"a plan is one of {', '.join(PLAN_KINDS)}", field="kind")
    check_override(request, caller)
    start = request.start or today
    if start is None:
        raise InputError("say the first day of the plan", field="start")
    check_date(start)
    if today is not None and start < today and not request.started_earlier:
        raise InputError(
            f"the first day {start.isoformat()} is in the past: if the patient is already on this plan, "
            "say that it started earlier (its doses are then planned from now on, never counted as "
            "missed before it was entered); otherwise start it today or later",
            field="start",
        )
    review_weeks = DEFAULT_REVIEW_WEEKS if request.review_weeks is None else request.review_weeks
    if not 1 <= review_weeks <= MAX_REVIEW_WEEKS:
        raise InputError(f"the review is 1 to {MAX_REVIEW_WEEKS} weeks away", field="review_weeks")
    from dosewise.domain.schedule import add_dose_time_findings

    built = _build(replace(request, start=start), review_weeks)
    plan = add_dose_time_findings(built.plan, built.times)
    built = replace(built, plan=plan)
    if plan.open_ended:
        review_on = plan.steps[-1].start + timedelta(weeks=review_weeks)
        built = replace(built, plan=replace(plan, review_on=review_on))
    return built


def _build(request: PlanRequest, review_weeks: int) -> BuiltPlan:
    from dosewise.domain.plan import check_doses_per_day
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times

    assert request.start is not None
    monograph = load_monograph(request.drug)
    doses_per_day = request.doses_per_day
    steps = None
    if request.kind == "clinician":
        from dosewise.domain.regimen import parse_step_spec

        if not request.steps:
            raise InputError(
                "a clinician-entered plan needs at least one step, DAYS:DOSE,DOSE,DOSE", field="steps"
            )
        steps = [parse_step_spec(text) for text in request.steps]
        doses_per_day = len(steps[0].doses_mg)
    check_doses_per_day(monograph.titration, doses_per_day)
    with about("times"):
        clock_times = parse_clock_times(request.times, doses_per_day)
    with about("products"):
        products = parse_product_specs(list(request.products), monograph)
    start = request.start
    if request.kind == "taper":
        from dosewise.domain.taper import build_taper

        with about("from_mg_day"):
            taper = build_taper(
                monograph,
                from_daily_mg=_required(
                    request.from_mg_day, "the current daily dose (mg) to taper from", "from_mg_day"
                ),
                products=products,
                start=start,
                doses_per_day=doses_per_day,
                min_days=request.min_days,
            )
        return BuiltPlan(plan=taper, monograph=monograph, times=clock_times)
    patient: dict[str, Any] = {
        "kidney": assess_kidney(monograph, request),
        "age_years": request.age_years,
        "weight_kg": request.weight_kg,
        "clinician_override": request.clinician_override,
        "above_kidney_max": request.above_kidney_max,
    }
    if request.kind == "maintenance":
        from dosewise.domain.regimen import build_maintenance

        plan = build_maintenance(
            monograph,
            daily_mg=_required(request.mg_day, "the daily dose (mg)", "mg_day"),
            products=products,
            start=start,
            days=review_weeks * 7,
            doses_per_day=doses_per_day,
            **patient,
        )
    elif steps is not None:
        from dosewise.domain.regimen import build_clinician_schedule

        with about("steps"):
            plan = build_clinician_schedule(monograph, steps=steps, products=products, start=start, **patient)
    else:
        from dosewise.domain.titration import build_titration

        plan = build_titration(
            monograph,
            target_daily_mg=_required(request.target_mg_day, "the target daily dose (mg)", "target_mg_day"),
            products=products,
            start=start,
            doses_per_day=doses_per_day,
            **patient,
        )
    return BuiltPlan(plan=plan, monograph=monograph, times=clock_times)


def assess_kidney(monograph: Monograph, request: PlanRequest) -> KidneyAssessment | None:
    """The kidney band from the one way kidney function was given, or None if it was not."""
    from dosewise.domain.kidney import assess_creatinine_clearance, assess_dialysis, assess_kidney_function

    kidney = _chosen_kidney(request.kidney)
    if kidney.crcl_ml_min is not None:
        with about("crcl_ml_min"):
            return assess_creatinine_clearance(monograph.kidney, kidney.crcl_ml_min)
    if kidney.dialysis:
        return assess_dialysis(monograph.kidney)
    if kidney.scr_mg_dl is None and kidney.scr_umol_l is None:
        return None
    age, sex, weight = request.age_years, request.sex, request.weight_kg
    needed = (("age", age, "age_years"), ("sex", sex, "sex"), ("weight", weight, "weight_kg"))
    missing = [(name, field) for name, value, field in needed if value is None]
    if age is None or sex is None or weight is None:
        names = ", ".join(name for name, _ in missing)
        raise InputError(f"serum creatinine also needs {names} for Cockcroft-Gault", field=missing[0][1])
    return assess_kidney_function(
        monograph.kidney,
        age_years=age,
        sex=sex,
        weight_kg=weight,
        scr_mg_dl=kidney.scr_mg_dl,
        scr_umol_l=kidney.scr_umol_l,
    )


def _chosen_kidney(kidney: KidneyInput) -> KidneyInput:
    """The kidney input, checked against the way chosen (or the one way it was given)."""
    labs = kidney.scr_mg_dl is not None or kidney.scr_umol_l is not None
    if kidney.way is None:
        ways = (
            ("CrCl", kidney.crcl_ml_min is not None),
            ("dialysis", kidney.dialysis),
            ("serum creatinine", labs),
        )
        given = [name for name, on in ways if on]
        if len(given) > 1:
            raise InputError(f"give kidney function one way, not {' and '.join(given)}", field="kidney_way")
        return kidney
    values = {
        "crcl": ("crcl_ml_min", "the creatinine clearance", kidney.crcl_ml_min is not None),
        "creatinine": ("scr_umol_l", "the serum creatinine", labs),
        "dialysis": ("kidney_way", "dialysis", kidney.dialysis),
    }
    chosen = {"crcl": "“I know the CrCl”", "creatinine": "“from serum creatinine”", "dialysis": "dialysis"}
    for way, (field, what, on) in values.items():
        if on and kidney.way not in (way, "none"):
            raise InputError(
                f"{what} is filled in but kidney function is given as {chosen.get(kidney.way, kidney.way)}: "
                "clear it, or choose the way it belongs to",
                field=field,
            )
    if kidney.way == "crcl" and kidney.crcl_ml_min is None:
        raise InputError(
            "give the creatinine clearance in mL/min, or choose another way", field="crcl_ml_min"
        )
    if kidney.way == "creatinine" and not labs:
        raise InputError("give the serum creatinine, or choose another way", field="scr_umol_l")
    if kidney.way == "none" and (kidney.crcl_ml_min is not None or labs or kidney.dialysis):
        raise InputError(
            "kidney function is filled in but “normal or not known” is chosen: choose how it is given, "
            "or clear the values",
            field="kidney_way",
        )
    return KidneyInput(
        crcl_ml_min=kidney.crcl_ml_min if kidney.way == "crcl" else None,
        dialysis=kidney.way == "dialysis",
        scr_mg_dl=kidney.scr_mg_dl if kidney.way == "creatinine" else None,
        scr_umol_l=kidney.scr_umol_l if kidney.way == "creatinine" else None,
    )


def _required(value: float | None, what: str, field: str) -> float:
    if value is None:
        raise InputError(f"say {what}", field=field)
    return value


def review_is_default(plan: Plan) -> bool:
    """The plan's review date is the Dosewise default (so every output can say it is one)."""
    return plan.review_on is not None and plan.review_on == plan.steps[-1].start + timedelta(
        weeks=DEFAULT_REVIEW_WEEKS
    )


def plan_view(built: BuiltPlan, *, time_zone: str) -> dict[str, Any]:
    """The plan as the pages, the API and ``--json`` show it (free to change: a view)."""
    from dosewise.exporters.plan_json import plan_to_dict

    return plan_to_dict(built.plan, built.monograph, times=built.times, time_zone=time_zone)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChange:
    """How a new plan takes over from the one in force: when, the daily dose before and after,
    the new doses left out by the spacing rule, and a rise above the step limit (at the change
    or between two of its steps), which needs a confirmation with a reason."""

    takes_over: datetime  # aware, on the patient's clock: the next dose time from now
    current_daily_ug: int | None  # None: no plan in force
    new_daily_ug: int
    rise_limit_ug: int
    rise_source: str
    left_out: tuple[datetime, ...] = ()  # aware: new doses not made (a dose was taken < 3 h before)
    step_rise: tuple[int, int] | None = None  # (from, to) µg/day: a rise above the limit between steps

    @property
    def rise_ug(self) -> int:
        return 0 if self.current_daily_ug is None else self.new_daily_ug - self.current_daily_ug

    @property
    def needs_confirmation(self) -> bool:
        return self.rise_ug > self.rise_limit_ug or self.step_rise is not None

    def rise_message(self) -> str:
        from dosewise.domain.units import format_mg

        if self.rise_ug > self.rise_limit_ug:
            assert self.current_daily_ug is not None
            before, after, how = self.current_daily_ug, self.new_daily_ug, "at once"
        else:
            assert self.step_rise is not None
            (before, after), how = self.step_rise, "from one step to the next"
        return (
            f"this plan raises the daily dose from {format_mg(before)} to {format_mg(after)} mg/day "
            f"{how}, more than the {format_mg(self.rise_limit_ug)} mg/day a step may rise "
            f"[{self.rise_source}]: confirm the rise and say why (for example, the prescriber's instruction)"
        )


def plan_change(
    engine: Engine,
    *,
    patient_id: int,
    built: BuiltPlan,
    time_zone: str,
    now: datetime,
    takes_over: datetime | None = None,
) -> PlanChange:
    """When ``built`` would take over from the patient's plan in force, and the dose change."""
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        return _plan_change(session, patient_id, built, ZoneInfo(time_zone), now, takes_over)


def _plan_change(
    session: Any, patient_id: int, built: BuiltPlan, zone: tzinfo, now: datetime, takes_over: datetime | None
) -> PlanChange:
    """The takeover is the next dose time from now, of either plan: the new plan's first dose,
    or the current plan's next dose if it comes first (which is then cancelled, never a second
    dose an hour before the new plan's first); a plan set to start on a later day takes over at
    the first dose time of that day, of either plan. The rise is measured from the lower of the
    dose being taken now and the dose of a plan saved but not begun yet (saving several plans in
    a row is no way round it)."""
    from sqlalchemy import func, or_, select

    from dosewise.domain.schedule import MIN_DOSE_SPACING, build_dose_events, find_dosing_day
    from dosewise.services.clock import to_utc
    from dosewise.store.models import DoseEventRow, DoseSlotRow, PlanRow
    from dosewise.store.plan_codec import decode_plan

    local_now = now.astimezone(zone)
    moment = local_now if takes_over is None else takes_over.astimezone(zone)
    if moment < local_now - timedelta(minutes=5):
        raise InputError("a plan takes over now or later, not in the past", field="takes_over")
    plan = built.plan
    events = [
        event
        for event in build_dose_events(
            plan, built.times, zone, since=moment.date(), until=moment.date() + timedelta(days=2)
        )
        if event.at >= moment
    ]
    if not events:
        raise InputError("this plan has no doses left from now on: check its first day", field="start")
    first = events[0]
    start = first.at if takes_over is None else moment
    if takes_over is None:
        # the next dose time of either plan: from now, or, for a plan set to start on a later
        # day, from the start of that day (never the old plan's 08:00 before the new 09:30)
        later_day = plan.start > local_now.date()
        since = datetime.combine(first.at.date(), time(0), zone) if later_day else local_now
        old_next = session.scalar(
            select(func.min(DoseSlotRow.due_at))
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .where(
                PlanRow.patient_id == patient_id,
                # the plan in force, even when a plan scheduled for a later day is to end it
                or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at > to_utc(since)),
                DoseSlotRow.due_at >= to_utc(since),
                ~select(DoseEventRow.id).where(DoseEventRow.slot_id == DoseSlotRow.id).exists(),
            )
        )
        if old_next is not None:
            start = min(start, old_next.replace(tzinfo=UTC).astimezone(zone))
    now_utc = to_utc(local_now)
    candidates = []
    for query in (
        select(PlanRow.record).where(  # the plan being taken now
            PlanRow.patient_id == patient_id,
            or_(PlanRow.takes_over_at.is_(None), PlanRow.takes_over_at <= now_utc),
            or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at > now_utc),
        ),
        select(PlanRow.record).where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None)),
    ):
        record = session.scalars(query.order_by(PlanRow.id.desc()).limit(1)).first()
        if record is not None:
            current = decode_plan(record)
            candidates.append(current.plan.daily_ug_on(find_dosing_day(first.at, current.times)))
    rules = built.monograph.titration.beyond_labelled
    limit = round(rules.max_increase_mg * 1000)
    taken = _taken_near(session, patient_id, to_utc(start))
    left_out = tuple(
        event.at for event in events if any(abs(to_utc(event.at) - t) < MIN_DOSE_SPACING for t in taken)
    )
    later_steps = plan.steps[first.step_number - 1 :]
    step_rises = [
        (a.daily_ug, b.daily_ug)
        for a, b in itertools.pairwise(later_steps)
        if b.daily_ug - a.daily_ug > limit
    ]
    return PlanChange(
        takes_over=start,
        current_daily_ug=min(candidates) if candidates else None,
        new_daily_ug=plan.steps[first.step_number - 1].daily_ug,  # the day the first dose belongs to
        rise_limit_ug=limit,
        rise_source=rules.source,
        left_out=left_out,
        step_rise=max(step_rises, key=lambda pair: pair[1] - pair[0]) if step_rises else None,
    )


def save_plan(
    engine: Engine,
    *,
    patient_id: int,
    built: BuiltPlan,
    time_zone: str,
    now: datetime,
    actor: str,
    caller: Caller | None = None,
    takes_over: datetime | None = None,
    confirm_rise: str | None = None,
    reason: str | None = None,
    answers_request: int | None = None,
) -> int:
    """Store the plan as the patient's plan from its next dose time; returns its id.

    ``caller`` None is the local CLI (the patient's own diary). A rise beyond the step limit
    is refused (:class:`RiseNeedsConfirmation`) unless ``confirm_rise`` gives the reason.
    ``answers_request``: the open review request this change answers (a clinician's only).
    """
    entered_as = "patient"
    if caller is not None and caller.relation == "clinician":
        # a clinician whose account is not verified enters a plan like the patient does: it
        # waits for a verified clinician's confirmation
        entered_as = "clinician" if caller.may_override else "unverified"
    if caller is not None and caller.relation not in ("owner", "clinician"):
        from dosewise.services.access import NotAllowed

        raise NotAllowed(
            "only the patient (entering the prescriber's plan) or their clinician can change the plan"
        )
    if answers_request is not None and (caller is None or caller.relation != "clinician"):
        from dosewise.services.access import NotAllowed

        raise NotAllowed("only the patient's clinician answers a review request")
    return start_plan(
        engine,
        patient_id=patient_id,
        plan=built.plan,
        times=built.times,
        zone=ZoneInfo(time_zone),
        now=now,
        actor=actor,
        entered_as=entered_as,
        takes_over=takes_over,
        confirm_rise=confirm_rise,
        reason=reason,
        monograph=built.monograph,
        answers_request=answers_request,
    )


def start_plan(
    engine: Engine,
    *,
    patient_id: int,
    plan: Plan,
    times: tuple[time, ...],
    zone: tzinfo,
    now: datetime,
    actor: str,
    entered_as: str = "patient",
    takes_over: datetime | None = None,
    confirm_rise: str | None = None,
    reason: str | None = None,
    monograph: Monograph | None = None,
    answers_request: int | None = None,
) -> int:
    """Store a plan and its dose slots; returns the plan id.

    The plan takes over at ``takes_over`` (default: the next dose time from now of either
    plan, see :func:`_plan_change`). The plans in force are superseded from then; their slots
    from then on with nothing recorded are cancelled (removed: neither missed nor shown). No
    slot is made before that moment (a plan started earlier never turns the time before it was
    entered into missed doses), nor within :data:`MIN_DOSE_SPACING` of a dose already taken.
    An open-ended plan's slots are made :data:`SLOTS_AHEAD` ahead and topped up by
    :func:`keep_slots_ahead`. The patient's products are remembered for the next plan.
    ``answers_request``: the review request this plan answers: closed with the plan in this
    transaction, and the plan's message to the patient says so.
    """
    from sqlalchemy import delete, exists, or_, select

    from dosewise.services.audit import audit
    from dosewise.services.clock import to_utc
    from dosewise.store.database import unit_of_work
    from dosewise.store.models import DoseEventRow, DoseSlotRow, PatientRow, PlanRow, ProductRow
    from dosewise.store.plan_codec import PlanRecord, plan_columns

    monograph = monograph or load_monograph(plan.drug)
    built = BuiltPlan(plan=plan, monograph=monograph, times=times)
    confirmed = (confirm_rise or "").strip() or None
    said = (reason or "").strip() or None
    why = f"{said} (rise: {confirmed})" if said and confirmed else said or confirmed
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        change = _plan_change(session, patient_id, built, zone, now, takes_over)
        if change.needs_confirmation and confirmed is None:
            raise RiseNeedsConfirmation(change.rise_message())
        moment = to_utc(change.takes_over)
        # Every plan not yet ended by then: the one in force (even when a plan scheduled for a
        # later day was to end it) and a scheduled one (it never begins).
        current = session.scalars(
            select(PlanRow).where(
                PlanRow.patient_id == patient_id,
                or_(PlanRow.superseded_at.is_(None), PlanRow.superseded_at > moment),
            )
        ).all()
        for old in current:
            old.superseded_at = moment
            if old.slots_until is not None and old.slots_until >= moment:
                old.slots_until = moment
            session.execute(
                delete(DoseSlotRow).where(
                    DoseSlotRow.plan_id == old.id,
                    DoseSlotRow.due_at >= moment,
                    ~exists().where(DoseEventRow.slot_id == DoseSlotRow.id),
                )
            )
        left_out = set(change.left_out)
        horizon = (now.astimezone(zone) + SLOTS_AHEAD).date()
        events = [
            event
            for event in _events(plan, times, zone, since=change.takes_over.date(), until=horizon)
            if to_utc(event.at) >= moment and event.at not in left_out
        ]
        if not events:
            raise InputError("the plan has no doses to schedule")
        record = PlanRecord(plan=plan, times=times, time_zone=getattr(zone, "key", None) or str(zone))
        row = PlanRow(
            patient_id=patient_id,
            **plan_columns(record),
            created_at=to_utc(now),
            superseded_at=None,
            takes_over_at=moment,
            slots_until=to_utc(events[-1].at) if plan.open_ended else None,
            entered_as=entered_as,
            entered_by=actor,
            reason=why,
        )
        session.add(row)
        session.flush()
        session.add_all(_slot_rows(row.id, patient_id, events))
        known = set(session.scalars(select(ProductRow.spec).where(ProductRow.patient_id == patient_id)))
        session.add_all(
            ProductRow(
                patient_id=patient_id, spec=product.spec, description=product.describe(), added_at=to_utc(now)
            )
            for product in dict.fromkeys(plan.products)
            if product.spec not in known
        )
        detail: dict[str, Any] = {
            "takes_over": change.takes_over.isoformat(),
            "daily_mg_before": None if change.current_daily_ug is None else change.current_daily_ug / 1000,
            "daily_mg_after": change.new_daily_ug / 1000,
            "entered_as": entered_as,
        }
        if change.needs_confirmation:
            detail["rise_confirmed"] = confirmed
        if said:
            detail["reason"] = said
        answering = None
        if answers_request is not None:
            from dosewise.services.review_requests import answer_with_plan

            answering = answer_with_plan(
                session,
                patient_id=patient_id,
                request_id=answers_request,
                plan_id=row.id,
                actor=actor,
                now=now,
                message=why or "",
            )
            if answering is not None:
                detail["answers_review_request"] = answers_request
        audit(session, now, actor, patient_id, "start_plan", "plan", row.id, detail)
        _tell_plan_changed(
            session,
            patient_id=patient_id,
            plan=plan,
            change=change,
            actor=actor,
            now=now,
            why=why,
            answering=answering,
        )
        return row.id


def _tell_plan_changed(
    session: Any,
    *,
    patient_id: int,
    plan: Plan,
    change: PlanChange,
    actor: str,
    now: datetime,
    why: str | None,
    answering: tuple[int, int] | None = None,
) -> None:
    """The patient and caregivers are told when someone else changes the plan, with what changed
    (in the same transaction: the plan and its message are kept together or not at all).
    ``answering`` (request id, answer id): the change answers a review request; the one message
    is then that answer ("review_answer", linking the request)."""
    from dosewise.domain.notifications import Kind, Text
    from dosewise.domain.units import format_mg
    from dosewise.services.admin import describe_role
    from dosewise.services.notifications import FAMILY, Announcement, announce
    from dosewise.store.models import PatientRow, UserRow

    owner = session.get(PatientRow, patient_id).user_id
    if not actor.startswith("user:") or int(actor.removeprefix("user:")) == owner:
        return  # the patient changed it (or the local CLI diary): nobody else to tell
    who = session.get(UserRow, int(actor.removeprefix("user:")))
    by = (
        f"{who.display_name} ({describe_role(who.role, who.verified_at)})"
        if who
        else "someone on the care team"
    )
    before = (
        "no plan" if change.current_daily_ug is None else f"{format_mg(change.current_daily_ug)} mg a day"
    )
    when = change.takes_over.strftime("%a %-d %b at %H:%M")
    words = Text(
        title=f"Your {plan.drug} plan was changed by {by}",
        body=f"New {plan.kind} plan from {when}: {format_mg(change.new_daily_ug)} mg a day "
        f"(was {before}).{f' Reason: {why}.' if why else ''} Open the plan to see each dose; "
        "to be agreed with the prescriber.",
    )
    kind: Kind = "plan_changed"
    subject, url = f"p{patient_id}:{to_utc_text(now)}:{actor}", f"/patients/{patient_id}/plans"
    if answering is not None:
        from dosewise.services.review_requests import request_url

        kind, subject, url = (
            "review_answer",
            f"r{answering[0]}:a{answering[1]}",
            request_url(patient_id, answering[0]),
        )
        words = Text(title=f"{by} answered the review request: the plan is changed", body=words.body)
    announce(
        session,
        [
            Announcement(
                kind=kind,
                level="info",
                subject=subject,
                patient_id=patient_id,
                audience=FAMILY,
                text=words,
                url=url,
                due=now,
                exclude_user=int(actor.removeprefix("user:")),
            )
        ],
        now=now,
    )


def to_utc_text(moment: datetime) -> str:
    from dosewise.services.clock import to_utc

    return to_utc(moment).strftime("%Y%m%dT%H%M%S")


def _events(plan: Plan, times: tuple[time, ...], zone: tzinfo, *, since: date, until: date) -> list[Any]:
    from dosewise.domain.schedule import build_dose_events

    return build_dose_events(plan, times, zone, since=since, until=until)


def _slot_rows(plan_id: int, patient_id: int, events: list[Any]) -> list[Any]:
    from dosewise.services.clock import to_utc
    from dosewise.store.models import DoseSlotRow

    return [
        DoseSlotRow(
            plan_id=plan_id,
            patient_id=patient_id,  # derived: the migration 0006 triggers check it
            due_at=to_utc(event.at),
            dose_ug=event.dose_ug,
            how=event.recipe.describe(),
            step_number=event.step_number,
        )
        for event in events
    ]


def _taken_near(session: Any, patient_id: int, moment: datetime) -> list[datetime]:
    """When doses were taken from :data:`MIN_DOSE_SPACING` before ``moment`` (naive UTC), and
    the due times of slots from ``moment`` on that something was recorded for (they stay)."""
    from sqlalchemy import select

    from dosewise.domain.schedule import MIN_DOSE_SPACING
    from dosewise.store.models import DoseEventRow, DoseSlotRow

    rows = session.execute(
        select(DoseEventRow.taken_at, DoseEventRow.status, DoseSlotRow.due_at)
        .join(DoseSlotRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .where(
            DoseSlotRow.patient_id == patient_id,
            DoseSlotRow.due_at >= moment - MIN_DOSE_SPACING - timedelta(days=1),
        )
    ).all()
    found: list[datetime] = []
    for taken_at, status, due_at in rows:
        if taken_at is not None and taken_at >= moment - MIN_DOSE_SPACING:
            found.append(taken_at)
        if due_at >= moment and status != "skipped":
            found.append(due_at)
    return found


def keep_slots_ahead(engine: Engine, *, now: datetime, patient_id: int | None = None) -> int:
    """Make the dose slots of open-ended plans up to :data:`SLOTS_AHEAD` from ``now`` where
    fewer than :data:`TOP_UP_WHEN` are left (one cheap query when none are); returns the number
    of slots made. Safe with several workers: a plan's horizon is moved by one conditional
    update, and only the worker whose update took makes the slots."""
    from sqlalchemy import or_, select, update

    from dosewise.services.clock import to_utc
    from dosewise.store.database import read_only, unit_of_work
    from dosewise.store.models import PlanRow
    from dosewise.store.plan_codec import decode_plan

    limit = to_utc(now) + TOP_UP_WHEN
    query = select(PlanRow.id).where(
        PlanRow.slots_until.is_not(None),
        PlanRow.slots_until < limit,
        or_(PlanRow.superseded_at.is_(None), PlanRow.slots_until < PlanRow.superseded_at),
    )
    if patient_id is not None:
        query = query.where(PlanRow.patient_id == patient_id)
    made = 0
    with read_only(engine) as session:  # a read: the write lock only when there is work
        ids = list(session.scalars(query))
    for plan_id in ids:
        with unit_of_work(engine) as session:
            row = session.get(PlanRow, plan_id)
            if row is None or row.slots_until is None or row.slots_until >= limit:
                continue
            if row.superseded_at is not None and row.slots_until >= row.superseded_at:
                continue
            record = decode_plan(row.record)
            zone = ZoneInfo(record.time_zone)
            after, stop = row.slots_until, row.superseded_at
            events = [
                event
                for event in _events(
                    record.plan,
                    record.times,
                    zone,
                    since=after.replace(tzinfo=UTC).astimezone(zone).date(),
                    until=(now.astimezone(zone) + SLOTS_AHEAD).date(),
                )
                if after < to_utc(event.at) and (stop is None or to_utc(event.at) < stop)
            ]
            new_until = to_utc(events[-1].at) if events else after
            if stop is not None and to_utc(now + SLOTS_AHEAD) >= stop:
                new_until = max(new_until, stop)  # made up to where the next plan takes over: done
            moved: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(PlanRow)
                .where(
                    PlanRow.id == plan_id,
                    PlanRow.slots_until == after,
                    # and not replaced meanwhile (then its doses stop where the new plan begins)
                    PlanRow.superseded_at.is_(None) if stop is None else PlanRow.superseded_at == stop,
                )
                .values(slots_until=new_until)
            )
            if moved.rowcount != 1:  # another worker extended it first
                continue
            session.add_all(_slot_rows(plan_id, row.patient_id, events))
            made += len(events)
    return made


# When every patient's horizon was last checked, per engine (see keep_all_slots_ahead).
_CHECKED: weakref.WeakKeyDictionary[Any, datetime] = weakref.WeakKeyDictionary()
CHECK_ALL_EVERY = timedelta(hours=1)  # setting: horizons are weeks long, an hourly look is plenty


def keep_all_slots_ahead(engine: Engine, *, now: datetime) -> int:
    """:func:`keep_slots_ahead` for every patient, at most once per :data:`CHECK_ALL_EVERY` of
    ``now`` per engine (the clinician's list calls it: a patient who has not opened Dosewise
    for weeks still has their doses counted, missed ones included)."""
    last = _CHECKED.get(engine)
    if last is not None and abs(now - last) < CHECK_ALL_EVERY:
        return 0
    made = keep_slots_ahead(engine, now=now)
    _CHECKED[engine] = now
    return made


def confirm_plan(
    engine: Engine, *, patient_id: int, plan_id: int, now: datetime, actor: str, caller: Caller
) -> None:
    """A linked clinician confirms a plan the patient entered (shown as confirmed from then)."""
    from dosewise.services.access import NotAllowed
    from dosewise.services.audit import audit
    from dosewise.services.clock import to_utc
    from dosewise.store.database import unit_of_work
    from dosewise.store.models import PlanRow

    if not caller.may_override:
        if caller.relation == "clinician":
            raise NotAllowed(NOT_VERIFIED.format(what="confirm a plan"))
        raise NotAllowed("only the patient's clinician can confirm a plan")
    with unit_of_work(engine) as session:
        row = session.get(PlanRow, plan_id)
        if row is None or row.patient_id != patient_id:
            raise NotFound(f"no plan {plan_id} for this patient")
        if row.entered_as == "clinician":
            raise Conflict("this plan was entered by a clinician: there is nothing to confirm")
        if row.confirmed_at is not None:
            return
        row.confirmed_by, row.confirmed_at = actor, to_utc(now)
        audit(session, now, actor, patient_id, "confirm_plan", "plan", plan_id)


def plan_crcl(plan: PlanRow | None) -> float | None:
    """The creatinine clearance a stored plan was made for, if it was given."""
    return None if plan is None else plan.crcl_ml_min


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlan:
    plan_id: int
    kind: str
    record: PlanRecord  # the typed plan as it was saved
    data: dict[str, Any]  # its view (what the pages, the API and --json show)
    created_at: datetime  # UTC
    superseded_at: datetime | None = None  # UTC
    takes_over_at: datetime | None = None  # UTC: its doses began here
    entered_as: str | None = None  # "patient", "clinician" or "unverified" (None: before issue 12)
    entered_by: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None  # UTC
    reason: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        """Entered by the patient (or a clinician not verified then), not yet confirmed by a
        verified clinician."""
        return self.entered_as in AWAITING_CONFIRMATION and self.confirmed_at is None


def stored_plan(row: PlanRow) -> StoredPlan:
    """A plan row read by the store's codec, with its view."""
    from dosewise.exporters.plan_json import plan_to_dict
    from dosewise.store.plan_codec import decode_plan

    record = decode_plan(row.record)
    view = plan_to_dict(
        record.plan, load_monograph(record.plan.drug), times=record.times, time_zone=record.time_zone
    )
    return StoredPlan(
        plan_id=row.id,
        kind=row.kind,
        record=record,
        data=view,
        created_at=row.created_at,
        superseded_at=row.superseded_at,
        takes_over_at=row.takes_over_at,
        entered_as=row.entered_as,
        entered_by=row.entered_by,
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
        reason=row.reason,
    )


def current_plan(engine: Engine, *, patient_id: int) -> StoredPlan | None:
    """The plan in force (the newest one not superseded), as it was saved."""
    from sqlalchemy import select

    from dosewise.store.database import read_only
    from dosewise.store.models import PlanRow

    with read_only(engine) as session:
        row = session.scalars(
            select(PlanRow)
            .where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None))
            .order_by(PlanRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else stored_plan(row)


def patient_products(engine: Engine, *, patient_id: int) -> list[str]:
    """The products the patient has used in plans (CLI spelling), oldest first."""
    from sqlalchemy import select

    from dosewise.store.database import read_only
    from dosewise.store.models import ProductRow

    with read_only(engine) as session:
        return list(
            session.scalars(
                select(ProductRow.spec).where(ProductRow.patient_id == patient_id).order_by(ProductRow.id)
            )
        )


# A preview yields a draft: a signed token of the inputs it was made from, the patient, and a
# fingerprint of the plan shown. Save commits the draft (rebuilt from those inputs and checked
# against the fingerprint), never what a form says after the preview.
DRAFT_MAX_AGE = timedelta(hours=2)  # a preview older than this is made again (setting)
_DRAFT_SALT = "dosewise.plan-draft"


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    inputs: dict[str, Any]  # the plan inputs as they were previewed (PlanInput, JSON)
    fingerprint: str


def plan_fingerprint(built: BuiltPlan, *, time_zone: str) -> str:
    """A short hash of the plan as it is shown: two plans with one fingerprint look the same."""
    import hashlib
    import json

    view = json.dumps(plan_view(built, time_zone=time_zone), sort_keys=True, default=str)
    return hashlib.sha256(view.encode()).hexdigest()[:32]


def seal_draft(
    secret: str, *, patient_id: int, inputs: dict[str, Any], built: BuiltPlan, time_zone: str
) -> str:
    from itsdangerous import URLSafeTimedSerializer

    payload = {"patient": patient_id, "inputs": inputs, "plan": plan_fingerprint(built, time_zone=time_zone)}
    return str(URLSafeTimedSerializer(secret, salt=_DRAFT_SALT).dumps(payload))


def open_draft(secret: str, token: str, *, patient_id: int) -> Draft:
    """The draft a preview made, or InputError (field ``draft``) saying to preview again."""
    from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

    if not token:
        raise InputError("preview the plan before saving it", field="draft")
    try:
        payload = URLSafeTimedSerializer(secret, salt=_DRAFT_SALT).loads(
            token, max_age=int(DRAFT_MAX_AGE.total_seconds())
        )
    except SignatureExpired:
        hours = DRAFT_MAX_AGE.total_seconds() / 3600
        raise InputError(
            f"the preview is more than {hours:g} hours old: preview the plan again", field="draft"
        ) from None
    except BadSignature:
        raise InputError(
            "this preview cannot be read (changed or expired): preview the plan again", field="draft"
        ) from None
    if not isinstance(payload, dict) or payload.get("patient") != patient_id:
        raise InputError("this preview was made for another patient: preview the plan again", field="draft")
    return Draft(inputs=payload["inputs"], fingerprint=payload["plan"])


def check_draft(draft: Draft, built: BuiltPlan, *, time_zone: str) -> None:
    """The plan rebuilt from a draft's inputs must be the one that was previewed."""
    if plan_fingerprint(built, time_zone=time_zone) != draft.fingerprint:
        raise InputError(
            "the plan these inputs make now is not the one that was previewed (the rules or the "
            "patient's record changed): preview it again",
            field="draft",
        )


def unconfirmed_plans(engine: Engine, *, patient_ids: list[int]) -> dict[int, int]:
    """{patient: plan id} for those of ``patient_ids`` whose plan in force was entered by the
    patient and not yet confirmed by a clinician (one statement, for a page of the clinic list)."""
    from sqlalchemy import select

    from dosewise.store.database import read_only
    from dosewise.store.models import PlanRow

    if not patient_ids:
        return {}
    with read_only(engine) as session:
        rows = session.execute(
            select(PlanRow.patient_id, PlanRow.id).where(
                PlanRow.patient_id.in_(patient_ids),
                PlanRow.superseded_at.is_(None),
                PlanRow.entered_as.in_(AWAITING_CONFIRMATION),
                PlanRow.confirmed_at.is_(None),
            )
        ).all()
    return {patient: plan for patient, plan in rows}
