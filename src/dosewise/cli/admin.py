"""``dosewise admin``: administer the web app's installation (issue 15, docs/adr/0016).

- ``admin create EMAIL``: an administrator account (the first one, and any later one: only the
  command line makes them). The password is asked twice on the terminal, or read from one line
  of standard input with ``--password-stdin``.
- ``admin clinicians``: every clinician account, those waiting for verification first.
- ``admin verify-clinician EMAIL`` / ``admin unverify-clinician EMAIL``: the clinician powers
  (the override, confirming a plan) need a verified account. Audited (actor ``cli``).

The database is the web app's: ``--database-url``, else DOSEWISE_DATABASE_URL, else the web
app's default (SQLite in the data folder), as ``dosewise worker`` finds it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json
from dosewise.errors import InputError

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings

ACTOR = "cli"


def add_commands(commands: Any) -> None:
    admin = add_command(
        commands, "admin", help="administer the web app: administrators and clinician verification",
        description="Administrators verify clinician accounts: only a verified clinician can use the "
        "clinician override or confirm a plan. Works on the web app's database.",
    )  # fmt: skip
    admin.set_defaults(run=run_admin, admin_command=None)
    actions = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    create = add_command(actions, "create", help="make an administrator account (a dedicated one)")
    create.add_argument("email", help="the new administrator account's email (its own, not a patient's)")
    create.add_argument("--name", help="the administrator's name (default: the part of the email before @)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of standard input"
    )
    listing = add_command(actions, "clinicians", help="list clinician accounts, those waiting first")
    add_json(listing)
    verify = add_command(actions, "verify-clinician", help="verify a clinician account")
    verify.add_argument("email", help="the clinician's email")
    unverify = add_command(
        actions, "unverify-clinician", help="revoke a clinician's verification (their powers end at once)"
    )
    unverify.add_argument("email", help="the clinician's email")
    for parser in (admin, create, listing, verify, unverify):
        parser.add_argument(
            "--database-url", help="the web app's database (default: DOSEWISE_DATABASE_URL or the web app's)"
        )
    for parser in (verify, unverify, create):
        add_json(parser)


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    """``--database-url``, DOSEWISE_DATABASE_URL, or the web app's default database."""
    if getattr(args, "database_url", None):
        return str(args.database_url)
    if settings.database_url:
        return settings.database_url
    from dosewise.web.settings import default_database_url

    return default_database_url()


def read_password(args: argparse.Namespace) -> str:
    """One line of standard input (``--password-stdin``), or asked twice on the terminal."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
        if not password:
            raise InputError("--password-stdin: standard input gave no password")
        return password
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: give it with --password-stdin")
    import getpass

    password = getpass.getpass("Password for the administrator: ")
    if getpass.getpass("The same password again: ") != password:
        raise InputError("the two passwords differ: nothing was created")
    return password


def run_admin(args: argparse.Namespace, settings: Settings) -> None:
    from datetime import UTC

    from dosewise.services import admin
    from dosewise.services.storage import open_database

    action = args.admin_command
    if action is None:
        raise InputError("say what to do, e.g. dosewise admin clinicians (see: dosewise admin --help)")
    password = read_password(args) if action == "create" else ""
    with open_database(database_url(args, settings)) as engine:
        now = settings.now(UTC)
        if action == "create":
            from argon2 import PasswordHasher

            name = args.name or args.email.strip().split("@", maxsplit=1)[0]
            user_id = admin.create_admin(
                engine, PasswordHasher(), email=args.email, password=password, display_name=name, now=now
            )
            if args.as_json:
                print_json({"user_id": user_id, "email": args.email.strip().lower(), "role": "admin"})
                return
            print(
                f"administrator {args.email.strip().lower()} created: sign in to the web app; "
                "the page Clinician accounts (/admin/clinicians) verifies clinicians"
            )
            return
        if action == "clinicians":
            _print_clinicians(admin.list_clinicians(engine), as_json=args.as_json)
            return
        verified = action == "verify-clinician"
        result = admin.set_verified(engine, email=args.email, verified=verified, now=now, actor=ACTOR)
        account = result.account
        if args.as_json:
            print_json({**_account_json(account), "changed": result.changed})
            return
        state = "verified" if verified else "not verified"
        if not result.changed:
            print(f"{account.email} ({account.display_name}) was already {state}: nothing changed")
        elif verified:
            print(f"verified {account.email} ({account.display_name}): the clinician powers are on")
        else:
            print(f"{account.email} ({account.display_name}) is no longer verified: clinician powers are off")


def _account_json(account: Any) -> dict[str, Any]:
    def utc(moment: Any) -> str | None:
        return None if moment is None else moment.isoformat() + "Z"

    return {
        "user_id": account.user_id,
        "email": account.email,
        "name": account.display_name,
        "signed_up_at": utc(account.signed_up_at),
        "verified": account.verified,
        "verified_at": utc(account.verified_at),
        "verified_by": account.verified_by,
    }


def _print_clinicians(accounts: list[Any], *, as_json: bool) -> None:
    if as_json:
        print_json({"clinicians": [_account_json(a) for a in accounts]})
        return
    if not accounts:
        print("no clinician accounts")
        return
    waiting = sum(1 for a in accounts if not a.verified)
    print(f"{len(accounts)} clinician account{'s' if len(accounts) != 1 else ''}, {waiting} not verified")
    for a in accounts:
        state = f"verified {a.verified_at:%Y-%m-%d %H:%M} UTC" if a.verified else "NOT VERIFIED"
        print(f"{state:<28} {a.email}  ({a.display_name}, signed up {a.signed_up_at:%Y-%m-%d})")
