"""Where the diary lives: opening its database, backups, restores and CSV tables.

The interfaces never touch the store themselves: the CLI opens its diary here (a bad URL or an
unreachable server is an :class:`InputError` that says what to fix), and copies, restores and
imports go through here too. Restore and import replace every row in one transaction, so a bad
file leaves the diary as it was.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from dosewise.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from sqlalchemy import Engine


@contextmanager
def open_database(url: str) -> Iterator[Engine]:
    """The database at ``url``, brought up to date, closed again on leaving."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from dosewise.store.database import build_engine, ensure_schema

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
        yield engine
    finally:
        engine.dispose()


def count_rows(engine: Engine) -> dict[str, int]:
    from dosewise.store import transfer

    return transfer.count_rows(engine)


def backup_database(engine: Engine, destination: str) -> dict[str, int]:
    from dosewise.store import transfer

    return transfer.backup_database(engine, destination)


def restore_database(engine: Engine, source: str) -> dict[str, int]:
    from dosewise.store import transfer

    return transfer.restore_database(engine, source)


def import_tables(engine: Engine, folder: str) -> dict[str, int]:
    """Replace the diary with a Dosewise CSV export."""
    from dosewise.store import transfer

    return transfer.import_csv(engine, folder)


def export_tables(engine: Engine, folder: str, *, patient_id: int, now: datetime) -> dict[str, int]:
    """The patient's diary as CSV tables in a new folder (docs/export-formats.md), with the
    stored triage results once more as people read them (``safety_checks.csv``: the patient's
    times with their offset, the questions and reasons written out; not read by an import)."""
    from dosewise.exporters.safety_checks import CSV_COLUMNS, csv_rows
    from dosewise.services.safety_checks import safety_checks
    from dosewise.store import transfer

    checks = safety_checks(engine, patient_id=patient_id)
    readable = {"safety_checks.csv": (CSV_COLUMNS, csv_rows(checks))}
    return transfer.export_csv(engine, folder, patient_id=patient_id, now=now, readable=readable)
