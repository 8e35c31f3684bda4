"""The ``dosewise`` command: thin commands over the domain, one place that maps errors.

Exit codes: 0 ok; 2 bad input (one line on stderr saying what to fix); 3 refused for safety
(one line saying why and what a clinician can do). This module is the CLI's composition root:
it alone reads the clock and the environment.

Built on the standard library's argparse, not Typer: the start-up budget (at most 10x
``python -c pass``) cannot carry Typer's import cost (docs/adr/0004-argparse-for-the-cli.md).
Each command imports the domain modules it uses when it runs; Rich is imported only to draw a
table, icalendar only to write a calendar.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dosewise.domain.scales import PENN_FREQUENCY, PENN_SEVERITY
from dosewise.errors import DosewiseError, InputError, SafetyRefusal
from dosewise.monographs import load_monograph
from dosewise.services.plans import DEFAULT_MAINTENANCE_DAYS

if TYPE_CHECKING:
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan

EXIT_INPUT = 2
EXIT_SAFETY = 3
SEXES = ("female", "male")
TARGET_HELP = (
    "the prescriber's target daily dose in mg at normal kidney function "
    "(Dosewise scales the whole plan by the kidney dose factor)"
)
STEP_HELP = "a step DAYS:DOSE,DOSE,... in mg, one dose per dose time (repeatable), e.g. --step 3:5,5,5"
MIN_DAYS_HELP = "make the taper last at least this many days (14+)"
PENN_FREQUENCY_HELP = "Penn spasm frequency [PSFS]: " + ", ".join(f"{n} {w}" for n, w in PENN_FREQUENCY)
PENN_SEVERITY_HELP = "Penn spasm severity when frequency > 0 [PSFS]: " + ", ".join(
    f"{n} {w}" for n, w in PENN_SEVERITY
)
DAYS_HELP = f"days to lay out (default {DEFAULT_MAINTENANCE_DAYS})"
PRODUCT_HELP = (
    "a product the patient has, repeatable: tablet:10mg:halves, tablet:5mg, "
    "solution:1mg/ml:0.5ml, suspension:5mg/ml, granules:10mg (default: US tablets 5, 10, 20 mg)"
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dosewise",
        description="Safe oral baclofen therapy: kidney function, titration and taper plans, reminders. "
        "Decision support: agree every plan with the prescriber.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    kidney = commands.add_parser(
        "kidney", help="creatinine clearance, eGFR and the baclofen dose band",
        description="Creatinine clearance (Cockcroft-Gault), eGFR (CKD-EPI 2021) and the baclofen dose band.",
    )  # fmt: skip
    kidney.add_argument("--age", type=float, required=True, help="age in years (18-120)")
    kidney.add_argument("--sex", choices=SEXES, required=True)
    kidney.add_argument("--weight-kg", type=float, required=True, help="actual body weight in kg")
    _add_creatinine(kidney)
    _add_json(kidney)
    kidney.set_defaults(run=_run_kidney)

    plan = commands.add_parser(
        "plan", help="a titration plan toward a target daily dose",
        description="A titration plan toward the target, kidney-adjusted, in the patient's own products.",
    )  # fmt: skip
    _add_plan_options(plan)
    _add_json(plan)
    plan.set_defaults(run=_run_plan, plan_kind="titration")

    taper = commands.add_parser(
        "taper", help="a taper from the current daily dose to stop",
        description="A taper from the current daily dose to stop, never abrupt.",
    )  # fmt: skip
    taper.add_argument("drug", help="the drug, e.g. baclofen")
    taper.add_argument("--from-mg-day", type=float, required=True, help="the current daily dose in mg")
    _add_schedule(taper)
    taper.add_argument("--min-days", type=int, help=MIN_DAYS_HELP)
    _add_json(taper)
    taper.set_defaults(run=_run_plan, plan_kind="taper")

    _add_regimen_commands(commands)
    _add_safety_commands(commands)
    _add_diary_commands(commands)
    _add_simulate_command(commands)
    return parser


def _add_plan_options(plan: argparse.ArgumentParser) -> None:
    """The options of `plan` (titration)."""
    plan.add_argument("drug", help="the drug, e.g. baclofen")
    plan.add_argument("--target-mg-day", type=float, required=True, help=TARGET_HELP)
    _add_schedule(plan)
    _add_patient_options(plan)


def _add_patient_options(plan: argparse.ArgumentParser) -> None:
    """Kidney function, age, weight and the clinician override: shared by every plan command."""
    plan.add_argument("--crcl", type=float, help="creatinine clearance in mL/min, if known")
    plan.add_argument("--dialysis", action="store_true", help="the patient is on dialysis")
    plan.add_argument("--age", type=float, help="age in years")
    plan.add_argument("--sex", choices=SEXES, help="for kidney function from serum creatinine")
    plan.add_argument(
        "--weight-kg", type=float, help="body weight in kg (actual, unless the prescriber chooses another)"
    )
    _add_creatinine(plan)
    plan.add_argument(
        "--clinician-override", action="store_true",
        help="a clinician has reviewed the patient: plan where the reference requires a clinician "
        "(CrCl < 30, dialysis, under 18, above 80 mg/day), within its caps",
    )  # fmt: skip


def _add_regimen_commands(commands: Any) -> None:
    """maintain and schedule: a steady dose, or the clinician's own steps."""
    maintain = commands.add_parser(
        "maintain", help="a maintenance plan: the daily dose the patient already takes",
        description="The current daily dose for a number of days, over the dose times, in the patient's "
        "own products, checked against the maximum (kidney-adjusted).",
    )  # fmt: skip
    maintain.add_argument("drug", help="the drug, e.g. baclofen")
    maintain.add_argument("--mg-day", type=float, required=True, help="the daily dose in mg")
    maintain.add_argument("--days", type=int, default=DEFAULT_MAINTENANCE_DAYS, help=DAYS_HELP)
    _add_schedule(maintain)
    _add_patient_options(maintain)
    _add_json(maintain)
    maintain.set_defaults(run=_run_plan, plan_kind="maintenance")

    schedule = commands.add_parser(
        "schedule", help="check and lay out a clinician-entered schedule",
        description="The prescriber's own steps, dose by dose, checked against the limits of the reference "
        "(maximum, kidney, UK limits for children) and laid out in the patient's products.",
    )  # fmt: skip
    schedule.add_argument("drug", help="the drug, e.g. baclofen")
    schedule.add_argument("--step", action="append", required=True, help=STEP_HELP)
    _add_schedule(schedule, doses_per_day=False)
    _add_patient_options(schedule)
    _add_json(schedule)
    schedule.set_defaults(run=_run_plan, plan_kind="clinician")


def _add_diary_commands(commands: Any) -> None:
    """diary init | plan | today | take | skip | symptoms | note | medicines | triage (the rest in
    _add_diary_io_commands)."""
    diary = commands.add_parser(
        "diary", help="your dose and symptom diary (stored on this computer)",
        description="A diary of doses and symptoms for one local patient, in SQLite in your data folder "
        "(or the database in $DOSEWISE_DATABASE_URL).",
    )  # fmt: skip
    actions = diary.add_subparsers(dest="diary_command", metavar="ACTION")
    init = actions.add_parser("init", help="create the diary")
    init.add_argument("--name", default="me", help="whose diary it is")
    init.add_argument("--tz", help="IANA time zone (default: $TZ or UTC)")
    plan = actions.add_parser(
        "plan", help="start a plan: titration, maintenance, taper or a clinician-entered schedule",
        description="Start a plan (it replaces the current one from its first day). Choose the kind by "
        "its option: --target-mg-day (titration), --mg-day (maintenance), --from-mg-day (taper) or "
        "--step (clinician-entered); the other options are those of `dosewise plan`.",
    )  # fmt: skip
    plan.add_argument("drug", help="the drug, e.g. baclofen")
    kinds = plan.add_mutually_exclusive_group(required=True)
    kinds.add_argument("--target-mg-day", type=float, help="titration: " + TARGET_HELP)
    kinds.add_argument("--mg-day", type=float, help="maintenance: the daily dose in mg")
    kinds.add_argument("--from-mg-day", type=float, help="taper: the current daily dose in mg")
    kinds.add_argument("--step", action="append", help="clinician-entered: " + STEP_HELP)
    plan.add_argument("--days", type=int, default=DEFAULT_MAINTENANCE_DAYS, help="maintenance: " + DAYS_HELP)
    plan.add_argument("--min-days", type=int, help="taper: " + MIN_DAYS_HELP)
    _add_schedule(plan)
    _add_patient_options(plan)
    today = actions.add_parser("today", help="the doses of the day, what is due now and what to do")
    today.add_argument("--date", help="another day, YYYY-MM-DD")
    _add_json(today)
    for name, verb in (("take", "taken"), ("skip", "skipped")):
        action = actions.add_parser(
            name, help=f"record a dose as {verb} (once per dose: repeats are ignored)"
        )
        action.add_argument("slot", type=int, help="the dose number shown by `dosewise diary today`")
        if name == "take":
            action.add_argument(
                "--at", help="when it was taken: HH:MM today or YYYY-MM-DDTHH:MM (default: now)"
            )
    symptoms = actions.add_parser("symptoms", help="record spasms, spasticity and side effects")
    symptoms.add_argument("--penn-frequency", type=int, required=True, help=PENN_FREQUENCY_HELP)
    symptoms.add_argument("--penn-severity", type=int, help=PENN_SEVERITY_HELP)
    symptoms.add_argument(
        "--spasticity", type=int, required=True, help="spasticity rating 0 (none) to 10 (worst)"
    )
    symptoms.add_argument(
        "--side-effect", action="append", default=[],
        help="NAME:SEVERITY (1 mild, 2 moderate, 3 severe), e.g. drowsiness:2 (repeatable)",
    )  # fmt: skip
    symptoms.add_argument("--note", default="", help="a note for the prescriber")
    note = actions.add_parser("note", help="write a note for the prescriber")
    note.add_argument("text", help="the note")
    medicines = actions.add_parser("medicines", help="your other medicines, checked for interactions")
    medicines.add_argument("--add", action="append", default=[], help="a medicine you take (repeatable)")
    medicines.add_argument(
        "--stop", type=int, action="append", default=[], help="the number of one you stopped"
    )
    _add_json(medicines)
    feel = actions.add_parser("triage", help="how do I feel? triage with your diary's context")
    feel.add_argument("symptoms", nargs="+", help='symptoms, e.g. hallucinations "very sleepy"')
    _add_json(feel)
    _add_diary_io_commands(actions)
    diary.set_defaults(run=_run_diary)


def _add_diary_io_commands(actions: Any) -> None:
    """diary adherence | report | export | import | backup | restore."""
    adherence = actions.add_parser("adherence", help="doses taken on time, late, skipped and missed")
    _add_range(adherence)
    adherence.add_argument("--by", choices=("day", "step"), default="step", help="rows per day or per step")
    _add_json(adherence)
    report = actions.add_parser("report", help="the report for the prescriber (HTML or PDF, with charts)")
    report.add_argument("output", help="the file to write: .html or .pdf")
    _add_range(report)
    export = actions.add_parser("export", help="export the diary: CSV tables or a FHIR R4 Bundle")
    export.add_argument("output", help="a new folder (CSV) or a .json file (FHIR)")
    export.add_argument("--format", choices=("csv", "fhir"), required=True)
    imports = actions.add_parser("import", help="replace the diary with a Dosewise CSV export")
    imports.add_argument("folder", help="the folder written by `dosewise diary export --format csv`")
    imports.add_argument("--yes", action="store_true", help="replace a diary that has entries")
    backup = actions.add_parser("backup", help="copy the diary to a backup file (safe while it is in use)")
    backup.add_argument("file", help="a new file to write")
    restore = actions.add_parser("restore", help="replace the diary with a backup file")
    restore.add_argument("file", help="a file written by `dosewise diary backup`")
    restore.add_argument("--yes", action="store_true", help="replace a diary that has entries")


def _add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first_day", help="first day, YYYY-MM-DD (default: 28 days ago)")
    parser.add_argument("--to", dest="last_day", help="last day, YYYY-MM-DD (default: today)")


def _run_diary(args: argparse.Namespace) -> None:
    from dosewise.cli.diary import run_diary

    if args.diary_command is None:
        raise InputError("say what to do, e.g. dosewise diary today (see: dosewise diary --help)")
    run_diary(args)


def _add_safety_commands(commands: Any) -> None:
    """interactions, missed, triage (issue 3)."""
    interactions = commands.add_parser(
        "interactions", help="check other medicines (and alcohol) against baclofen",
        description="Interactions of baclofen with the medicines you name, as you would type them "
        "(brands, salts, small typos). A name that is not recognised is reported, never called safe.",
    )  # fmt: skip
    interactions.add_argument("drug", help="the drug, e.g. baclofen")
    interactions.add_argument("medicines", nargs="+", help="other medicines, e.g. oxycodone Xanax alcohol")
    interactions.add_argument("--crcl", type=float, help="creatinine clearance in mL/min (NSAIDs)")
    _add_json(interactions)
    interactions.set_defaults(run=_run_interactions)

    missed = commands.add_parser(
        "missed", help="I missed a dose: take it now or skip it?",
        description="Missed-dose advice from your dose times and the time now. Never double up.",
    )  # fmt: skip
    missed.add_argument("--times", required=True, help="your dose times HH:MM,..., e.g. 08:00,14:00,20:00")
    missed.add_argument("--missed", required=True, help="the dose time you missed, HH:MM")
    missed.add_argument("--now", help="the time now, HH:MM (default: the clock)")
    missed.add_argument("--date", help="the date of --now, YYYY-MM-DD (default: today in --tz)")
    missed.add_argument("--tz", help="IANA time zone (default: $TZ or UTC)")
    missed.add_argument(
        "--window-h", type=float, help="skip if the next dose is due within this many hours (2)"
    )
    missed.add_argument(
        "--last-taken", help="when you last took a dose, YYYY-MM-DDTHH:MM (24 h or more: see your prescriber)"
    )
    _add_json(missed)
    missed.set_defaults(run=_run_missed)

    triage = commands.add_parser(
        "triage", help="how urgent is this symptom?",
        description="Emergency, urgent or routine, from your symptoms and their context.",
    )  # fmt: skip
    triage.add_argument("symptoms", nargs="+", help='symptoms, e.g. hallucinations fever "very sleepy"')
    triage.add_argument("--stopped-hours-ago", type=float, help="hours since baclofen was stopped")
    triage.add_argument("--missed-doses-24h", type=int, help="doses missed in the last 24 hours")
    triage.add_argument("--crcl", type=float, help="creatinine clearance in mL/min")
    triage.add_argument(
        "--medicine", action="append", default=[], help="another medicine you take (repeatable)"
    )
    _add_json(triage)
    triage.set_defaults(run=_run_triage)


def _add_simulate_command(commands: Any) -> None:
    """simulate (issue 4); runs in cli.simulate, which needs NumPy."""
    simulate = commands.add_parser(
        "simulate", help="simulated blood levels of a regimen or a plan",
        description="Blood levels from a population PK model (one compartment, first-order "
        "absorption), for a typical patient or a virtual population. An estimate, not a measurement.",
    )  # fmt: skip
    simulate.add_argument("drug", help="the drug, e.g. baclofen")
    simulate.add_argument("--dose-mg", type=float, help="dose in mg (with --every-h and --days)")
    simulate.add_argument("--every-h", type=float, help="hours between doses")
    simulate.add_argument("--days", type=float, help="days of dosing")
    simulate.add_argument("--plan", help="a plan written by `dosewise plan --json` (instead of --dose-mg)")
    simulate.add_argument("--crcl", type=float, help="creatinine clearance in mL/min (default: normal, 100)")
    simulate.add_argument("--population", type=int, help="simulate this many virtual patients")
    simulate.add_argument("--seed", type=int, default=1, help="random seed for the population (default 1)")
    simulate.add_argument(
        "--threshold-mg-l", type=float, help="report the share of patients above this level"
    )
    simulate.add_argument("--plot", help="draw the levels to this .png or .svg file")
    _add_json(simulate)
    simulate.set_defaults(run=_run_simulate)


def _add_creatinine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scr-mg-dl", type=float, help="serum creatinine in mg/dL")
    parser.add_argument("--scr-umol-l", type=float, help="serum creatinine in µmol/L")


def _add_schedule(parser: argparse.ArgumentParser, *, doses_per_day: bool = True) -> None:
    if doses_per_day:
        parser.add_argument("--doses-per-day", type=int, default=3, help="doses a day: 3 or 4 (default 3)")
    parser.add_argument("--start", help="first day, YYYY-MM-DD (default: today in --tz)")
    parser.add_argument("--times", help="clock times HH:MM,... (default 08:00,14:00,20:00 for 3 doses)")
    parser.add_argument("--tz", help="IANA time zone, e.g. Europe/London (default: $TZ or UTC)")
    parser.add_argument("--product", action="append", default=[], help=PRODUCT_HELP)
    parser.add_argument("--ics", help="also write dose reminders to this .ics file")


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for scripts")


def _run_kidney(args: argparse.Namespace) -> None:
    from dosewise.domain.kidney import assess_kidney_function
    from dosewise.exporters.plan_json import kidney_to_dict

    monograph = load_monograph("baclofen")
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


def _run_plan(args: argparse.Namespace) -> None:
    result, monograph, clock_times, zone_name, zone = build_plan_from_args(args)
    _emit(result, monograph, clock_times, zone_name, zone, as_json=args.as_json, ics=args.ics)


def plan_kind_of(args: argparse.Namespace) -> str:
    """The kind of plan the options ask for (commands set it; `diary plan` says it by option)."""
    kind: str | None = getattr(args, "plan_kind", None)
    if kind is not None:
        return kind
    for option, name in (
        ("target_mg_day", "titration"),
        ("mg_day", "maintenance"),
        ("from_mg_day", "taper"),
        ("step", "clinician"),
    ):
        if getattr(args, option, None) is not None:
            return name
    raise InputError("say which plan: --target-mg-day, --mg-day, --from-mg-day or --step")


def build_plan_from_args(args: argparse.Namespace) -> tuple[Plan, Monograph, tuple[time, ...], str, ZoneInfo]:
    """The plan that a plan command's options describe (also used by `diary plan`)."""
    from dosewise.services.plans import KidneyInput, PlanRequest, build_plan

    zone_name, zone = time_zone_from(args.tz)
    request = PlanRequest(
        kind=plan_kind_of(args),
        drug=args.drug,
        target_mg_day=getattr(args, "target_mg_day", None),
        mg_day=getattr(args, "mg_day", None),
        from_mg_day=getattr(args, "from_mg_day", None),
        steps=tuple(getattr(args, "step", None) or ()),
        days=getattr(args, "days", DEFAULT_MAINTENANCE_DAYS),
        min_days=getattr(args, "min_days", None),
        doses_per_day=getattr(args, "doses_per_day", 3),
        times=args.times,
        start=_start_date(args.start, zone),
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
    )
    built = build_plan(request)
    return built.plan, built.monograph, built.times, zone_name, zone


def _run_simulate(args: argparse.Namespace) -> None:
    from dosewise.cli.simulate import run_simulate

    run_simulate(args)


def _run_interactions(args: argparse.Namespace) -> None:
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.kidney import assess_creatinine_clearance
    from dosewise.exporters.safety_json import interactions_to_dict
    from dosewise.monographs import load_medicines

    monograph = load_monograph(args.drug)
    kidney = assess_creatinine_clearance(monograph.kidney, args.crcl) if args.crcl is not None else None
    report = check_interactions(monograph, MedicineIndex(load_medicines()), args.medicines, kidney=kidney)
    if args.as_json:
        print_json(interactions_to_dict(report, monograph))
    else:
        from dosewise.cli.render import render_interactions

        render_interactions(report, monograph)


def _run_missed(args: argparse.Namespace) -> None:
    from dosewise.domain.missed_dose import advise_missed_dose
    from dosewise.domain.schedule import localize, parse_clock_times
    from dosewise.exporters.safety_json import missed_dose_to_dict

    monograph = load_monograph("baclofen")
    zone_name, zone = time_zone_from(args.tz)
    times = parse_clock_times(args.times, len(args.times.split(",")))
    (missed,) = parse_clock_times(args.missed, 1)
    current = datetime.now(tz=zone)
    day = current.date() if args.date is None else _parse_date(args.date, "--date")
    clock = (
        current.time().replace(second=0, microsecond=0)
        if args.now is None
        else parse_clock_times(args.now, 1)[0]
    )
    now = localize(day, clock, zone)
    last_taken = None
    if args.last_taken is not None:
        try:
            last_taken = datetime.fromisoformat(args.last_taken)
        except ValueError:
            raise InputError(f"--last-taken {args.last_taken!r} must be YYYY-MM-DDTHH:MM") from None
        last_taken = last_taken if last_taken.tzinfo else last_taken.replace(tzinfo=zone)
    advice = advise_missed_dose(
        monograph.missed_dose,
        times=times,
        missed=missed,
        now=now,
        window_h=args.window_h,
        last_taken=last_taken,
    )
    if args.as_json:
        print_json(missed_dose_to_dict(advice, monograph))
    else:
        from dosewise.cli.render import render_missed_dose

        render_missed_dose(advice, monograph, zone_name)


def _run_triage(args: argparse.Namespace) -> None:
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.triage import triage
    from dosewise.exporters.safety_json import triage_to_dict
    from dosewise.monographs import load_medicines

    monograph = load_monograph("baclofen")
    sedating: list[str] = []
    if args.medicine:
        report = check_interactions(monograph, MedicineIndex(load_medicines()), args.medicine)
        sedating = report.sedating(monograph)
        unknown = [miss.text for miss in report.unrecognised]
        if unknown:
            sys.stderr.write(f"dosewise: note: medicine not recognised, not counted: {', '.join(unknown)}\n")
    result = triage(
        monograph,
        args.symptoms,
        stopped_hours_ago=args.stopped_hours_ago,
        missed_doses_24h=args.missed_doses_24h,
        crcl_ml_min=args.crcl,
        sedating_medicines=sedating,
    )
    if args.as_json:
        print_json(triage_to_dict(result, monograph))
    else:
        from dosewise.cli.render import render_triage

        render_triage(result, monograph)


def _emit(
    result: Plan,
    monograph: Monograph,
    clock_times: tuple[time, ...],
    zone_name: str,
    zone: ZoneInfo,
    *,
    as_json: bool,
    ics: str | None,
) -> None:
    if ics is not None:
        from dosewise.domain.schedule import build_dose_events
        from dosewise.exporters.ical import build_calendar

        events = build_dose_events(result, clock_times, zone)
        content = build_calendar(
            result, events, monograph, time_zone=zone_name, created=datetime.now(tz=zone)
        )
        try:
            with open(ics, "wb") as file:
                file.write(content)
        except OSError as error:
            raise InputError(f"cannot write {ics}: {error.strerror or error}") from None
    if as_json:
        from dosewise.exporters.plan_json import plan_to_dict

        print_json(plan_to_dict(result, monograph, times=clock_times, time_zone=zone_name))
    else:
        from dosewise.cli.render import render_plan

        render_plan(result, monograph, clock_times, zone_name, ics)


def time_zone_from(name: str | None) -> tuple[str, ZoneInfo]:
    chosen = os.environ.get("TZ", "").lstrip(":") or "UTC" if name is None else name.strip()
    try:
        return chosen, ZoneInfo(chosen)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        if name is None:  # a $TZ that is not an IANA name: fall back quietly
            return "UTC", ZoneInfo("UTC")
        raise InputError(f"unknown time zone {name!r}: use an IANA name such as Europe/London") from None


def _start_date(text: str | None, zone: ZoneInfo) -> date:
    if text is None:
        return datetime.now(tz=zone).date()
    return _parse_date(text, "start date")


def _parse_date(text: str, what: str) -> date:
    from dosewise.services.plans import parse_date

    return parse_date(text, what)


def print_json(data: dict[str, Any]) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fail(code: int, message: str) -> NoReturn:
    sys.stderr.write(f"dosewise: {' '.join(message.split())}\n")
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: run one command and map every failure to one line and an exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], None] | None = getattr(args, "run", None)
        if run is None:
            parser.print_help()
            raise SystemExit(0)
        run(args)
    except SafetyRefusal as refusal:
        hint = " (clinician: add --clinician-override)" if refusal.overridable else ""
        _fail(EXIT_SAFETY, f"refused for safety: {refusal}{hint}")
    except DosewiseError as error:
        _fail(EXIT_INPUT, f"error: {error}")
    except KeyboardInterrupt:
        _fail(130, "interrupted")
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    raise SystemExit(0)
