"""Plans: build one from what a person asked for, check who may ask for what, save it.

A :class:`PlanRequest` holds the answers of a plan form, an API body or a plan command's options
as plain values (the web and the API fill it from :class:`dosewise.services.inputs.PlanInput`,
the CLI from its options); :func:`build_plan` checks them and calls the domain builders, which
enforce every limit of the clinical reference. Who may lift a limit (the clinician override) is
checked here too, against the caller's relation to the patient. Imports stay light: the CLI's
``plan`` path goes through here and must start fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services.clock import check_date

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dosewise.domain.kidney import KidneyAssessment, Sex
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan
    from dosewise.store.models import PlanRow
    from dosewise.store.plan_codec import PlanRecord

# The plan path of the CLI must start fast (docs/benchmarks.md): everything that reaches the
# database is imported inside the functions that store or read plans.

DEFAULT_MAINTENANCE_DAYS = 28  # how far ahead a maintenance plan is laid out (setting, not clinical)
PLAN_KINDS = ("titration", "maintenance", "taper", "clinician")
KidneyWay = Literal["none", "crcl", "creatinine", "dialysis"]


class Caller(Protocol):
    """Who asks for a plan, as far as plans care (``PatientAccess`` on the web)."""

    @property
    def may_override(self) -> bool: ...


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
    days: int = DEFAULT_MAINTENANCE_DAYS  # maintenance
    min_days: int | None = None  # taper
    doses_per_day: int = 3
    times: str | None = None  # "08:00,14:00,20:00"
    start: date
    products: tuple[str, ...] = ()
    kidney: KidneyInput = KidneyInput()
    age_years: float | None = None
    sex: Sex | None = None
    weight_kg: float | None = None
    clinician_override: bool = False


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
    """Only the patient's own clinician may lift a limit. ``caller`` None is the local CLI,
    where the person at the keyboard answers for ``--clinician-override`` themselves."""
    if request.clinician_override and caller is not None and not caller.may_override:
        raise InputError("only the patient's clinician can override a limit", field="clinician_override")


def build_plan(request: PlanRequest, *, caller: Caller | None = None) -> BuiltPlan:
    """The plan the request describes, or InputError / SafetyRefusal saying what to change."""
    from dosewise.domain.plan import check_doses_per_day
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times

    if request.kind not in PLAN_KINDS:
        raise InputError(f"a plan is one of {', '.join(PLAN_KINDS)}", field="kind")
    check_override(request, caller)
    check_date(request.start)
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
    }
    if request.kind == "maintenance":
        from dosewise.domain.regimen import build_maintenance

        plan = build_maintenance(
            monograph,
            daily_mg=_required(request.mg_day, "the daily dose (mg)", "mg_day"),
            products=products,
            start=start,
            days=request.days,
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


def plan_view(built: BuiltPlan, *, time_zone: str) -> dict[str, Any]:
    """The plan as the pages, the API and ``--json`` show it (free to change: a view)."""
    from dosewise.exporters.plan_json import plan_to_dict

    return plan_to_dict(built.plan, built.monograph, times=built.times, time_zone=time_zone)


def save_plan(
    engine: Engine, *, patient_id: int, built: BuiltPlan, time_zone: str, now: datetime, actor: str
) -> int:
    """Store the plan as the patient's plan from its first dose; returns its id."""

    from dosewise.services.plans import start_plan

    return start_plan(
        engine,
        patient_id=patient_id,
        plan=built.plan,
        times=built.times,
        zone=ZoneInfo(time_zone),
        now=now,
        actor=actor,
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
) -> int:
    """Store a plan and one slot per scheduled dose; returns the plan id.

    The new plan takes over from its first dose: the earlier plans are marked superseded
    and their doses from then on that nothing was recorded for are removed (what was recorded
    stays). The patient's products are remembered for the next plan.
    """
    from sqlalchemy import delete, exists, select

    from dosewise.domain.schedule import build_dose_events
    from dosewise.services.audit import audit
    from dosewise.services.clock import to_utc
    from dosewise.store.database import unit_of_work
    from dosewise.store.models import DoseEventRow, DoseSlotRow, PatientRow, PlanRow, ProductRow
    from dosewise.store.plan_codec import PlanRecord, plan_columns

    events = build_dose_events(plan, times, zone)
    if not events:
        raise InputError("the plan has no doses to schedule")
    takes_over = to_utc(events[0].at)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        current = session.scalars(
            select(PlanRow).where(PlanRow.patient_id == patient_id, PlanRow.superseded_at.is_(None))
        ).all()
        for old in current:
            old.superseded_at = takes_over
            session.execute(
                delete(DoseSlotRow).where(
                    DoseSlotRow.plan_id == old.id,
                    DoseSlotRow.due_at >= takes_over,
                    ~exists().where(DoseEventRow.slot_id == DoseSlotRow.id),
                )
            )
        record = PlanRecord(plan=plan, times=times, time_zone=getattr(zone, "key", None) or str(zone))
        row = PlanRow(
            patient_id=patient_id, **plan_columns(record), created_at=to_utc(now), superseded_at=None
        )
        session.add(row)
        session.flush()
        session.add_all(
            DoseSlotRow(
                plan_id=row.id,
                patient_id=patient_id,  # derived: the migration 0006 triggers check it
                due_at=to_utc(event.at),
                dose_ug=event.dose_ug,
                how=event.recipe.describe(),
                step_number=event.step_number,
            )
            for event in events
        )
        known = set(session.scalars(select(ProductRow.spec).where(ProductRow.patient_id == patient_id)))
        session.add_all(
            ProductRow(
                patient_id=patient_id, spec=product.spec, description=product.describe(), added_at=to_utc(now)
            )
            for product in dict.fromkeys(plan.products)
            if product.spec not in known
        )
        audit(session, now, actor, patient_id, "start_plan", "plan", row.id)
        return row.id


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
