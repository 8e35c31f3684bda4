"""Every field of a row that comes from outside (a backup file, a CSV export) read and checked
before anything in the diary changes.

A restore or an import replaces the whole diary, so a row the app cannot use later (a time
zone called ``Mars/Olympus``, a time in the year 9999, a NUL character that PostgreSQL
refuses, a status no page knows) must be refused with a message that names the record, the
field and what to write instead; never a traceback, never half a diary.

- :func:`row_from_cells` reads a CSV line (docs/export-formats.md): empty cells are NULL, times
  are UTC ISO 8601 *without* an offset, flags are 1 or 0, text loses the quote that made it
  safe in a spreadsheet (:mod:`dosewise.store.csv_cells`).
- :func:`row_from_sqlite` reads a row of a backup file as SQLite returned it (times as text).
- :func:`check_row` then checks the typed values against the table: types, NULLs, lengths,
  NULs, times between 1900 and 2200, whole numbers that fit the column, the choices and ranges
  of the table's CHECK constraints (``status IN (...)``, ``x BETWEEN a AND b``), IANA time zones
  and JSON text. What the database checks across columns (a Penn severity that needs a
  frequency, foreign keys) it still checks, inside the one transaction that replaces the rows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
)

from dosewise.errors import InputError
from dosewise.store.csv_cells import read_text_cell

FIRST_YEAR, LAST_YEAR = 1900, 2200  # a time outside these years is a mistake in the file
INT32 = 2**31 - 1
INT64 = 2**63 - 1
MAX_TEXT_CHARS = 20_000_000  # a Text column (a stored report is bounded well below this)
# Columns whose text has a meaning of its own: an IANA zone, JSON, a country code
ZONE_COLUMNS = frozenset({("patients", "time_zone"), ("plans", "time_zone")})
JSON_COLUMNS = frozenset(
    {
        ("symptom_entries", "side_effects"),
        ("triage_results", "reasons"),
        ("triage_results", "inputs"),
        ("triage_results", "sources"),
        ("audit_log", "detail"),
    }
)
COUNTRY = re.compile(r"[A-Z]{2}")
WHOLE = re.compile(r"-?[0-9]+")
_CHOICES = re.compile(r"^(\w+) IN \(('[^']*'(?:, '[^']*')*)\)$")
_RANGE = re.compile(r"^(length\()?(\w+)\)? BETWEEN (-?\d+) AND (-?\d+)$")


class BadField(ValueError):
    """A value that cannot be stored; the message says what to write instead."""


def row_from_cells(table: Table, cells: Sequence[str], *, quoted: bool) -> dict[str, Any]:
    """A CSV line's cells, typed by the table's columns (``quoted``: the export quoted text
    that starts like a formula). Raises :class:`InputError` naming the field."""
    row: dict[str, Any] = {}
    for column, cell in zip(table.columns, cells, strict=True):
        try:
            row[column.name] = _from_cell(column, cell, quoted=quoted)
        except BadField as problem:
            raise _refusal(column, cell, problem) from None
    return row


def row_from_sqlite(table: Table, values: Sequence[Any]) -> dict[str, Any]:
    """A backup row as SQLite gave it (``SELECT`` of the table's columns, in order), typed."""
    row: dict[str, Any] = {}
    for column, value in zip(table.columns, values, strict=True):
        try:
            row[column.name] = _from_sqlite(column, value)
        except BadField as problem:
            raise _refusal(column, value, problem) from None
    return row


def check_row(table: Table, row: Mapping[str, Any]) -> None:
    """Refuse (:class:`InputError` naming the field) a typed row the diary cannot hold."""
    for column in table.columns:
        value = row.get(column.name)
        try:
            _check_value(table, column, value)
        except BadField as problem:
            raise _refusal(column, value, problem) from None


def _refusal(column: Column[Any], value: Any, problem: BadField) -> InputError:
    shown = value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
    return InputError(f"{column.name} {shown!r} is not valid: {problem}")


def _from_cell(column: Column[Any], cell: str, *, quoted: bool) -> Any:
    kind = column.type
    if cell == "":
        if column.nullable:
            return None
        if isinstance(kind, String):
            return ""  # text that cannot be NULL: empty text
        raise BadField("a value is required")
    if isinstance(kind, Boolean):
        if cell not in ("0", "1"):
            raise BadField("write 1 or 0")
        return cell == "1"
    if isinstance(kind, Integer):
        if not WHOLE.fullmatch(cell):
            raise BadField("write a whole number")
        return int(cell)
    if isinstance(kind, Float):
        try:
            return float(cell)
        except ValueError:
            raise BadField("write a number") from None
    if isinstance(kind, DateTime):
        return _time(cell, "write the time in UTC as YYYY-MM-DDTHH:MM:SS, without an offset")
    if isinstance(kind, Date):
        return _day(cell)
    return read_text_cell(cell) if quoted else cell


def _from_sqlite(column: Column[Any], value: Any) -> Any:
    kind = column.type
    if value is None:
        return None
    if isinstance(kind, Boolean):
        if value not in (0, 1) or isinstance(value, float):
            raise BadField("a flag is 1 or 0")
        return value == 1
    if isinstance(kind, Integer | Float):
        if isinstance(kind, Integer) and not isinstance(value, int):
            raise BadField("a whole number is needed")
        if not isinstance(value, int | float):
            raise BadField("a number is needed")
        return value if isinstance(kind, Integer) else float(value)
    if not isinstance(value, str):
        raise BadField("text is needed (a time: YYYY-MM-DD HH:MM:SS in UTC; a day: YYYY-MM-DD)")
    if isinstance(kind, DateTime):
        return _time(value, "a time is stored as YYYY-MM-DD HH:MM:SS in UTC, without an offset")
    if isinstance(kind, Date):
        return _day(value)
    return value


def _time(text: str, fix: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadField(fix) from None
    if moment.tzinfo is not None:
        raise BadField(fix)
    return moment


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadField("write the day as YYYY-MM-DD") from None


def _check_value(table: Table, column: Column[Any], value: Any) -> None:
    if value is None:
        if not column.nullable:
            raise BadField("a value is required")
        return
    kind = column.type
    if isinstance(kind, Boolean | Integer | Float):
        _check_number(kind, value)
    elif isinstance(kind, DateTime | Date):
        _check_moment(kind, value)
    else:
        _check_text(table, column, value)
    for name, allowed in _choices(table):
        if name == column.name and value not in allowed:
            raise BadField(f"it must be one of {', '.join(allowed)}")
    for name, counts_length, low, high in _ranges(table):
        if name == column.name and not low <= (len(value) if counts_length else value) <= high:
            raise BadField(f"{'its length' if counts_length else 'it'} must be from {low} to {high}")


def _check_number(kind: Any, value: Any) -> None:
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise BadField("a flag is 1 or 0")
    elif isinstance(kind, Integer):
        top = INT64 if isinstance(kind, BigInteger) else INT32
        if isinstance(value, bool) or not isinstance(value, int) or not -top - 1 <= value <= top:
            raise BadField(f"a whole number from {-top - 1} to {top} is needed")
    elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadField("a finite number is needed")


def _check_moment(kind: Any, value: Any) -> None:
    if isinstance(kind, DateTime):
        if not isinstance(value, datetime) or value.tzinfo is not None:
            raise BadField("a time in UTC without an offset is needed")
    elif not isinstance(value, date) or isinstance(value, datetime):
        raise BadField("a day (YYYY-MM-DD) is needed")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadField(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")


def _check_text(table: Table, column: Column[Any], value: Any) -> None:
    if not isinstance(value, str):
        raise BadField("text is needed")
    if "\x00" in value:
        raise BadField("it holds a NUL character: remove it")
    limit = getattr(column.type, "length", None) or MAX_TEXT_CHARS
    if len(value) > limit:
        raise BadField(f"it is {len(value)} characters long; at most {limit} fit")
    if not _encodes(value):
        raise BadField("it holds a character that is not Unicode text (a lone surrogate): remove it")
    key = (table.name, column.name)
    if key in ZONE_COLUMNS and not _is_zone(value):
        raise BadField("write an IANA time zone such as Europe/London or America/New_York")
    if key in JSON_COLUMNS:
        try:
            json.loads(value)
        except ValueError:
            raise BadField("it must be JSON, as Dosewise wrote it") from None
    if key == ("patients", "country") and not COUNTRY.fullmatch(value):
        raise BadField("write a two-letter country code (ISO 3166-1) in capitals, such as GB")


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _is_zone(name: str) -> bool:
    if not name or name != name.strip() or ".." in name or name.startswith("/"):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@cache
def _choices(table: Table) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``column IN ('a', 'b')`` CHECK constraints of a table: its columns' choices."""
    found = []
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            match = _CHOICES.match(str(constraint.sqltext))
            if match:
                found.append((match[1], tuple(re.findall(r"'([^']*)'", match[2]))))
    return tuple(found)


@cache
def _ranges(table: Table) -> tuple[tuple[str, bool, int, int], ...]:
    """The ``column BETWEEN a AND b`` (or ``length(column) ...``) CHECK constraints of a table."""
    found = []
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            match = _RANGE.match(str(constraint.sqltext))
            if match:
                found.append((match[2], bool(match[1]), int(match[3]), int(match[4])))
    return tuple(found)
