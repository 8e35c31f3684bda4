"""``dosewise kidney | plan | taper | maintain | schedule``: kidney function and plans.

The plan path must start fast (docs/adr/0004): this module imports the domain it needs when a
command runs, Rich only to draw a table, icalendar only to write a calendar.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import (
    MIN_DAYS_HELP,
    SEXES,
    STEP_HELP,
    TARGET_HELP,
    add_command,
    add_creatinine,
    add_json,
    add_patient_options,
    add_schedule,
    print_json,
)
from dosewise.errors import InputError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from dosewise.cli.settings import Settings
    from dosewise.services.plans import BuiltPlan

PLAN_KIND_OPTIONS = (
    ("target_mg_day", "titration"),
    ("mg_day", "maintenance"),
    ("from_mg_day", "taper"),
    ("step", "clinician"),
)


def add_commands(commands: Any) -> None:
    kidney = add_command(
        commands, "kidney", help="creatinine clearance, eGFR and the baclofen dose band",
        description="Creatinine clearance (Cockcroft-Gault), eGFR (CKD-EPI 2021) and the baclofen dose band.",
    )  # fmt: skip
    kidney.add_argument("--age", type=float, required=True, help="age in years (18-120)")
    kidney.add_argument("--sex", choices=SEXES, required=True)
    kidney.add_argument("--weight-kg", type=float, required=True, help="actual body weight in kg")
    add_creatinine(kidney)
    add_json(kidney)
    kidney.set_defaults(run=run_kidney)

    plan = add_command(
        commands, "plan", help="a titration plan toward a target daily dose",
        description="A titration plan toward the target, kidney-adjusted, in the patient's own products.",
    )  # fmt: skip
    plan.add_argument("drug", help="the drug, e.g. baclofen")
    plan.add_argument("--target-mg-day", type=float, required=True, help=TARGET_HELP)
    add_schedule(plan)
    add_patient_options(plan)
    add_json(plan)
    plan.set_defaults(run=run_plan, plan_kind="titration")

    taper = add_command(
        commands, "taper", help="a taper from the current daily dose to stop",
        description="A taper from the current daily dose to stop, never abrupt.",
    )  # fmt: skip
    taper.add_argument("drug", help="the drug, e.g. baclofen")
    taper.add_argument("--from-mg-day", type=float, required=True, help="the current daily dose in mg")
    add_schedule(taper, review=False)
    taper.add_argument("--min-days", type=int, help=MIN_DAYS_HELP)
    add_json(taper)
    taper.set_defaults(run=run_plan, plan_kind="taper")

    maintain = add_command(
        commands, "maintain", help="a maintenance plan: the daily dose the patient already takes",
        description="The current daily dose over the dose times, in the patient's own products, checked "
        "against the maximum (kidney-adjusted); it goes on until a new plan or a taper, with a review date.",
    )  # fmt: skip
    maintain.add_argument("drug", help="the drug, e.g. baclofen")
    maintain.add_argument("--mg-day", type=float, required=True, help="the daily dose in mg")
    add_schedule(maintain)
    add_patient_options(maintain)
    add_json(maintain)
    maintain.set_defaults(run=run_plan, plan_kind="maintenance")

    schedule = add_command(
        commands, "schedule", help="check and lay out a clinician-entered schedule",
        description="The prescriber's own steps, dose by dose, checked against the limits of the reference "
        "(maximum, kidney, UK limits for children) and laid out in the patient's products.",
    )  # fmt: skip
    schedule.add_argument("drug", help="the drug, e.g. baclofen")
    schedule.add_argument("--step", action="append", required=True, help=STEP_HELP)
    add_schedule(schedule, doses_per_day=False)
    add_patient_options(schedule)
    add_json(schedule)
    schedule.set_defaults(run=run_plan, plan_kind="clinician")


def run_kidney(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.domain.kidney import assess_kidney_function
    from dosewise.exporters.plan_json import kidney_to_dict
    from dosewise.monographs import DEFAULT_DRUG, load_monograph

    monograph = load_monograph(DEFAULT_DRUG)
    result = assess_kidney_function(
        monograph.kidney,
        age_years=args.age,
        sex=args.sex,
        weight_kg=args.weight_kg,
        scr_mg_dl=args.scr_mg_dl,
        scr_umol_l=args.scr_umol_l,
    )
    if args.as_json:
        print_json(kidney_to_dict(result, monograph))
    else:
        from dosewise.cli.render import render_kidney

        render_kidney(result, monograph)


def run_plan(args: argparse.Namespace, settings: Settings) -> None:
    zone_name, zone = settings.zone(args.tz)
    built = build_plan_from_args(args, settings, zone)
    if args.ics is not None:
        from datetime import time

        from dosewise.cli.options import write_file
        from dosewise.domain.schedule import localize
        from dosewise.exporters.ical import ScheduledPlan, build_schedule_calendar

        # the plan as asked, from its first day; its last step repeats (a taper's ends)
        now = settings.now(zone)
        scheduled = ScheduledPlan(
            plan=built.plan,
            times=built.times,
            time_zone=zone_name,
            monograph=built.monograph,
            revised=now,
            since=localize(built.plan.start, time(0), zone),
        )
        name = f"{built.monograph.display_name} {built.plan.kind}"
        write_file(args.ics, build_schedule_calendar([scheduled], name=name, owner="", now=now), field="ics")
    if args.as_json:
        from dosewise.exporters.plan_json import plan_to_dict

        print_json(plan_to_dict(built.plan, built.monograph, times=built.times, time_zone=zone_name))
    else:
        render_built_plan(built, zone_name, args.ics)


def render_built_plan(built: BuiltPlan, zone_name: str, ics: str | None) -> None:
    from dosewise.cli.render import render_plan

    render_plan(built.plan, built.monograph, built.times, zone_name, ics)


def plan_kind_of(args: argparse.Namespace) -> str:
    """The kind of plan the options ask for (commands set it; `diary plan` says it by option)."""
    kind: str | None = getattr(args, "plan_kind", None)
    if kind is not None:
        return kind
    for option, name in PLAN_KIND_OPTIONS:
        if getattr(args, option, None) is not None:
            return name
    raise InputError("say which plan: --target-mg-day, --mg-day, --from-mg-day or --step")


def build_plan_from_args(
    args: argparse.Namespace, settings: Settings, zone: ZoneInfo, *, for_diary: bool = False
) -> BuiltPlan:
    """The plan that a plan command's options describe (also used by `diary plan`, where a
    first day in the past needs --started-earlier)."""
    from dosewise.services.clock import parse_date
    from dosewise.services.plans import KidneyInput, PlanRequest, build_plan

    today = settings.now(zone).date()
    start = today if args.start is None else parse_date(args.start, "start date", field="start")
    request = PlanRequest(
        kind=plan_kind_of(args),
        drug=args.drug,
        target_mg_day=getattr(args, "target_mg_day", None),
        mg_day=getattr(args, "mg_day", None),
        from_mg_day=getattr(args, "from_mg_day", None),
        steps=tuple(getattr(args, "step", None) or ()),
        review_weeks=getattr(args, "review_weeks", None),
        min_days=getattr(args, "min_days", None),
        doses_per_day=getattr(args, "doses_per_day", 3),
        times=args.times,
        start=start,
        started_earlier=getattr(args, "started_earlier", False),
        products=tuple(args.product),
        kidney=KidneyInput(
            crcl_ml_min=getattr(args, "crcl", None),
            dialysis=getattr(args, "dialysis", False),
            scr_mg_dl=getattr(args, "scr_mg_dl", None),
            scr_umol_l=getattr(args, "scr_umol_l", None),
        ),
        age_years=getattr(args, "age", None),
        sex=getattr(args, "sex", None),
        weight_kg=getattr(args, "weight_kg", None),
        clinician_override=getattr(args, "clinician_override", False),
        above_kidney_max=getattr(args, "above_kidney_max", False),
    )
    return build_plan(request, today=today if for_diary else None)
