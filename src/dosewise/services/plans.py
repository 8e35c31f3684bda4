"""Build a plan from what a person asked for: the one place the CLI and the web app share.

A :class:`PlanRequest` holds the answers of a plan form (or a plan command's options) as plain
values; :func:`build_plan` checks them and calls the domain builders, which enforce every limit
of the clinical reference. Imports stay light: the CLI's `plan` path goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dosewise.errors import InputError
from dosewise.monographs import load_monograph

if TYPE_CHECKING:
    from dosewise.domain.kidney import KidneyAssessment, Sex
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan

FIRST_START_YEAR, LAST_START_YEAR = 2000, 2200  # a plan date outside is a typo
DEFAULT_MAINTENANCE_DAYS = 28  # how far ahead a maintenance plan is laid out (setting, not clinical)
PLAN_KINDS = ("titration", "maintenance", "taper", "clinician")


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyInput:
    """Kidney function, given at most one way: a measured CrCl, dialysis, or serum creatinine."""

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


def build_plan(request: PlanRequest) -> BuiltPlan:
    """The plan the request describes, or InputError / SafetyRefusal saying what to change."""
    from dosewise.domain.plan import check_doses_per_day
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times

    if request.kind not in PLAN_KINDS:
        raise InputError(f"a plan is one of {', '.join(PLAN_KINDS)}")
    check_start(request.start)
    monograph = load_monograph(request.drug)
    doses_per_day = request.doses_per_day
    steps = None
    if request.kind == "clinician":
        from dosewise.domain.regimen import parse_step_spec

        if not request.steps:
            raise InputError("a clinician-entered plan needs at least one step, DAYS:DOSE,DOSE,DOSE")
        steps = [parse_step_spec(text) for text in request.steps]
        doses_per_day = len(steps[0].doses_mg)
    check_doses_per_day(monograph.titration, doses_per_day)
    clock_times = parse_clock_times(request.times, doses_per_day)
    products = parse_product_specs(list(request.products), monograph)
    start = request.start
    if request.kind == "taper":
        from dosewise.domain.taper import build_taper

        taper = build_taper(
            monograph,
            from_daily_mg=_required(request.from_mg_day, "the current daily dose (mg) to taper from"),
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
            daily_mg=_required(request.mg_day, "the daily dose (mg)"),
            products=products,
            start=start,
            days=request.days,
            doses_per_day=doses_per_day,
            **patient,
        )
    elif steps is not None:
        from dosewise.domain.regimen import build_clinician_schedule

        plan = build_clinician_schedule(monograph, steps=steps, products=products, start=start, **patient)
    else:
        from dosewise.domain.titration import build_titration

        plan = build_titration(
            monograph,
            target_daily_mg=_required(request.target_mg_day, "the target daily dose (mg)"),
            products=products,
            start=start,
            doses_per_day=doses_per_day,
            **patient,
        )
    return BuiltPlan(plan=plan, monograph=monograph, times=clock_times)


def assess_kidney(monograph: Monograph, request: PlanRequest) -> KidneyAssessment | None:
    """The kidney band from the one way kidney function was given, or None if it was not."""
    from dosewise.domain.kidney import assess_creatinine_clearance, assess_dialysis, assess_kidney_function

    kidney = request.kidney
    labs = kidney.scr_mg_dl is not None or kidney.scr_umol_l is not None
    ways = (
        ("CrCl", kidney.crcl_ml_min is not None),
        ("dialysis", kidney.dialysis),
        ("serum creatinine", labs),
    )
    given = [name for name, on in ways if on]
    if len(given) > 1:
        raise InputError(f"give kidney function one way, not {' and '.join(given)}")
    if kidney.crcl_ml_min is not None:
        return assess_creatinine_clearance(monograph.kidney, kidney.crcl_ml_min)
    if kidney.dialysis:
        return assess_dialysis(monograph.kidney)
    if not labs:
        return None
    age, sex, weight = request.age_years, request.sex, request.weight_kg
    if age is None or sex is None or weight is None:
        needed = (("age", age), ("sex", sex), ("weight", weight))
        missing = ", ".join(name for name, value in needed if value is None)
        raise InputError(f"serum creatinine also needs {missing} for Cockcroft-Gault")
    return assess_kidney_function(
        monograph.kidney,
        age_years=age,
        sex=sex,
        weight_kg=weight,
        scr_mg_dl=kidney.scr_mg_dl,
        scr_umol_l=kidney.scr_umol_l,
    )


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone of that name, or InputError saying what to type."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        raise InputError(f"unknown time zone {name!r}: use an IANA name such as Europe/London") from None


def parse_date(text: str, what: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} must be YYYY-MM-DD, e.g. 2026-12-01") from None
    check_start(day, what)
    return day


def check_start(day: date, what: str = "start date") -> None:
    if not FIRST_START_YEAR <= day.year <= LAST_START_YEAR:
        raise InputError(f"{what} {day.isoformat()} must be between {FIRST_START_YEAR} and {LAST_START_YEAR}")


def _required(value: float | None, what: str) -> float:
    if value is None:
        raise InputError(f"say {what}")
    return value
