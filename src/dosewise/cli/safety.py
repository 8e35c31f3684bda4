"""``dosewise interactions | missed | triage``: the safety advisor, one service call each."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import TZ_HELP, add_command, add_json, note, print_json
from dosewise.errors import InputError

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings
    from dosewise.services.triage import TriageAssessment


def add_commands(commands: Any) -> None:
    interactions = add_command(
        commands, "interactions", help="check other medicines (and alcohol) against baclofen",
        description="Interactions of baclofen with the medicines you name, as you would type them "
        "(brands, salts, small typos). A name that is not recognised is reported, never called safe.",
    )  # fmt: skip
    interactions.add_argument("drug", help="the drug, e.g. baclofen")
    interactions.add_argument("medicines", nargs="+", help="other medicines, e.g. oxycodone Xanax alcohol")
    interactions.add_argument("--crcl", type=float, help="creatinine clearance in mL/min (NSAIDs)")
    add_json(interactions)
    interactions.set_defaults(run=run_interactions)

    missed = add_command(
        commands, "missed", help="I missed a dose: take it now or skip it?",
        description="Missed-dose advice from your dose times and the time now, without a diary (with "
        "one, `dosewise diary missed HH:MM` answers from your real doses). Never double up.",
    )  # fmt: skip
    missed.add_argument("--times", required=True, help="your dose times HH:MM,..., e.g. 08:00,14:00,20:00")
    missed.add_argument("--missed", required=True, help="the dose time you missed, HH:MM")
    missed.add_argument("--now", help="the time now, HH:MM (default: the clock)")
    missed.add_argument("--date", help="the date of --now, YYYY-MM-DD (default: today in --tz)")
    missed.add_argument("--tz", help=TZ_HELP)
    missed.add_argument(
        "--window-h", type=float, help="skip if the next dose is due within this many hours (2)"
    )
    missed.add_argument(
        "--last-taken",
        help="when you last took a dose: HH:MM (the latest one not after now) or YYYY-MM-DDTHH:MM "
        "(24 h or more: see your prescriber)",
    )
    add_json(missed)
    missed.set_defaults(run=run_missed)

    triage = add_command(
        commands, "triage", help="how urgent is this symptom?",
        description="Emergency, urgent or routine, from the answers to the danger questions (asked "
        "first), your symptoms in your own words, and their context. Anything not recognised is at "
        "least urgent and asks the questions again.",
    )  # fmt: skip
    triage.add_argument("symptoms", nargs="*", help='symptoms, e.g. hallucinations fever "breathing slow"')
    add_triage_questions(triage)
    triage.add_argument("--stopped-hours-ago", type=float, help="hours since baclofen was stopped")
    triage.add_argument("--missed-doses-24h", type=int, help="doses missed in the last 24 hours")
    triage.add_argument("--crcl", type=float, help="creatinine clearance in mL/min")
    triage.add_argument(
        "--medicine", action="append", default=[], help="another medicine you take (repeatable)"
    )
    triage.add_argument("--usual-dose-mg", type=float, help="the usual single dose in mg (for --took-more)")
    triage.add_argument("--tablet-mg", type=float, help="the tablet strength in mg (for '20 tablets')")
    add_json(triage)
    triage.set_defaults(run=run_triage)


# The guided questions (monograph [[triage_questions]]; a test keeps the two lists equal): named
# here so that parsing the command line does not load the monograph (start-up budget).
TRIAGE_QUESTIONS = (
    ("breathing", "is breathing slow, shallow, noisy or difficult?"),
    ("hard_to_wake", "is the person very hard to wake, or cannot be woken?"),
    ("seizure", "has there been a fit (seizure)?"),
    ("swelling", "is the face, lips, tongue or throat swelling?"),
    ("fever_stiffness", "high fever, or muscles stiff and rigid all over?"),
    ("confusion", "new confusion, or seeing or hearing things that are not there?"),
    ("self_harm", "any thoughts of self-harm or suicide?"),
    ("took_more", "was more baclofen taken than prescribed? (say how much with --amount)"),
    ("stopped", "has baclofen been stopped, run out, or doses missed in the last 3 days?"),
    ("pregnant", "pregnant, or might be pregnant?"),
)


def add_triage_questions(parser: argparse.ArgumentParser) -> None:
    """--breathing yes|no ... : the guided questions, and --amount."""
    group = parser.add_argument_group("the danger questions (answer yes or no)")
    for key, question in TRIAGE_QUESTIONS:
        group.add_argument(
            f"--{key.replace('_', '-')}", dest=f"q_{key}", choices=("yes", "no"), help=question
        )
    group.add_argument(
        "--amount", default="", help='with --took-more: how much at once, e.g. "20 tablets" or "60 mg"'
    )


def triage_answers(args: argparse.Namespace) -> dict[str, bool]:
    return {
        key: getattr(args, f"q_{key}") == "yes"
        for key, _ in TRIAGE_QUESTIONS
        if getattr(args, f"q_{key}", None) is not None
    }


def run_interactions(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.medicines import check_medicines

    report = check_medicines(args.medicines, args.crcl, drug=args.drug)
    if report is None:
        raise InputError("name at least one other medicine, e.g. oxycodone or alcohol", field="medicines")
    from dosewise.monographs import load_monograph

    monograph = load_monograph(args.drug)
    if args.as_json:
        from dosewise.exporters.safety_json import interactions_to_dict

        print_json(interactions_to_dict(report, monograph))
    else:
        from dosewise.cli.render import render_interactions

        render_interactions(report, monograph)


def run_missed(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.domain.schedule import localize
    from dosewise.services.clock import moment_from_text, parse_clock, parse_date
    from dosewise.services.missed_doses import advise_missed, parse_dose_times

    zone_name, zone = settings.zone(args.tz)
    times = parse_dose_times(args.times)
    missed = parse_clock(args.missed, field="missed")
    current = settings.now(zone)
    day = current.date() if args.date is None else parse_date(args.date, "the date", field="date")
    clock = (
        current.time().replace(second=0, microsecond=0)
        if args.now is None
        else parse_clock(args.now, field="now")
    )
    now = localize(day, clock, zone)
    last_taken = (
        None
        if args.last_taken is None
        else moment_from_text(args.last_taken, now=now, zone=zone, field="last_taken")
    )
    advice = advise_missed(times=times, missed=missed, now=now, window_h=args.window_h, last_taken=last_taken)
    from dosewise.monographs import DEFAULT_DRUG, load_monograph

    monograph = load_monograph(DEFAULT_DRUG)
    if args.as_json:
        from dosewise.exporters.safety_json import missed_dose_to_dict

        print_json(missed_dose_to_dict(advice, monograph))
    else:
        from dosewise.cli.render import render_missed_dose

        render_missed_dose(advice, monograph, zone_name)


def run_triage(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.triage import assess_symptoms

    assessment = assess_symptoms(
        args.symptoms,
        answers=triage_answers(args),
        amount=args.amount,
        stopped_hours_ago=args.stopped_hours_ago,
        missed_doses_24h=args.missed_doses_24h,
        crcl_ml_min=args.crcl,
        medicines=args.medicine,
        usual_dose_mg=args.usual_dose_mg,
        tablet_mg=args.tablet_mg,
    )
    show_triage(assessment, as_json=args.as_json)


def show_triage(assessment: TriageAssessment, *, as_json: bool) -> None:
    """The triage, and the medicine names that were not recognised (so not counted): in the
    JSON, or as a note on stderr beside the table. Also used by `diary triage`."""
    monograph = assessment.monograph
    unknown = list(assessment.unrecognised_medicines)
    if as_json:
        from dosewise.exporters.safety_json import triage_to_dict

        data = triage_to_dict(
            assessment.result, monograph, unrecognised_medicines=unknown, emergency=assessment.emergency
        )
        if assessment.result_id is not None:
            data["result_id"] = assessment.result_id
        print_json(data)
        return
    if unknown:
        note(f"medicine not recognised, not counted: {', '.join(unknown)}")
    from dosewise.cli.render import render_triage

    render_triage(assessment.result, monograph, assessment.emergency)
