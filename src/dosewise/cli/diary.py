"""``dosewise diary``: the local diary (issue 5, in progress). Imported only when a diary
command runs, so SQLAlchemy stays off the `plan` and `kidney` paths."""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dosewise.cli.app import build_plan_from_args, print_json, time_zone_from
from dosewise.domain.schedule import localize, parse_clock_times
from dosewise.domain.units import format_mg
from dosewise.errors import InputError, NotFound
from dosewise.exporters.plan_json import plan_to_dict
from dosewise.services import diary
from dosewise.store.database import build_engine, upgrade_database

ACTOR = "cli"


def database_url() -> str:
    """$DOSEWISE_DATABASE_URL, or SQLite in the user's data folder."""
    configured = os.environ.get("DOSEWISE_DATABASE_URL")
    if configured:
        return configured
    from platformdirs import user_data_dir

    folder = user_data_dir("dosewise", appauthor=False)
    os.makedirs(folder, exist_ok=True)
    return f"sqlite:///{os.path.join(folder, 'diary.sqlite3')}"


def run_diary(args: argparse.Namespace) -> None:
    from sqlalchemy.exc import ArgumentError, OperationalError

    url = database_url()
    try:
        engine = build_engine(url)
    except ArgumentError:
        raise InputError(
            "DOSEWISE_DATABASE_URL is not a database URL (e.g. postgresql+psycopg://...)"
        ) from None
    try:
        try:
            upgrade_database(engine)  # idempotent: an existing diary is brought up to date
        except OperationalError as error:
            reason = str(error.orig).splitlines()[0] if error.orig else "unreachable"
            raise InputError(
                f"cannot open the diary database ({engine.url.render_as_string()}): {reason}"
            ) from None
        {
            "init": _init,
            "plan": _plan,
            "today": _today,
            "take": _record,
            "skip": _record,
            "symptoms": _symptoms,
        }[args.diary_command](engine, args)
    finally:
        engine.dispose()


def _init(engine: Engine, args: argparse.Namespace) -> None:
    try:
        _, zone = diary.find_local_patient(engine)
    except NotFound:
        zone_name, zone_info = time_zone_from(args.tz)
        diary.create_patient(
            engine,
            name=args.name,
            time_zone=zone_name,
            now=datetime.now(tz=zone_info),
            actor=ACTOR,
        )
        print(f"Diary created for {args.name} ({zone_name}).")
        return
    print(f"The diary already exists ({zone}); nothing changed.")


def _plan(engine: Engine, args: argparse.Namespace) -> None:
    patient, patient_zone = diary.find_local_patient(engine)
    if args.tz is None:
        args.tz = patient_zone
    result, monograph, clock_times, zone_name, zone = build_plan_from_args(args)
    data = plan_to_dict(result, monograph, times=clock_times, time_zone=zone_name)
    plan_id = diary.start_plan(
        engine,
        patient_id=patient,
        plan=result,
        plan_json=data,
        times=clock_times,
        zone=zone,
        now=datetime.now(tz=zone),
        actor=ACTOR,
    )
    from dosewise.cli.render import render_plan

    render_plan(result, monograph, clock_times, zone_name, None)
    print(f"Plan {plan_id} started: `dosewise diary today` shows the doses to tick off.")


def _today(engine: Engine, args: argparse.Namespace) -> None:
    patient, zone_name = diary.find_local_patient(engine)
    zone = ZoneInfo(zone_name)
    day = datetime.now(tz=zone).date()
    if args.date is not None:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise InputError(f"--date {args.date!r} must be YYYY-MM-DD") from None
    doses = diary.list_day(engine, patient_id=patient, day_start=localize(day, time(0), zone), zone=zone)
    if args.as_json:
        print_json(
            {
                "date": day.isoformat(),
                "doses": [
                    {
                        "slot": d.slot_id,
                        "due": d.due_at.isoformat(),
                        "dose_mg": d.dose_ug / 1000,
                        "how": d.how,
                        "status": d.status,
                    }
                    for d in doses
                ],
            }
        )
        return
    if not doses:
        print(f"No doses planned on {day.isoformat()}.")
        return
    print(f"Doses on {day.isoformat()} ({zone_name}):")
    for dose in doses:
        mark = {"taken": "[x]", "skipped": "[-]", None: "[ ]"}[dose.status]
        print(f"  {mark} #{dose.slot_id} {dose.due_at:%H:%M} {format_mg(dose.dose_ug)} mg: {dose.how}")


def _record(engine: Engine, args: argparse.Namespace) -> None:
    patient, zone_name = diary.find_local_patient(engine)
    zone = ZoneInfo(zone_name)
    now = datetime.now(tz=zone)
    taken_at = None
    if getattr(args, "at", None):
        (clock,) = parse_clock_times(args.at, 1)
        taken_at = localize(now.date(), clock, zone)
    status: diary.DoseStatus = "taken" if args.diary_command == "take" else "skipped"
    record = diary.record_dose(
        engine,
        patient_id=patient,
        slot_id=args.slot,
        status=status,
        now=now,
        taken_at=taken_at,
        actor=ACTOR,
    )
    if record.created:
        print(f"Dose #{record.slot_id} recorded as {record.status}.")
    else:
        print(f"Dose #{record.slot_id} was already recorded as {record.status}; nothing changed.")


def _symptoms(engine: Engine, args: argparse.Namespace) -> None:
    patient, zone_name = diary.find_local_patient(engine)
    effects: dict[str, int] = {}
    for item in args.side_effect:
        key, _, severity = item.partition(":")
        if not key or not severity.isdigit():
            raise InputError(f"side effect {item!r} must be KEY:SEVERITY, e.g. drowsiness:2")
        effects[key.strip().lower()] = int(severity)
    diary.record_symptoms(
        engine,
        patient_id=patient,
        now=datetime.now(tz=ZoneInfo(zone_name)),
        penn_frequency=args.penn_frequency,
        penn_severity=args.penn_severity,
        spasticity_nrs=args.spasticity,
        side_effects=effects,
        note=args.note,
        actor=ACTOR,
    )
    print("Symptoms recorded.")
