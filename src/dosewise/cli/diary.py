"""``dosewise diary``: the local diary of one patient. Imported only when a diary command runs,
so SQLAlchemy stays off the `plan` and `kidney` paths."""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dosewise.cli.app import build_plan_from_args, print_json, time_zone_from
from dosewise.domain.adherence import Slot, Tally
from dosewise.domain.schedule import localize, parse_clock_times
from dosewise.domain.units import format_mg
from dosewise.errors import InputError, NotFound
from dosewise.exporters.plan_json import plan_to_dict
from dosewise.services import diary, history
from dosewise.store.database import build_engine, ensure_schema

DEFAULT_RANGE_DAYS = 28
STATE_MARKS = {
    "on_time": "[x]",
    "late": "[x] late",
    "skipped": "[-] skipped",
    "missed": "[!] missed",
    "due": "[ ] DUE NOW",
    "upcoming": "[ ]",
}

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
            ensure_schema(engine)  # an existing diary is brought up to date
        except OperationalError as error:
            reason = str(error.orig).splitlines()[0] if error.orig else "unreachable"
            raise InputError(
                f"cannot open the diary database ({engine.url.render_as_string()}): {reason}"
            ) from None
        action = args.diary_command
        if action == "init":
            _init(engine, args)
        elif action in ("backup", "restore", "import"):
            _transfer(engine, args)
        else:
            patient, zone_name = diary.find_local_patient(engine)
            zone = ZoneInfo(zone_name)
            now = datetime.now(tz=zone)
            {
                "plan": _plan,
                "today": _today,
                "take": _record,
                "skip": _record,
                "symptoms": _symptoms,
                "note": _note,
                "medicines": _medicines,
                "triage": _triage,
                "adherence": _adherence,
                "report": _report,
                "export": _export,
            }[action](engine, args, patient, now)
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


def _plan(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    if args.tz is None:
        args.tz = str(now.tzinfo)
    result, monograph, clock_times, zone_name, zone = build_plan_from_args(args)
    data = plan_to_dict(result, monograph, times=clock_times, time_zone=zone_name)
    plan_id = diary.start_plan(
        engine,
        patient_id=patient,
        plan=result,
        plan_json=data,
        times=clock_times,
        zone=zone,
        now=now,
        actor=ACTOR,
    )
    from dosewise.cli.render import render_plan

    render_plan(result, monograph, clock_times, zone_name, None)
    print(f"Plan {plan_id} started: `dosewise diary today` shows the doses to tick off.")


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


def _today(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    day = now.date() if args.date is None else _day(args.date, "--date")
    slots = history.list_day(engine, patient_id=patient, day=day, now=now)
    due = history.due_now(engine, patient_id=patient, now=now)
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
            }
        )
        return
    if not slots:
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
        print(f"Next: #{nxt.slot_id} {nxt.due_at:%Y-%m-%d %H:%M}, {format_mg(nxt.dose_ug)} mg ({nxt.how}).")
    print("Decision support: agree changes with your prescriber.")


def _record(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    taken_at = None
    if getattr(args, "at", None):
        taken_at = _moment(args.at, now)
    record = diary.record_dose(
        engine,
        patient_id=patient,
        slot_id=args.slot,
        status="taken" if args.diary_command == "take" else "skipped",
        now=now,
        taken_at=taken_at,
        actor=ACTOR,
    )
    if record.created:
        print(f"Dose #{record.slot_id} recorded as {record.status}.")
    else:
        print(f"Dose #{record.slot_id} was already recorded as {record.status}; nothing changed.")


def _moment(text: str, now: datetime) -> datetime:
    """HH:MM today, or YYYY-MM-DDTHH:MM, in the patient's zone."""
    zone = now.tzinfo
    assert zone is not None
    if "T" in text or "-" in text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(f"--at {text!r} must be HH:MM or YYYY-MM-DDTHH:MM") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    (clock,) = parse_clock_times(text, 1)
    return localize(now.date(), clock, zone)


def _symptoms(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    effects: dict[str, int] = {}
    for item in args.side_effect:
        key, _, severity = item.rpartition(":")
        if not key.strip() or not severity.strip().isdigit():
            raise InputError(f"side effect {item!r} must be NAME:SEVERITY, e.g. drowsiness:2")
        effects[key.strip().lower()] = int(severity)
    diary.record_symptoms(
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
    if effects:
        result = history.triage_with_history(engine, patient_id=patient, symptoms=list(effects), now=now)
        if result.level != "routine":
            from dosewise.cli.render import render_triage
            from dosewise.monographs import load_monograph

            render_triage(result, load_monograph("baclofen"))


def _note(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    diary.add_note(engine, patient_id=patient, text=args.text, now=now, actor=ACTOR)
    print("Note recorded.")


def _medicines(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    from dosewise.monographs import load_monograph

    for name in args.add:
        diary.add_medicine(engine, patient_id=patient, name=name, now=now, actor=ACTOR)
    for number in args.stop:
        diary.stop_medicine(engine, patient_id=patient, medicine_id=number, now=now, actor=ACTOR)
    current, report = history.medicine_interactions(engine, patient_id=patient, now=now)
    monograph = load_monograph("baclofen")
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


def _triage(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    from dosewise.monographs import load_monograph

    result = history.triage_with_history(engine, patient_id=patient, symptoms=args.symptoms, now=now)
    monograph = load_monograph("baclofen")
    if args.as_json:
        from dosewise.exporters.safety_json import triage_to_dict

        print_json(triage_to_dict(result, monograph))
    else:
        from dosewise.cli.render import render_triage

        render_triage(result, monograph)


def _range(args: argparse.Namespace, now: datetime) -> tuple[date, date]:
    last = now.date() if args.last_day is None else _day(args.last_day, "--to")
    first = (
        last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if args.first_day is None
        else _day(args.first_day, "--from")
    )
    history.check_range(first, last)
    return first, last


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} must be YYYY-MM-DD") from None


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


def _adherence(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    first, last = _range(args, now)
    result = history.adherence(engine, patient_id=patient, first_day=first, last_day=last, now=now)
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


def _report(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    from dosewise.exporters.report import render_report_html, render_report_pdf
    from dosewise.services.report import gather_report

    output: str = args.output
    kind = os.path.splitext(output)[1].lower()
    if kind not in (".html", ".pdf"):
        raise InputError(f"the report file must end in .html or .pdf, got {output!r}")
    first, last = _range(args, now)
    data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
    html = render_report_html(data)
    content = html.encode() if kind == ".html" else render_report_pdf(data, html)
    _write(output, content)
    print(f"Report {first} to {last} written to {output}.")


def _export(engine: Engine, args: argparse.Namespace, patient: int, now: datetime) -> None:
    if args.format == "csv":
        from dosewise.store.transfer import export_csv

        counts = export_csv(engine, args.output, patient_id=patient, now=now)
        print(f"Exported {sum(counts.values())} rows in {len(counts)} CSV files to {args.output}.")
        return
    from dosewise.services.report import export_fhir

    if not args.output.lower().endswith(".json"):
        raise InputError(f"the FHIR file must end in .json, got {args.output!r}")
    _write(args.output, export_fhir(engine, patient_id=patient, now=now).encode())
    print(f"FHIR R4 Bundle written to {args.output}.")


def _write(path: str, content: bytes) -> None:
    try:
        with open(path, "wb") as file:
            file.write(content)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None


def _transfer(engine: Engine, args: argparse.Namespace) -> None:
    from dosewise.store import transfer

    if args.diary_command == "backup":
        counts = transfer.backup_database(engine, args.file)
        print(f"Backup written to {args.file}: {_describe(counts)}.")
        return
    if any(transfer.count_rows(engine).values()) and not args.yes:
        raise InputError("the diary has entries: add --yes to replace them (make a backup first)")
    if args.diary_command == "restore":
        counts = transfer.restore_database(engine, args.file)
        print(f"Diary restored from {args.file}: {_describe(counts)}.")
    else:
        counts = transfer.import_csv(engine, args.folder)
        print(f"Diary imported from {args.folder}: {_describe(counts)}.")


def _describe(counts: dict[str, int]) -> str:
    shown = ("patients", "plans", "dose_events", "symptom_entries", "notes")
    return ", ".join(f"{counts.get(name, 0)} {name.replace('_', ' ')}" for name in shown)
