"""The ``dosewise`` command: thin commands over the domain, one place that maps errors.

Exit codes: 0 ok; 2 bad input (one line on stderr saying what to fix); 3 refused for safety
(one line saying why and what a clinician can do). This module is the CLI's composition root:
it alone reads the clock and the environment. It imports only what ``plan`` and ``kidney``
need; Rich is imported when a table is drawn, icalendar when a calendar is written.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from dosewise.errors import DosewiseError, InputError, SafetyRefusal
from dosewise.monographs import load_monograph

if TYPE_CHECKING:
    from dosewise.domain.kidney import KidneyAssessment
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan

# Each command imports the domain modules it uses when it runs, so `dosewise kidney` does
# not pay for plans and no command pays for Rich when it prints JSON (docs/benchmarks.md).

EXIT_INPUT = 2
EXIT_SAFETY = 3

app = typer.Typer(
    name="dosewise",
    help="Safe oral baclofen therapy: kidney function, titration and taper plans, reminders.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


class Sex(StrEnum):
    female = "female"
    male = "male"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DrugArg = Annotated[str, typer.Argument(help="The drug, e.g. baclofen.")]
DosesPerDay = Annotated[int, typer.Option("--doses-per-day", help="Doses a day: 3 or 4.")]
StartOpt = Annotated[
    str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: today in --tz).")
]
TimesOpt = Annotated[
    str | None,
    typer.Option("--times", help="Clock times HH:MM,... (default 08:00,14:00,20:00 for 3 doses)."),
]
TzOpt = Annotated[
    str | None,
    typer.Option("--tz", help="IANA time zone, e.g. Europe/London (default: $TZ or UTC)."),
]
ProductOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--product",
        help="A product the patient has, repeatable: tablet:10mg:halves, tablet:5mg, "
        "solution:1mg/ml:0.5ml, suspension:5mg/ml, granules:10mg (default: US tablets 5, 10, 20 mg).",
    ),
]
IcsOpt = Annotated[str | None, typer.Option("--ics", help="Also write dose reminders to this .ics file.")]
AgeOpt = Annotated[float | None, typer.Option("--age", help="Age in years.")]
SexOpt = Annotated[Sex | None, typer.Option("--sex", help="female or male (for kidney function).")]
WeightOpt = Annotated[float | None, typer.Option("--weight-kg", help="Actual body weight in kg.")]
ScrMgOpt = Annotated[float | None, typer.Option("--scr-mg-dl", help="Serum creatinine in mg/dL.")]
ScrUmolOpt = Annotated[float | None, typer.Option("--scr-umol-l", help="Serum creatinine in µmol/L.")]


@app.command()
def kidney(
    age: Annotated[float, typer.Option("--age", help="Age in years (18-120).")],
    sex: Annotated[Sex, typer.Option("--sex", help="female or male.")],
    weight_kg: Annotated[float, typer.Option("--weight-kg", help="Actual body weight in kg.")],
    scr_mg_dl: ScrMgOpt = None,
    scr_umol_l: ScrUmolOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Creatinine clearance (Cockcroft-Gault), eGFR (CKD-EPI 2021) and the baclofen dose band."""
    from dosewise.domain.kidney import assess_kidney_function
    from dosewise.exporters.plan_json import kidney_to_dict

    monograph = load_monograph("baclofen")
    result = assess_kidney_function(
        monograph.kidney,
        age_years=age,
        sex=sex.value,
        weight_kg=weight_kg,
        scr_mg_dl=scr_mg_dl,
        scr_umol_l=scr_umol_l,
    )
    if as_json:
        _print_json(kidney_to_dict(result, monograph))
    else:
        from dosewise.cli.render import render_kidney

        render_kidney(result, monograph)


@app.command()
def plan(
    drug: DrugArg,
    target_mg_day: Annotated[
        float, typer.Option("--target-mg-day", help="The prescriber's target daily dose in mg.")
    ],
    doses_per_day: DosesPerDay = 3,
    start: StartOpt = None,
    times: TimesOpt = None,
    tz: TzOpt = None,
    product: ProductOpt = None,
    crcl: Annotated[
        float | None, typer.Option("--crcl", help="Creatinine clearance in mL/min, if known.")
    ] = None,
    dialysis: Annotated[bool, typer.Option("--dialysis", help="The patient is on dialysis.")] = False,
    age: AgeOpt = None,
    sex: SexOpt = None,
    weight_kg: WeightOpt = None,
    scr_mg_dl: ScrMgOpt = None,
    scr_umol_l: ScrUmolOpt = None,
    clinician_override: Annotated[
        bool,
        typer.Option(
            "--clinician-override",
            help="A clinician has reviewed the patient: plan where the reference requires a "
            "clinician (CrCl < 30, dialysis, under 18, above 80 mg/day), within its caps.",
        ),
    ] = False,
    as_json: JsonFlag = False,
    ics: IcsOpt = None,
) -> None:
    """A titration plan toward the target, kidney-adjusted, in the patient's own products."""
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times
    from dosewise.domain.titration import build_titration

    monograph = load_monograph(drug)
    zone_name, zone = _time_zone(tz)
    clock_times = parse_clock_times(times, doses_per_day)
    kidney_function = _kidney_from_options(
        monograph, crcl, dialysis, age, sex, weight_kg, scr_mg_dl, scr_umol_l
    )
    result = build_titration(
        monograph,
        target_daily_mg=target_mg_day,
        products=parse_product_specs(product or [], monograph),
        start=_start_date(start, zone),
        doses_per_day=doses_per_day,
        kidney=kidney_function,
        age_years=age,
        weight_kg=weight_kg,
        clinician_override=clinician_override,
    )
    _emit(result, monograph, clock_times, zone_name, zone, as_json=as_json, ics=ics)


@app.command()
def taper(
    drug: DrugArg,
    from_mg_day: Annotated[float, typer.Option("--from-mg-day", help="The current daily dose in mg.")],
    doses_per_day: DosesPerDay = 3,
    start: StartOpt = None,
    times: TimesOpt = None,
    tz: TzOpt = None,
    min_days: Annotated[
        int | None,
        typer.Option("--min-days", help="Make the taper last at least this many days (14+)."),
    ] = None,
    product: ProductOpt = None,
    as_json: JsonFlag = False,
    ics: IcsOpt = None,
) -> None:
    """A taper from the current daily dose to stop, never abrupt."""
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times
    from dosewise.domain.taper import build_taper

    monograph = load_monograph(drug)
    zone_name, zone = _time_zone(tz)
    clock_times = parse_clock_times(times, doses_per_day)
    result = build_taper(
        monograph,
        from_daily_mg=from_mg_day,
        products=parse_product_specs(product or [], monograph),
        start=_start_date(start, zone),
        doses_per_day=doses_per_day,
        min_days=min_days,
    )
    _emit(result, monograph, clock_times, zone_name, zone, as_json=as_json, ics=ics)


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

        _print_json(plan_to_dict(result, monograph, times=clock_times, time_zone=zone_name))
    else:
        from dosewise.cli.render import render_plan

        render_plan(result, monograph, clock_times, zone_name, ics)


def _kidney_from_options(
    monograph: Monograph,
    crcl: float | None,
    dialysis: bool,
    age: float | None,
    sex: Sex | None,
    weight_kg: float | None,
    scr_mg_dl: float | None,
    scr_umol_l: float | None,
) -> KidneyAssessment | None:
    from dosewise.domain.kidney import (
        assess_creatinine_clearance,
        assess_dialysis,
        assess_kidney_function,
    )

    labs = scr_mg_dl is not None or scr_umol_l is not None
    given = [
        name for name, on in (("--crcl", crcl is not None), ("--dialysis", dialysis), ("--scr-*", labs)) if on
    ]
    if len(given) > 1:
        raise InputError(f"give kidney function one way, not {' and '.join(given)}")
    if crcl is not None:
        return assess_creatinine_clearance(monograph.kidney, crcl)
    if dialysis:
        return assess_dialysis(monograph.kidney)
    if labs:
        missing = [n for n, v in (("--age", age), ("--sex", sex), ("--weight-kg", weight_kg)) if v is None]
        if missing:
            raise InputError(f"serum creatinine also needs {', '.join(missing)} for Cockcroft-Gault")
        assert age is not None
        assert sex is not None
        assert weight_kg is not None
        return assess_kidney_function(
            monograph.kidney,
            age_years=age,
            sex=sex.value,
            weight_kg=weight_kg,
            scr_mg_dl=scr_mg_dl,
            scr_umol_l=scr_umol_l,
        )
    return None


def _time_zone(name: str | None) -> tuple[str, ZoneInfo]:
    chosen = name or os.environ.get("TZ", "").lstrip(":") or "UTC"
    try:
        return chosen, ZoneInfo(chosen)
    except (ZoneInfoNotFoundError, ValueError):
        if name is None:  # a $TZ that is not an IANA name: fall back quietly
            return "UTC", ZoneInfo("UTC")
        raise InputError(f"unknown time zone {name!r}: use an IANA name such as Europe/London") from None


def _start_date(text: str | None, zone: ZoneInfo) -> date:
    if text is None:
        return datetime.now(tz=zone).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"start date {text!r} must be YYYY-MM-DD, e.g. 2026-12-01") from None


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fail(code: int, message: str) -> NoReturn:
    sys.stderr.write(f"dosewise: {' '.join(message.split())}\n")
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map every failure to one line and an exit code."""
    try:
        code = app(args=argv, prog_name="dosewise", standalone_mode=False)
    except SafetyRefusal as refusal:
        hint = " (clinician: add --clinician-override)" if refusal.overridable else ""
        _fail(EXIT_SAFETY, f"refused for safety: {refusal}{hint}")
    except DosewiseError as error:
        _fail(EXIT_INPUT, f"error: {error}")
    except typer.TyperException as error:
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            sys.stdout.write(context.get_help() + "\n")
            raise SystemExit(0) from None
        format_message = getattr(error, "format_message", None)
        _fail(EXIT_INPUT, f"error: {format_message() if format_message else error}")
    except typer.Abort:
        _fail(130, "aborted")
    raise SystemExit(code if isinstance(code, int) else 0)
