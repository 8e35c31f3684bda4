"""The ``dosewise`` command's composition root: the parser, the settings, one error mapping.

Exit codes: 0 ok; 2 bad input (one line on stderr saying what to fix, naming the flag when the
error is about one); 3 refused for safety (one line saying why and what a clinician can do).
Only :func:`main` reads the environment and the clock (:mod:`dosewise.cli.settings`); every
command receives the settings as a value.

Each command module adds its own subcommands (``cli.plans``, ``cli.safety``, ``cli.diary``,
``cli.guidance``, ``cli.simulate``, ``cli.worker``, ``cli.admin``) and imports what a command
needs when it runs: the start-up
budget (at most 10x ``python -c pass``) cannot carry NumPy, SQLAlchemy or Rich on the ``plan`` path. Built on
argparse, not Typer, for the same reason (docs/adr/0004-argparse-for-the-cli.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from dosewise.cli import (
    admin,
    articles,
    compare,
    diary,
    guidance,
    pharmacy,
    plans,
    safety,
    simulate,
    worker,
)
from dosewise.cli.settings import Settings, build_settings
from dosewise.errors import DosewiseError, InputError, SafetyRefusal

EXIT_INPUT = 2
EXIT_SAFETY = 3

# How the CLI words a service's field: its flag. A field not listed is `--` + the field with
# `-` for `_`; None: no flag says it (the message stands alone).
FLAG_OF_FIELD: dict[str, str | None] = {
    "age_years": "--age",
    "crcl_ml_min": "--crcl",
    "drugs": None,
    "file": None,
    "first_day": "--from",
    "kidney_way": None,
    "last_day": "--to",
    "medicines": "--medicine",
    "products": "--product",
    "scr_umol_l": "--scr-umol-l",
    "side_effects": "--side-effect",
    "spasticity_nrs": "--spasticity",
    "steps": "--step",
    "taken_at": "--at",
    "time_zone": "--tz",
}

Run = Callable[[argparse.Namespace, Settings], None]


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
    modules = (plans, safety, diary, guidance, compare, pharmacy, articles, simulate, worker, admin)
    for module in modules:
        module.add_commands(commands)
    return parser


def flag_of(field: str) -> str | None:
    """The flag that says ``field`` (``weight_kg`` -> ``--weight-kg``, ``crcl_ml_min`` -> ``--crcl``)."""
    if field in FLAG_OF_FIELD:
        return FLAG_OF_FIELD[field]
    return "--" + field.replace("_", "-")


def word_error(error: DosewiseError, command: argparse.ArgumentParser | None) -> str:
    """The message, after the flag it is about when the command has that flag."""
    field = error.field if isinstance(error, InputError) else None
    flag = flag_of(field) if field is not None else None
    if flag is None or command is None or flag not in command._option_string_actions:
        return str(error)
    return f"{flag}: {error}"


def _fail(code: int, message: str) -> NoReturn:
    sys.stderr.write(f"dosewise: {' '.join(message.split())}\n")
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: run one command and map every failure to one line and an exit code."""
    parser = build_parser()
    command: argparse.ArgumentParser | None = None
    try:
        settings = build_settings()
        args = parser.parse_args(argv)
        command = getattr(args, "command_parser", None)
        run: Run | None = getattr(args, "run", None)
        if run is None:
            parser.print_help()
            raise SystemExit(0)
        run(args, settings)
    except SafetyRefusal as refusal:
        hint = " (clinician: add --clinician-override)" if refusal.overridable else ""
        field = getattr(refusal, "field", None)
        flag = flag_of(field) if field is not None else None
        if command is not None and flag in command._option_string_actions:
            takes_value = command._option_string_actions[flag].nargs != 0
            hint = (
                f" (add {flag} REASON)"
                if takes_value
                else f" (clinician: add {flag} with --clinician-override)"
            )
        _fail(EXIT_SAFETY, f"refused for safety: {refusal}{hint}")
    except DosewiseError as error:
        _fail(EXIT_INPUT, f"error: {word_error(error, command)}")
    except KeyboardInterrupt:
        _fail(130, "interrupted")
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    raise SystemExit(0)
