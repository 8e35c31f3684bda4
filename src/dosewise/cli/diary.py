"""``dosewise diary``: the local diary of one patient.

Adding the subcommands costs nothing at start-up: SQLAlchemy and the services are imported
only when a diary command runs, so the `plan` and `kidney` paths stay fast.
"""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import (
    MIN_DAYS_HELP,
    STEP_HELP,
    TARGET_HELP,
    TZ_HELP,
    add_command,
    add_json,
    add_patient_options,
    add_schedule,
    print_json,
    write_chunks,
    write_file,
)
from dosewise.domain.scales import PENN_FREQUENCY, PENN_SEVERITY
from dosewise.errors import InputError, NotFound

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dosewise.cli.settings import Settings
    from dosewise.domain.adherence import Slot, Tally
    from dosewise.services.doses import Change

DEFAULT_RANGE_DAYS = 28
STATE_MARKS = {
    "on_time": "[x]",
    "late": "[x] late",
    "skipped": "[-] skipped",
    "missed": "[!] missed",
    "due": "[ ] DUE NOW",
    "upcoming": "[ ]",
}
PENN_FREQUENCY_HELP = "Penn spasm frequency [PSFS]: " + ", ".join(f"{n} {w}" for n, w in PENN_FREQUENCY)
PENN_SEVERITY_HELP = "Penn spasm severity when frequency > 0 [PSFS]: " + ", ".join(
    f"{n} {w}" for n, w in PENN_SEVERITY
)

ACTOR = "cli"
YES_NO = ("yes", "no")


def add_commands(commands: Any) -> None:
    """diary init | plan | today | take | skip | correct | symptoms | note | medicines | profile |
    triage, and the rest in _add_io_commands."""
    diary = add_command(
        commands, "diary", help="your dose and symptom diary (stored on this computer)",
        description="A diary of doses and symptoms for one local patient, in SQLite in your data folder "
        "(or the database in $DOSEWISE_DATABASE_URL).",
    )  # fmt: skip
    diary.set_defaults(run=run_diary, diary_command=None)
    actions = diary.add_subparsers(dest="diary_command", metavar="ACTION")
    init = add_command(actions, "init", help="create the diary")
    init.add_argument("--name", default="me", help="whose diary it is")
    init.add_argument("--tz", help=TZ_HELP)
    plan = add_command(
        actions, "plan", help="start a plan: titration, maintenance, taper or a clinician-entered schedule",
        description="Start a plan: it takes over from the current one at its first dose time from now on "
        "(the old plan's doses from then on are cancelled). Choose the kind by "
        "its option: --target-mg-day (titration), --mg-day (maintenance), --from-mg-day (taper) or "
        "--step (clinician-entered); the other options are those of `dosewise plan`.",
    )  # fmt: skip
    plan.add_argument("drug", help="the drug, e.g. baclofen")
    kinds = plan.add_mutually_exclusive_group(required=True)
    kinds.add_argument("--target-mg-day", type=float, help="titration: " + TARGET_HELP)
    kinds.add_argument("--mg-day", type=float, help="maintenance: the daily dose in mg")
    kinds.add_argument("--from-mg-day", type=float, help="taper: the current daily dose in mg")
    kinds.add_argument("--step", action="append", help="clinician-entered: " + STEP_HELP)
    plan.add_argument("--min-days", type=int, help="taper: " + MIN_DAYS_HELP)
    add_schedule(plan)
    plan.add_argument(
        "--started-earlier",
        action="store_true",
        help="the --start day is in the past: the patient is already on this plan (doses from now on)",
    )
    plan.add_argument(
        "--confirm-rise", metavar="REASON",
        help="save a plan that raises the daily dose by more than a step may, saying why (audited)",
    )  # fmt: skip
    add_patient_options(plan)
    today = add_command(actions, "today", help="the doses of the day, what is due now and what to do")
    today.add_argument("--date", help="another day, YYYY-MM-DD")
    add_json(today)
    for name, verb in (("take", "taken"), ("skip", "skipped")):
        action = add_command(
            actions, name, help=f"record a dose as {verb} (once per dose: repeats are ignored)"
        )
        action.add_argument("slot", type=int, help="the dose number shown by `dosewise diary today`")
        if name == "take":
            action.add_argument(
                "--at",
                help="when it was taken: HH:MM (the latest such time, so 22:40 typed after midnight is "
                "last night) or YYYY-MM-DDTHH:MM (default: now)",
            )
    _add_correction_commands(actions)
    symptoms = add_command(actions, "symptoms", help="record spasms, spasticity and side effects")
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
    note = add_command(actions, "note", help="write a note for the prescriber")
    note.add_argument("text", help="the note")
    medicines = add_command(actions, "medicines", help="your other medicines, checked for interactions")
    medicines.add_argument("--add", action="append", default=[], help="a medicine you take (repeatable)")
    medicines.add_argument(
        "--stop", type=int, action="append", default=[], help="the number of one you stopped"
    )
    add_json(medicines)
    profile = add_command(
        actions, "profile",
        help="About me: your country (for the emergency number), pregnancy, breastfeeding, epilepsy",
        description="Show About me, or change it: the country gives the emergency number Dosewise shows; "
        "pregnancy, breastfeeding and epilepsy show their own advice with the plan, today and the report.",
    )  # fmt: skip
    profile.add_argument("--country", help="ISO 3166-1 alpha-2 code, e.g. GB, US, DE ('none' clears it)")
    _add_conditions(profile)
    add_json(profile)
    feel = add_command(
        actions, "triage", help="how do I feel? triage with your diary's context (kept in the diary)"
    )
    feel.add_argument("symptoms", nargs="*", help='symptoms, e.g. hallucinations "very sleepy"')
    from dosewise.cli.safety import add_triage_questions

    add_triage_questions(feel)
    add_json(feel)
    _add_supply_commands(actions)
    _add_io_commands(actions)


def _add_supply_commands(actions: Any) -> None:
    """diary supply show | count | collected | adjust | log."""
    supply = add_command(
        actions, "supply", help="your stock of each product, when it runs out, refills",
        description="How much of each product you have, counted down by the doses you take, and when "
        "it runs out through the plan's coming doses. Running out means stopping suddenly, which can "
        "cause seizures and hallucinations [US-TAB, OZO, LYV]: record counts and refills so Dosewise "
        "can warn in time (at 7, 3 and 1 days left: product defaults).",
    )  # fmt: skip
    supply.set_defaults(supply_command=None)
    steps = supply.add_subparsers(dest="supply_command", metavar="ACTION")
    show = add_command(steps, "show", help="stock per product and the run-out forecast")
    add_json(show)
    for name, verb in (("count", "you counted (the amount you have now)"), ("collected", "you collected")):
        action = add_command(steps, name, help=f"record the amount {verb}")
        action.add_argument("product", help="the product, e.g. tablet:10mg:halves or 10mg (see: supply show)")
        action.add_argument("quantity", help="tablets (halves as 37.5), packets, or mL of a liquid")
        add_json(action)
    adjust = add_command(steps, "adjust", help="record a change (lost, dropped, found) with a note")
    adjust.add_argument("product", help="the product, e.g. tablet:10mg:halves or 10mg")
    adjust.add_argument("quantity", help="the change, e.g. -2 (two lost) or 3 (three found)")
    adjust.add_argument("--note", required=True, help="why the stock changed")
    add_json(adjust)
    log = add_command(steps, "log", help="the counts, refills and adjustments recorded, newest first")
    add_json(log)


def _add_conditions(profile: Any) -> None:
    """About me's conditions: --pregnant, --breastfeeding, --epilepsy, --liver."""
    for condition in ("pregnant", "breastfeeding", "epilepsy"):
        profile.add_argument(f"--{condition}", choices=YES_NO, help=f"{condition}: yes or no")
    profile.add_argument(
        "--liver", choices=("none", "mild", "moderate", "severe", "not-known"), help="liver disease"
    )  # About me's answers (domain.alternatives.LIVER_RECORD, not_known written not-known)


def _add_correction_commands(actions: Any) -> None:
    """diary missed | correct: what to do about a dose, and correcting its record."""
    missed = add_command(
        actions, "missed", help="I missed a dose: take it now or skip it? (from the diary's own doses)",
        description="Missed-dose advice for a dose of the diary due in the last 24 hours: the same "
        "advice `diary today` and the pages give, from the real next dose. Never double up.",
    )  # fmt: skip
    missed.add_argument("missed", metavar="HH:MM", help="the time the missed dose was due, e.g. 14:00")
    add_json(missed)
    correct = add_command(
        actions, "correct", help="correct a dose's record: undo it, or say it was taken or skipped",
        description="Correct what the diary says about one dose (never a second record for it): --undo "
        "removes the record, --taken [--at TIME] and --skipped change it, or record a missed dose. Doses "
        "due in the last 48 hours (a Dosewise default); ask your clinician for older ones. Every "
        "correction is kept in the audit trail with the record before and after.",
    )  # fmt: skip
    correct.add_argument("slot", type=int, help="the dose number shown by `dosewise diary today`")
    change = correct.add_mutually_exclusive_group(required=True)
    change.add_argument(
        "--undo", action="store_true", help="remove the record (the dose is due or missed again)"
    )
    change.add_argument("--taken", action="store_true", help="it was taken (at --at, default now)")
    change.add_argument("--skipped", action="store_true", help="it was skipped")
    correct.add_argument(
        "--at",
        help="with --taken: when it was taken, HH:MM (nearest the dose's time, not in the future) or "
        "YYYY-MM-DDTHH:MM",
    )


def _add_io_commands(actions: Any) -> None:
    """diary adherence | benefit | report | export | import | backup | restore."""
    adherence = add_command(actions, "adherence", help="doses taken on time, late, skipped and missed")
    _add_range(adherence)
    adherence.add_argument("--by", choices=("day", "step"), default="step", help="rows per day or per step")
    add_json(adherence)
    benefit = add_command(
        actions, "benefit", help="is baclofen working? the benefit review (it never changes a plan)",
        description="The scores at a stable dose against those before titration (baclofen.md section 10): "
        "a flag when there is no clear benefit after the trial, and whether side effects rose with each "
        "step. The same review as the report and GET /api/patients/{id}/benefit.",
    )  # fmt: skip
    benefit.add_argument(
        "--patient", type=int, help="the patient's number in the database (default: the diary's own patient)"
    )
    add_json(benefit)
    report = add_command(actions, "report", help="the report for the prescriber (HTML or PDF, with charts)")
    report.add_argument("output", help="the file to write: .html or .pdf")
    report.add_argument(
        "--from", dest="first_day", help="first day, YYYY-MM-DD (default: 12 months before the last day)"
    )
    report.add_argument(
        "--to", dest="last_day", help="last day, YYYY-MM-DD (default: the diary's last day, usually today)"
    )
    export = add_command(actions, "export", help="export the diary: CSV tables or a FHIR R4 Bundle")
    export.add_argument("output", help="a new folder (CSV) or a .json file (FHIR)")
    export.add_argument("--format", choices=("csv", "fhir"), required=True)
    export.add_argument(
        "--from", dest="first_day", help="FHIR: first day, YYYY-MM-DD (default: the diary's first)"
    )
    export.add_argument(
        "--to", dest="last_day", help="FHIR: last day, YYYY-MM-DD (default: the diary's last)"
    )
    imports = add_command(actions, "import", help="replace the diary with a Dosewise CSV export")
    imports.add_argument("folder", help="the folder written by `dosewise diary export --format csv`")
    imports.add_argument("--yes", action="store_true", help="replace a diary that has entries")
    backup = add_command(actions, "backup", help="copy the diary to a backup file (safe while it is in use)")
    backup.add_argument("file", help="a new file to write")
    restore = add_command(actions, "restore", help="replace the diary with a backup file")
    restore.add_argument("file", help="a file written by `dosewise diary backup`")
    restore.add_argument("--yes", action="store_true", help="replace a diary that has entries")


def _add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first_day", help="first day, YYYY-MM-DD (default: 28 days ago)")
    parser.add_argument("--to", dest="last_day", help="last day, YYYY-MM-DD (default: today)")


def database_url(settings: Settings) -> str:
    """The configured database, or SQLite in the user's data folder (made on first use)."""
    if settings.database_url:
        return settings.database_url
    from platformdirs import user_data_dir

    folder = user_data_dir("dosewise", appauthor=False)
    os.makedirs(folder, exist_ok=True)
    return f"sqlite:///{os.path.join(folder, 'diary.sqlite3')}"


def run_diary(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services import patients
    from dosewise.services.storage import open_database

    if args.diary_command is None:
        raise InputError("say what to do, e.g. dosewise diary today (see: dosewise diary --help)")
    with open_database(database_url(settings)) as engine:
        action = args.diary_command
        if action == "init":
            _init(engine, args, settings)
        elif action in ("backup", "restore", "import"):
            _transfer(engine, args)
        else:
            from zoneinfo import ZoneInfo

            patient, zone_name = patients.find_local_patient(engine)
            now = settings.now(ZoneInfo(zone_name))
            {
                "plan": _plan,
                "today": _today,
                "take": _record,
                "skip": _record,
                "correct": _correct,
                "missed": _missed,
                "symptoms": _symptoms,
                "note": _note,
                "medicines": _medicines,
                "triage": _triage,
                "profile": _profile,
                "supply": _supply,
                "adherence": _adherence,
                "benefit": _benefit,
                "report": _report,
                "export": _export,
            }[action](engine, args, patient, now, settings)


def _init(engine: Engine, args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services import patients

    try:
        _, zone = patients.find_local_patient(engine)
    except NotFound:
        zone_name, zone_info = settings.zone(args.tz)
        patients.create_patient(
            engine, name=args.name, time_zone=zone_name, now=settings.now(zone_info), actor=ACTOR
        )
        print(f"Diary created for {args.name} ({zone_name}).")
        return
    print(f"The diary already exists ({zone}); nothing changed.")


def _plan(engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings) -> None:
    from dosewise.cli.plans import build_plan_from_args, render_built_plan
    from dosewise.services import plans

    zone_name, zone = settings.zone(str(now.tzinfo) if args.tz is None else args.tz)
    built = build_plan_from_args(args, settings, zone, for_diary=True)
    change = plans.plan_change(engine, patient_id=patient, built=built, time_zone=zone_name, now=now)
    plan_id = plans.save_plan(
        engine,
        patient_id=patient,
        built=built,
        time_zone=zone_name,
        now=now,
        actor=ACTOR,
        confirm_rise=args.confirm_rise,
    )
    render_built_plan(built, zone_name, None)
    print(f"Plan {plan_id} saved: it takes over at {change.takes_over:%a %d %b %Y %H:%M}.")
    print("`dosewise diary today` shows the doses to tick off. Agree every plan with the prescriber.")


def _slot_dict(slot: Slot) -> dict[str, object]:
    return {
        "slot": slot.slot_id,
        "due": slot.due_at.isoformat(),
        "dose_mg": slot.dose_ug / 1000,
        "how": slot.how,
        "status": slot.recorded,
        "state": slot.state,
        "taken_at": slot.taken_at.isoformat() if slot.taken_at else None,
    }


def _today(engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings) -> None:
    from dosewise.domain.units import format_mg
    from dosewise.services import doses

    due, today_slots = doses.today(engine, patient_id=patient, now=now)
    day = due.now.date() if args.date is None else _day(args.date, "the date", "date")
    slots = (
        today_slots if day == due.now.date() else doses.list_day(engine, patient_id=patient, day=day, now=now)
    )
    routine = due.routine
    gap = None if routine.stopped else due.no_dose_hours
    if args.as_json:
        print_json(
            {
                "date": day.isoformat(),
                "doses": [_slot_dict(slot) for slot in slots],
                "due_now": [
                    {
                        **_slot_dict(slot),
                        "advice": advice.action,
                        "message": advice.message,
                        "source": advice.source,
                    }
                    for slot, advice in due.overdue
                ],
                "next": _slot_dict(due.next_dose) if due.next_dose else None,
                "routine": {
                    "kind": routine.kind,
                    "stopped": routine.stopped,
                    "stop_date": routine.stop_date.isoformat() if routine.stop_date else None,
                    "review_on": routine.review_on.isoformat() if routine.review_on else None,
                    "new_plan_at": routine.new_plan_at.isoformat() if routine.new_plan_at else None,
                    "no_dose_hours": None if gap is None else round(gap),
                },
            }
        )
        return
    if gap is not None:
        print(
            f"NO DOSE RECORDED FOR {gap:.0f} HOURS. If you took your doses, record them; if not, do not "
            "simply restart your usual dose: contact your prescriber first. Withdrawal signs "
            "(hallucinations, confusion, high fever, stiffness): call emergency services. [DOSEWISE, US-TAB]"
        )
    if routine.new_plan_at is not None:
        when = f"{routine.new_plan_at:%a %d %b %H:%M}"
        print(f"Your new plan starts at {when}; until then keep to the current doses.")
    if not slots:
        if routine.stopped and routine.stop_date is not None and day >= routine.stop_date:
            print(f"Baclofen was stopped on {routine.stop_date.isoformat()} after a taper. No more doses.")
        else:
            print(f"No doses planned on {day.isoformat()}.")
    else:
        print(f"Doses on {day.isoformat()} ({now.tzinfo}):")
        for slot in slots:
            taken = f" at {slot.taken_at:%H:%M}" if slot.taken_at else ""
            print(
                f"  {STATE_MARKS[slot.state]}{taken} #{slot.slot_id} {slot.due_at:%H:%M} "
                f"{format_mg(slot.dose_ug)} mg: {slot.how}"
            )
    for slot, advice in due.overdue:
        print(
            f"Dose #{slot.slot_id} ({slot.due_at:%H:%M}) is not recorded: {advice.message} [{advice.source}]"
        )
    if due.next_dose is not None:
        nxt = due.next_dose
        print(
            f"Next: #{nxt.slot_id} {nxt.due_at:%a %Y-%m-%d %H:%M}, {format_mg(nxt.dose_ug)} mg ({nxt.how})."
        )
    if routine.kind == "taper" and not routine.stopped and routine.last_dose_day is not None:
        print(f"This taper's last doses are on {routine.last_dose_day.isoformat()}; baclofen then stops.")
    if routine.review_on is not None:
        print(f"Review with your prescriber by {routine.review_on.isoformat()}.")
    print(
        "Wrong record? `dosewise diary correct DOSE` (--undo, --taken [--at HH:MM], --skipped). "
        "Decision support: agree changes with your prescriber."
    )


def _record(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import doses

    record = doses.record_dose(
        engine,
        patient_id=patient,
        slot_id=args.slot,
        status="taken" if args.diary_command == "take" else "skipped",
        now=now,
        taken_at=getattr(args, "at", None),  # read on the patient's clock by the service
        actor=ACTOR,
    )
    if record.created:
        print(f"Dose #{record.slot_id} recorded as {record.status}.")
    else:
        print(f"Dose #{record.slot_id} was already recorded as {record.status}; nothing changed.")


def _missed(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services.clock import parse_clock
    from dosewise.services.missed_doses import advise_missed_from_diary

    answer = advise_missed_from_diary(
        engine, patient_id=patient, missed=parse_clock(args.missed, field="missed"), now=now
    )
    if args.as_json:
        from dosewise.exporters.safety_json import missed_dose_to_dict

        print_json(missed_dose_to_dict(answer.advice, answer.monograph))
    else:
        from dosewise.cli.render import render_missed_dose

        render_missed_dose(answer.advice, answer.monograph, str(now.tzinfo))


def _correct(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import doses

    change: Change = "undo" if args.undo else "taken" if args.taken else "skipped"
    if args.at is not None and change != "taken":
        raise InputError("--at goes with --taken only", field="at")
    try:
        result = doses.correct_dose(
            engine,
            patient_id=patient,
            slot_id=args.slot,
            change=change,
            taken_at=args.at,  # read on the patient's clock (near the dose's time) by the service
            now=now,
            actor=ACTOR,
        )
    except InputError as error:
        if error.field == "taken_at":
            error.field = "at"  # this command's flag for it
        raise
    if result.changed:
        print(f"Corrected: {result.describe(now)} (dose #{result.slot_id}; kept in the audit trail).")
    else:
        said = doses.describe_record(result.due_at, result.after, result.after_taken_at, now)
        print(f"Dose #{result.slot_id}: {said}; nothing changed.")


def _symptoms(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import symptoms

    effects: dict[str, int] = {}
    for item in args.side_effect:
        key, _, severity = item.rpartition(":")
        if not key.strip() or not severity.strip().isdigit():
            raise InputError(
                f"side effect {item!r} must be NAME:SEVERITY, e.g. drowsiness:2", field="side_effects"
            )
        effects[key.strip().lower()] = int(severity)
    saved = symptoms.record_symptoms_and_triage(
        engine,
        patient_id=patient,
        now=now,
        penn_frequency=args.penn_frequency,
        penn_severity=args.penn_severity,
        spasticity_nrs=args.spasticity,
        side_effects=effects,
        note=args.note,
        actor=ACTOR,
    )
    print("Symptoms recorded.")
    if saved.triage is not None and saved.triage.result.level != "routine":
        from dosewise.cli.safety import show_triage

        show_triage(saved.triage, as_json=False)


def _note(engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings) -> None:
    from dosewise.services import notes

    notes.add_note(engine, patient_id=patient, text=args.text, now=now, actor=ACTOR)
    print("Note recorded.")


def _medicines(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import medicines
    from dosewise.services.medicines import medicine_interactions

    for name in args.add:
        medicines.add_medicine(engine, patient_id=patient, name=name, now=now, actor=ACTOR)
    for number in args.stop:
        medicines.stop_medicine(engine, patient_id=patient, medicine_id=number, now=now, actor=ACTOR)
    check = medicine_interactions(engine, patient_id=patient, now=now)
    current, report, monograph = check.medicines, check.report, check.monograph
    if args.as_json:
        from dosewise.exporters.safety_json import interactions_to_dict

        print_json(
            {
                "medicines": [{"number": number, "name": name} for number, name in current],
                "interactions": interactions_to_dict(report, monograph) if report else None,
            }
        )
        return
    if report is None:
        print("No other medicines recorded. Add one with --add NAME.")
        return
    print("Your other medicines: " + ", ".join(f"#{number} {name}" for number, name in current))
    from dosewise.cli.render import render_interactions

    render_interactions(report, monograph)


def _triage(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.cli.safety import show_triage, triage_answers
    from dosewise.services.triage import triage_patient

    assessment = triage_patient(
        engine,
        patient_id=patient,
        symptoms=args.symptoms,
        now=now,
        actor="cli",
        answers=triage_answers(args),
        amount=args.amount,
    )
    show_triage(assessment, as_json=args.as_json)


def _profile(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import patients

    def flag(value: str | None) -> bool | None:
        return None if value is None else value == "yes"

    changes = (args.country, args.pregnant, args.breastfeeding, args.epilepsy, args.liver)
    if any(value is not None for value in changes):
        country = args.country
        profile = patients.set_patient_profile(
            engine,
            patient_id=patient,
            now=now,
            actor=ACTOR,
            country=patients.KEEP
            if country is None
            else (None if country.strip().lower() == "none" else country),
            pregnant=flag(args.pregnant),
            breastfeeding=flag(args.breastfeeding),
            epilepsy=flag(args.epilepsy),
            liver=None if args.liver is None else args.liver.replace("-", "_"),
        )
    else:
        profile = patients.patient_profile(engine, patient_id=patient)
    advice = patients.advice_for_profile(profile)
    guidance = patients.patient_guidance()
    name = dict(patients.country_choices()).get(profile.country or "")
    if args.as_json:
        from dosewise.exporters.guidance_json import profile_to_dict

        print_json(profile_to_dict(profile.as_dict(), name, profile.emergency, advice, guidance))
        return
    from dosewise.cli.guidance import print_advice, print_sources
    from dosewise.exporters.guidance_json import advice_keys

    emergency = profile.emergency
    print(f"Country: {f'{name} ({profile.country})' if profile.country else 'not said'}")
    print(f"In an emergency call {emergency.label} [{emergency.source}].")
    print(f"  [{emergency.source}] {emergency.citation} {emergency.url}".rstrip())
    if emergency.note:
        print(f"  {emergency.note} Set it with --country, e.g. --country GB.")
    said = ", ".join(c for c in ("pregnant", "breastfeeding", "epilepsy") if getattr(profile, c)) or "none"
    print(f"Conditions with their own advice: {said}.")
    print_advice(advice)
    print_sources(guidance, advice_keys(advice))


def _supply(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import supply

    action = args.supply_command or "show"
    as_json = getattr(args, "as_json", False)
    if action in ("count", "collected", "adjust"):
        kind = {"count": "counted", "collected": "collected", "adjust": "adjusted"}[action]
        recorded = supply.record_stock(
            engine,
            patient_id=patient,
            kind=kind,
            product=args.product,
            quantity=args.quantity,
            note=getattr(args, "note", "") or "",
            now=now,
            actor=ACTOR,
        )
        overview = supply.supply_overview(engine, patient_id=patient, now=now)
        if as_json:
            line = {
                "id": recorded.event_id,
                "kind": kind,
                "product": recorded.product,
                "quantity": recorded.quantity,
            }
            print_json({"event": line, **supply.supply_view(overview)})
            return
        said = {"counted": "Counted", "collected": "Collected", "adjusted": "Adjusted by"}[kind]
        print(f"{said} {recorded.quantity} ({recorded.label}). In stock now: {recorded.stock_now}.")
        print(overview.forecast.message)
        return
    overview = supply.supply_overview(engine, patient_id=patient, now=now)
    if as_json:
        print_json(supply.supply_view(overview))
        return
    if action == "log":
        _print_supply_log(overview)
        return
    _print_supply(overview)


def _print_supply(overview: Any) -> None:
    from dosewise.services import supply

    forecast = overview.forecast
    if not overview.products:
        print(
            "No products yet: start a plan first (`dosewise diary plan ...`); its products are counted here."
        )
        return
    print("Supply (counted down by the doses taken):")
    for product in forecast.products:
        view = supply.product_view(product)
        if view["stock"] is None:
            state = "not counted yet"
        else:
            state = f"{view['stock']} (since {product.stock.since:%a %d %b %H:%M})"
            if product.stock.overdrawn:
                state += ": more doses were taken than the stock recorded, count again"
        if not product.used_by_plan:
            runs = "not used by the plan's coming doses"
        elif product.runs_out_at is not None:
            runs = f"runs out {supply.describe_when(product.runs_out_at, overview.now)} [{product.level}]"
        elif product.stock is not None:
            runs = "enough for every planned dose known"
        else:
            runs = "count it to see when it runs out"
        print(f"  {product.product:<26} {state}; {runs}")
    print(forecast.message)
    if forecast.not_counted:
        print(
            "Not counted yet: "
            + ", ".join(forecast.not_counted)
            + " (`dosewise diary supply count PRODUCT N`)."
        )
    print(f"Warnings: {forecast.thresholds.describe()}.")
    print(overview.explanation)


def _print_supply_log(overview: Any) -> None:
    if not overview.log:
        print("Nothing recorded yet: `dosewise diary supply count PRODUCT N` records what you have now.")
        return
    for line in overview.log:
        note = f" ({line.note})" if line.note else ""
        print(f"  #{line.event_id} {line.at:%a %Y-%m-%d %H:%M} {line.kind:<9} {line.quantity:>14} "
              f"{line.label}, by {line.recorded_by}{note}")  # fmt: skip


def _range(args: argparse.Namespace, now: datetime) -> tuple[date, date]:
    from dosewise.services import doses

    last = now.date() if args.last_day is None else _day(args.last_day, "the last day", "last_day")
    first = (
        last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if args.first_day is None
        else _day(args.first_day, "the first day", "first_day")
    )
    doses.check_range(first, last)
    return first, last


def _day(text: str, what: str, field: str) -> date:
    from dosewise.services.clock import parse_date

    return parse_date(text, what, field=field)


def _tally_dict(tally: Tally) -> dict[str, object]:
    return {
        "planned": tally.planned,
        "on_time": tally.on_time,
        "late": tally.late,
        "skipped": tally.skipped,
        "missed": tally.missed,
        "pending": tally.pending,
        "taken_share": None if tally.taken_share is None else round(tally.taken_share, 4),
    }


def _adherence(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.services import doses

    first, last = _range(args, now)
    result = doses.adherence(engine, patient_id=patient, first_day=first, last_day=last, now=now)
    if args.as_json:
        print_json(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "on_time_window_h": result.on_time_window_h,
                "on_time_window_is_default": True,
                "total": _tally_dict(result.total),
                "by_day": [{"date": day.isoformat(), **_tally_dict(t)} for day, t in result.by_day],
                "by_step": [{"plan": p, "step": s, **_tally_dict(t)} for p, s, t in result.by_step],
                "sources": list(result.sources),
            }
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Doses {first} to {last}")
    table.add_column("Day" if args.by == "day" else "Plan, step")
    for name in ("Planned", "On time", "Late", "Skipped", "Missed", "To come", "Taken"):
        table.add_column(name, justify="right")
    rows = (
        [(day.isoformat(), t) for day, t in result.by_day]
        if args.by == "day"
        else [(f"plan {p}, step {s}", t) for p, s, t in result.by_step]
    )
    for label, tally in [*rows, ("All", result.total)]:
        share = "-" if tally.taken_share is None else f"{tally.taken_share:.0%}"
        table.add_row(
            label, *(str(n) for n in (tally.planned, tally.on_time, tally.late, tally.skipped, tally.missed,
                                      tally.pending)), share,
        )  # fmt: skip
    console = Console()
    console.print(table)
    print(
        f"On time: within {result.on_time_window_h:g} h of the due time (a Dosewise default). "
        "An unrecorded dose counts as missed once the missed-dose advice says to skip it [NHS]."
    )


def _benefit(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.exporters.benefit_json import benefit_to_dict
    from dosewise.services.benefit import review_patient_benefit

    if args.patient is not None and args.patient < 1:
        raise InputError("give the patient's number (1 or more)", field="patient")
    chosen = patient if args.patient is None else args.patient
    data = benefit_to_dict(review_patient_benefit(engine, patient_id=chosen, now=now))
    if args.as_json:
        print_json(data)
        return
    print("\n".join(benefit_lines(data)))


# a key of the review not in the monograph's source list: its citation as baclofen.md gives it
BENEFIT_CITATIONS = {"PSFS": "Penn Spasm Frequency Scale (Penn et al. 1989; NINDS common data elements)"}


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def benefit_lines(data: dict[str, Any]) -> list[str]:
    """The benefit review (``benefit_to_dict``'s data) as text: the message (FLAG first when
    flagged), the numbers, the side effects per step, the rule, its settings and its sources."""
    from dosewise.monographs import DEFAULT_DRUG, load_monograph

    title = data["status"].replace("_", " ")
    lines = [f"Benefit review (baclofen.md section 10) on {data['today']}: {title}"]
    lines.append(("FLAG: " if data["flag"] else "") + data["message"])
    lines += [f"  - {reason}" for reason in data["reasons"]]
    if data["stable_daily_mg"] is not None:
        weeks = data["weeks_at_stable_dose"]
        start = data["titration_start"]
        lines.append(
            f"Stable dose: {data['stable_daily_mg']:g} mg/day since {data['stable_since']}"
            + (f" ({weeks} week{'s' if weeks != 1 else ''})" if weeks is not None else "")
            + (f"; titration from {start}" if start else "")
        )
    windows = [("Before titration", data["baseline"]), ("Now", data["current"])]
    if any(window is not None for _, window in windows):
        lines.append(f"{'Scores (means)':<44} {'entries':>7} {'Penn 0-4':>8} {'stiffness 0-10':>14}")
        for name, window in windows:
            if window is None:
                continue
            label = f"{name} ({window['first_day']} to {window['last_day']})"
            lines.append(
                f"{label:<44} {window['entries']:>7} {_score(window['penn_frequency']):>8} "
                f"{_score(window['stiffness_nrs']):>14}"
            )
        change = data["change"]
        if change["penn_frequency"] is not None or change["stiffness_nrs"] is not None:
            penn, stiffness = change["penn_frequency"], change["stiffness_nrs"]
            lines.append(
                f"{'Change':<44} {'':>7} {'-' if penn is None else f'{penn:+.1f}':>8} "
                f"{'-' if stiffness is None else f'{stiffness:+.1f}':>14}"
            )
    trend = data["side_effects"]
    if trend is not None:
        lines.append(("FLAG: " if trend["rising"] else "") + f"Side effects: {trend['message']}")
    lines.append(f"Rule: {data['rule']}")
    lines.append("Settings:")
    lines += [f"  - {setting}" for setting in data["settings"]]
    citations = {**BENEFIT_CITATIONS, **load_monograph(DEFAULT_DRUG).sources}
    lines.append("Sources:")
    lines += [f"  [{key}] {citations.get(key, '')}".rstrip() for key in data["sources"]]
    lines.append("This review informs the clinician; it never changes the plan.")
    return lines


def _report(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    from dosewise.exporters.report import render_report_html, render_report_pdf
    from dosewise.services.reports import gather_report

    output: str = args.output
    kind = os.path.splitext(output)[1].lower()
    if kind not in (".html", ".pdf"):
        raise InputError(f"the report file must end in .html or .pdf, got {output!r}")
    first, last = _report_range(engine, args, patient, now)
    data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
    html = render_report_html(data)
    content = html.encode() if kind == ".html" else render_report_pdf(data, html)
    write_file(output, content)
    summarized = "" if data.summary is None else f" (summarized by month before {data.first_day})"
    print(f"Report {first} to {last} written to {output}{summarized}.")


def _report_range(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> tuple[date, date]:
    """The days asked for; by default the last 12 months of the diary (issue 15)."""
    from dosewise.services.reports import REPORT_DEFAULT_DAYS, default_report_range

    first, last = default_report_range(engine, patient_id=patient, now=now)
    if args.last_day is not None:
        last = _day(args.last_day, "the last day", "last_day")
        first = last - timedelta(days=REPORT_DEFAULT_DAYS - 1)
    if args.first_day is not None:
        first = _day(args.first_day, "the first day", "first_day")
    return first, last


def _export(
    engine: Engine, args: argparse.Namespace, patient: int, now: datetime, settings: Settings
) -> None:
    if args.format == "csv":
        from dosewise.services.storage import export_tables

        if args.first_day is not None or args.last_day is not None:
            raise InputError("a CSV export is the whole diary: --from and --to are for --format fhir")
        counts = export_tables(engine, args.output, patient_id=patient, now=now)
        print(f"Exported {sum(counts.values())} rows in {len(counts)} CSV files to {args.output}.")
        return
    from dosewise.services.fhir import stream_fhir

    if not args.output.lower().endswith(".json"):
        raise InputError(f"the FHIR file must end in .json, got {args.output!r}")
    first = None if args.first_day is None else _day(args.first_day, "the first day", "first_day")
    last = None if args.last_day is None else _day(args.last_day, "the last day", "last_day")
    if first is not None and last is not None and last < first:
        raise InputError(f"the range ends ({last}) before it starts ({first})", field="last_day")
    chunks = stream_fhir(engine, patient_id=patient, now=now, first_day=first, last_day=last)
    write_chunks(args.output, (chunk.encode() for chunk in chunks))
    print(f"FHIR R4 Bundle written to {args.output}.")


def _transfer(engine: Engine, args: argparse.Namespace) -> None:
    from dosewise.services import storage

    if args.diary_command == "backup":
        counts = storage.backup_database(engine, args.file)
        print(f"Backup written to {args.file}: {_describe(counts)}.")
        return
    if any(storage.count_rows(engine).values()) and not args.yes:
        raise InputError("the diary has entries: add --yes to replace them (make a backup first)")
    if args.diary_command == "restore":
        counts = storage.restore_database(engine, args.file)
        print(f"Diary restored from {args.file}: {_describe(counts)}.")
    else:
        counts = storage.import_tables(engine, args.folder)
        print(f"Diary imported from {args.folder}: {_describe(counts)}.")


def _describe(counts: dict[str, int]) -> str:
    shown = ("patients", "plans", "dose_events", "symptom_entries", "notes")
    return ", ".join(f"{counts.get(name, 0)} {name.replace('_', ' ')}" for name in shown)
