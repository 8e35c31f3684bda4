"""Options shared by several commands, and the output helpers every command uses.

Each command module adds its own subcommands with these; none imports ``cli.app``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

from dosewise.errors import InputError
from dosewise.services.plans import DEFAULT_REVIEW_WEEKS

SEXES = ("female", "male")
TARGET_HELP = (
    "the prescriber's target daily dose in mg at normal kidney function "
    "(Dosewise scales the whole plan by the kidney dose factor)"
)
STEP_HELP = "a step DAYS:DOSE,DOSE,... in mg, one dose per dose time (repeatable), e.g. --step 3:5,5,5"
MIN_DAYS_HELP = "make the taper last at least this many days (14+)"
REVIEW_HELP = (
    f"weeks from the last step to the prescriber's review (Dosewise default {DEFAULT_REVIEW_WEEKS}); "
    "the plan goes on after it until a new plan or a taper replaces it"
)
TZ_HELP = "IANA time zone, e.g. Europe/London (default: $TZ or UTC)"
PRODUCT_HELP = (
    "a product the patient has, repeatable: tablet:10mg:halves, tablet:5mg, "
    "solution:1mg/ml:0.5ml, suspension:5mg/ml, granules:10mg (default: US tablets 5, 10, 20 mg)"
)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for scripts")


def add_creatinine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scr-mg-dl", type=float, help="serum creatinine in mg/dL")
    parser.add_argument("--scr-umol-l", type=float, help="serum creatinine in µmol/L")


def add_schedule(parser: argparse.ArgumentParser, *, doses_per_day: bool = True, review: bool = True) -> None:
    if doses_per_day:
        parser.add_argument("--doses-per-day", type=int, default=3, help="doses a day: 3 or 4 (default 3)")
    parser.add_argument("--start", help="first day, YYYY-MM-DD (default: today in --tz)")
    if review:
        parser.add_argument("--review-weeks", type=int, help=REVIEW_HELP)
    parser.add_argument("--times", help="clock times HH:MM,... (default 08:00,14:00,20:00 for 3 doses)")
    parser.add_argument("--tz", help=TZ_HELP)
    parser.add_argument("--product", action="append", default=[], help=PRODUCT_HELP)
    parser.add_argument("--ics", help="also write dose reminders to this .ics file")


def add_patient_options(parser: argparse.ArgumentParser) -> None:
    """Kidney function, age, weight and the clinician override: shared by every plan command."""
    parser.add_argument("--crcl", type=float, help="creatinine clearance in mL/min, if known")
    parser.add_argument("--dialysis", action="store_true", help="the patient is on dialysis")
    parser.add_argument("--age", type=float, help="age in years")
    parser.add_argument("--sex", choices=SEXES, help="for kidney function from serum creatinine")
    parser.add_argument(
        "--weight-kg", type=float, help="body weight in kg (actual, unless the prescriber chooses another)"
    )
    add_creatinine(parser)
    parser.add_argument(
        "--clinician-override", action="store_true",
        help="a clinician has reviewed the patient: plan where the reference requires a clinician "
        "(CrCl < 30, dialysis, above 80 mg/day), within its caps; never an automatic plan under 18 "
        "(enter the clinician's steps with `dosewise schedule`)",
    )  # fmt: skip
    parser.add_argument(
        "--above-kidney-max", action="store_true",
        help="with --clinician-override and reduced kidney function: also allow doses above the "
        "kidney-adjusted maximum (80 mg/day x the kidney dose factor), up to 120 mg/day x the factor; "
        "the plan carries a warning (toxicity from 10 mg/day in CKD 4 [CHEONG20])",
    )  # fmt: skip


def add_command(commands: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A subcommand that remembers its parser, so an error can be worded with its flags."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    parser.set_defaults(command_parser=parser)
    return parser


def print_json(data: dict[str, Any]) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_file(path: str, content: bytes, *, field: str | None = None) -> None:
    try:
        with open(path, "wb") as file:
            file.write(content)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}", field=field) from None


def write_chunks(path: str, chunks: Iterable[bytes], *, field: str | None = None) -> None:
    """Write ``chunks`` to ``path`` as they come (a long export is never held whole): into a
    temporary file beside it, renamed into place at the end, so a failure leaves nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    partial = os.path.join(folder, f".{os.path.basename(path)}.partial")
    try:
        with open(partial, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, path)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}", field=field) from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def note(message: str) -> None:
    """A line on stderr that is not an error (the command still succeeds)."""
    sys.stderr.write(f"dosewise: note: {message}\n")
