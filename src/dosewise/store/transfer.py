"""Moving a diary between files, machines and databases: backup, restore, CSV export and import.

- ``backup_database``: SQLite's online backup API (consistent while other processes write),
  then the copy is marked as a Dosewise backup (``PRAGMA application_id``) and checked. A
  PostgreSQL diary is copied row by row into a new SQLite file built by the migrations, so a
  backup is always one SQLite file.
- ``restore_database``: refuses a file that is not SQLite, not a Dosewise backup, damaged, or
  from a newer schema than this Dosewise knows; an older one is brought up to date on a
  temporary copy. Every field of every row is read and checked (``store/row_checks.py``) before
  the diary changes; the rows then replace the diary's rows in **one transaction**: if anything
  fails, the diary is unchanged.
- CSV: one file per table, a header row of column names, ``manifest.json`` with the schema
  revision and row counts; empty cells are NULL (columns that cannot be NULL read them as
  empty text); text that a spreadsheet could run as a formula gets a leading quote, taken off
  again by an import (``store/csv_cells.py``). An import checks every field as a restore does.
  Columns are documented in docs/export-formats.md.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine, Table, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from dosewise.errors import ExportError, InputError
from dosewise.store.csv_cells import ESCAPE as TEXT_CELLS
from dosewise.store.csv_cells import write_cell
from dosewise.store.database import build_engine, known_revisions, schema_revision, upgrade_database
from dosewise.store.models import Base
from dosewise.store.row_checks import check_row, row_from_cells, row_from_sqlite

APPLICATION_ID = 0x44575345  # "DWSE": marks a SQLite file as a Dosewise backup
MANIFEST = "manifest.json"
FORMAT = "dosewise-csv"
BATCH = 5000

# Tables in dependency order (parents first); the audit log has no foreign keys. Sign-in
# sessions and failed sign-ins are not data: they stay out of backups and exports.
TABLES: tuple[Table, ...] = tuple(t for t in Base.metadata.sorted_tables if t.info.get("transfer", True))
# Blanked when one patient exports their data: secrets that are no use outside this server.
SECRET_COLUMNS = {"users": "password_hash", "invitations": "code_hash"}


def _rows(engine: Engine, table: Table, patient_id: int | None) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    if patient_id is not None:
        query = query.where(_belongs_to(table, patient_id))
    with engine.connect() as connection:
        for row in connection.execution_options(yield_per=BATCH).execute(query):
            yield dict(row._mapping)


def _belongs_to(table: Table, patient_id: int) -> Any:
    """The rows of one patient (the web app exports one patient's data)."""
    columns = table.columns
    if table.name == "patients":
        return columns.id == patient_id
    if table.name == "users":
        patients = Base.metadata.tables["patients"]
        return columns.id.in_(select(patients.c.user_id).where(patients.c.id == patient_id))
    if "patient_id" in columns:
        return columns.patient_id == patient_id
    plans = Base.metadata.tables["plans"]
    slots = Base.metadata.tables["dose_slots"]
    if table.name == "dose_slots":
        return columns.plan_id.in_(select(plans.c.id).where(plans.c.patient_id == patient_id))
    if table.name == "dose_events":
        return columns.slot_id.in_(
            select(slots.c.id)
            .join(plans, slots.c.plan_id == plans.c.id)
            .where(plans.c.patient_id == patient_id)
        )
    raise ValueError(f"no patient filter for table {table.name}")


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0 for table in TABLES
        }


RowSource = Callable[[Table], Iterable[dict[str, Any]]]


def _replace_all(target: Engine, rows_of: RowSource) -> dict[str, int]:
    """Replace every table's rows in one transaction; returns the rows written per table."""
    written: dict[str, int] = {}
    with target.begin() as connection:
        for table in reversed(TABLES):
            connection.execute(delete(table))
        for table in TABLES:
            count = 0
            batch: list[dict[str, Any]] = []
            for row in rows_of(table):
                batch.append(row)
                if len(batch) >= BATCH:
                    connection.execute(insert(table), batch)
                    count += len(batch)
                    batch = []
            if batch:
                connection.execute(insert(table), batch)
                count += len(batch)
            written[table.name] = count
        if target.dialect.name == "postgresql":  # ids were copied: move the sequences past them
            for table in TABLES:  # table names come from our own models, never from input
                if "id" not in table.c:  # keyed by another column (alert_settings: patient_id)
                    continue
                top = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
                connection.execute(
                    select(func.setval(func.pg_get_serial_sequence(table.name, "id"), top, False))
                )
    return written


def backup_database(engine: Engine, destination: str) -> dict[str, int]:
    """Write a consistent backup of the diary to ``destination`` (a new SQLite file)."""
    if os.path.exists(destination):
        raise InputError(f"{destination} exists: choose a new file name (a backup never overwrites)")
    folder = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {destination}: the folder {folder} does not exist")
    partial = f"{destination}.partial"
    try:
        if engine.dialect.name == "sqlite":
            with closing(engine.raw_connection()) as raw, closing(sqlite3.connect(partial)) as copy:
                source = raw.driver_connection
                assert isinstance(source, sqlite3.Connection)
                source.backup(copy)
                copy.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                copy.commit()
        else:
            copy_engine = build_engine(f"sqlite:///{partial}")
            try:
                upgrade_database(copy_engine, schema_revision(engine))
                _replace_all(copy_engine, lambda table: _rows(engine, table, None))
            finally:
                copy_engine.dispose()
            with closing(sqlite3.connect(partial)) as copy:
                copy.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                copy.execute("PRAGMA journal_mode = DELETE")
                copy.commit()
        counts = inspect_backup(partial)
        os.replace(partial, destination)
        return counts
    except OSError as error:
        raise InputError(f"cannot write {destination}: {error.strerror or error}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def inspect_backup(path: str) -> dict[str, int]:
    """Row counts of a Dosewise backup, or a clear error saying what is wrong with the file."""
    if not os.path.isfile(path):
        raise InputError(f"{path} is not a file")
    with open(path, "rb") as file:
        header = file.read(16)
    if header != b"SQLite format 3\x00":
        raise InputError(f"{path} is not a Dosewise backup (not an SQLite database file)")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            (application_id,) = connection.execute("PRAGMA application_id").fetchone()
            if application_id != APPLICATION_ID:
                raise InputError(f"{path} is an SQLite file but not a Dosewise backup")
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise InputError(f"{path} is damaged ({problems[0]}): it cannot be restored")
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            _check_revision(revision[0] if revision else None, path)
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            return {
                name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
                for name in (table.name for table in TABLES)
                if name in tables
            }
    except (sqlite3.DatabaseError, UnicodeDecodeError) as error:  # damaged text decodes badly too
        raise InputError(f"{path} is damaged ({error}): it cannot be restored") from None


def _check_revision(revision: str | None, where: str) -> None:
    known = known_revisions()
    if revision is None:
        raise InputError(f"{where} has no schema version: it is not a Dosewise backup")
    if revision not in known:
        raise InputError(
            f"{where} is from a newer Dosewise (schema {revision}; this one knows up to {known[-1]}): "
            "update Dosewise to restore it"
        )


def restore_database(engine: Engine, source: str) -> dict[str, int]:
    """Replace the diary's contents with a backup's, all or nothing: every field of every row
    is read and checked first (:mod:`dosewise.store.row_checks`), then the rows replace the
    diary's in one transaction."""
    inspect_backup(source)
    with tempfile.TemporaryDirectory(prefix="dosewise-restore-") as folder:
        working = os.path.join(folder, "restore.sqlite3")
        shutil.copyfile(source, working)
        source_engine = build_engine(f"sqlite:///{working}")
        try:
            try:
                upgrade_database(source_engine)  # an older backup is brought up to date on the copy
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                raise InputError(
                    f"{source} could not be brought up to date ({reason}); the diary is unchanged"
                ) from None
        finally:
            source_engine.dispose()
        for table in TABLES:  # first every row is checked, while the diary is untouched
            for _ in _backup_rows(working, table, source, checked=True):
                pass
        try:
            return _replace_all(engine, lambda table: _backup_rows(working, table, source, checked=False))
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise InputError(f"{source} could not be restored ({reason}); the diary is unchanged") from None


def _backup_rows(path: str, table: Table, source: str, *, checked: bool) -> Iterator[dict[str, Any]]:
    """A backup table's rows, each read from SQLite as stored and typed; ``checked``: every
    field checked too (the first pass; the second reads the same private copy again)."""
    names = ", ".join(f'"{column.name}"' for column in table.columns)  # our own model's names
    keys = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
    query = f'SELECT {names} FROM "{table.name}" ORDER BY {keys}'  # noqa: S608
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        cursor = connection.execute(query)
        while True:
            try:
                batch = cursor.fetchmany(BATCH)
            except sqlite3.Error as error:  # text that is not UTF-8
                raise InputError(
                    f"{source}, table {table.name}: a row cannot be read ({error}); the diary is unchanged"
                ) from None
            if not batch:
                return
            for values in batch:
                typed = partial(row_from_sqlite, table, values)
                yield _checked(table, typed, partial(_row, source, table, values), checked=checked)


def _row(source: str, table: Table, values: Sequence[Any]) -> str:
    """Where a backup row is: the file, the table and the row's key."""
    key = ", ".join(f"{c.name} {v}" for c, v in zip(table.columns, values, strict=True) if c.primary_key)
    return f"{source}, table {table.name}, row {key}"


def export_csv(
    engine: Engine,
    folder: str,
    *,
    patient_id: int | None = None,
    now: datetime,
    readable: Mapping[str, tuple[Sequence[str], Sequence[Sequence[str]]]] | None = None,
) -> dict[str, int]:
    """One CSV file per table in ``folder`` (created; must be empty), with a manifest.

    ``readable``: more files (name: header, rows) made for people rather than for import, such
    as ``safety_checks.csv``; the manifest lists them apart (``readable``) and an import
    ignores them (the tables hold the same rows)."""
    if os.path.exists(folder) and os.listdir(folder):
        raise InputError(f"{folder} is not empty: export into a new or empty folder")
    try:
        os.makedirs(folder, exist_ok=True)
        counts: dict[str, int] = {}
        for table in TABLES:
            with open(os.path.join(folder, f"{table.name}.csv"), "w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow([column.name for column in table.columns])
                count = 0
                secret = SECRET_COLUMNS.get(table.name) if patient_id is not None else None
                for row in _rows(engine, table, patient_id):
                    if secret is not None:
                        row[secret] = None
                    writer.writerow([write_cell(row[column.name]) for column in table.columns])
                    count += 1
                counts[table.name] = count
        for name, (header, rows) in (readable or {}).items():
            with open(os.path.join(folder, name), "w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow(header)
                writer.writerows([write_cell(value) for value in row] for row in rows)
        manifest = {
            "format": FORMAT,
            "schema_revision": schema_revision(engine),
            "exported_at": now.astimezone(UTC).isoformat(),
            "times": "UTC, ISO 8601",
            "text_cells": TEXT_CELLS,
            "tables": counts,
        }
        if readable:
            manifest["readable"] = {name: len(rows) for name, (_, rows) in readable.items()}
        with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as file:
            json.dump(manifest, file, indent=2)
    except OSError as error:
        raise ExportError(f"cannot write to {folder}: {error.strerror or error}") from None
    return counts


def import_csv(engine: Engine, folder: str) -> dict[str, int]:
    """Replace the diary's contents with a CSV export made by Dosewise (same schema), all or
    nothing: every field is read and checked before the diary is touched."""
    rows = read_csv_export(folder)
    try:
        return _replace_all(engine, lambda table: rows.get(table.name, []))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise InputError(f"{folder} could not be imported ({reason}); the diary is unchanged") from None


def read_csv_export(folder: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, typed and checked, after checking the manifest and each file's columns."""
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as file:
            manifest = json.load(file)
    except (OSError, ValueError):
        raise InputError(f"{folder} is not a Dosewise CSV export (no readable {MANIFEST})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{folder} is not a Dosewise CSV export ({MANIFEST} says otherwise)")
    revision = manifest.get("schema_revision")
    _check_revision(revision if isinstance(revision, str) else None, folder)
    if revision != known_revisions()[-1]:
        raise InputError(
            f"{folder} is from schema {revision}; this Dosewise imports CSV of schema "
            f"{known_revisions()[-1]} (restore a backup file instead, or export again with this version)"
        )
    quoted = manifest.get("text_cells") == TEXT_CELLS  # older exports did not quote formulas
    result: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        path = os.path.join(folder, f"{table.name}.csv")
        try:
            with open(path, newline="", encoding="utf-8") as file:
                reader = csv.reader(file)
                header = next(reader, None)
                expected = [column.name for column in table.columns]
                if header != expected:
                    raise InputError(f"{path}: the columns must be {','.join(expected)}")
                result[table.name] = [
                    _typed_row(table, values, f"{path} line {number}", quoted=quoted)
                    for number, values in enumerate(reader, start=2)
                ]
        except OSError as error:
            raise InputError(f"cannot read {path}: {error.strerror or error}") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise InputError(f"{path} is not a readable CSV file ({error})") from None
    return result


def _typed_row(table: Table, values: list[str], where: str, *, quoted: bool) -> dict[str, Any]:
    if len(values) != len(table.columns):
        raise InputError(f"{where}: {len(values)} cells, expected {len(table.columns)}")
    return _checked(table, partial(row_from_cells, table, values, quoted=quoted), lambda: where)


def _checked(
    table: Table, typed: Callable[[], dict[str, Any]], where: Callable[[], str], *, checked: bool = True
) -> dict[str, Any]:
    """A row read from a file (``typed``), its plan record decoded, every field checked; the
    first problem is one line that says where it is."""
    try:
        row = typed()
        if table.name == "plans":
            _remake_plan_columns(row)
        if checked:
            check_row(table, row)
    except InputError as error:
        raise InputError(f"{where()}: {error}; the diary is unchanged") from None
    return row


def _remake_plan_columns(row: dict[str, Any]) -> None:
    """A stored plan must read back, and its queried columns must be its record's own: the
    record is decoded and the columns made from it again (a hand-edited file cannot make the
    kidney function triage reads disagree with the plan)."""
    from dosewise.store.plan_codec import decode_plan, plan_columns

    record = row.get("record")
    try:
        if not isinstance(record, str):
            raise TypeError("no record")
        columns = plan_columns(decode_plan(record))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"record: the plan record cannot be read ({error})") from None
    row.update(columns)
