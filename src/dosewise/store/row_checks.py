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
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
Meaning = Literal["", "zone", "json", "country"]
# Columns whose text has a meaning of its own: an IANA zone, JSON, a country code
MEANINGS: dict[tuple[str, str], Meaning] = {
    ("patients", "time_zone"): "zone",
    ("plans", "time_zone"): "zone",
    ("patients", "country"): "country",
    ("symptom_entries", "side_effects"): "json",
    ("triage_results", "reasons"): "json",
    ("triage_results", "inputs"): "json",
    ("triage_results", "sources"): "json",
    ("audit_log", "detail"): "json",
}
COUNTRY = re.compile(r"[A-Z]{2}")
WHOLE = re.compile(r"-?[0-9]+")
_CHOICES = re.compile(r"^(\w+) IN \(('[^']*'(?:, '[^']*')*)\)$")
_RANGE = re.compile(r"^(length\()?(\w+)\)? BETWEEN (-?\d+) AND (-?\d+)$")


class BadField(ValueError):
    """A value that cannot be stored; the message says what to write instead."""


Kind = Literal["flag", "whole", "number", "time", "day", "text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """What a column accepts, worked out once per table from its model (:func:`fields_of`)."""

    name: str
    kind: Kind
    nullable: bool
    top: int = 0  # a whole number: the largest that fits (the smallest is -top - 1)
    length: int = 0  # text: the most characters
    meaning: Meaning = ""
    choices: tuple[str, ...] = ()  # from a CHECK (column IN (...))
    bounds: tuple[bool, int, int] | None = None  # from a CHECK: (of its length?, low, high)


def row_from_cells(table: Table, cells: Sequence[str], *, quoted: bool) -> dict[str, Any]:
    """A CSV line's cells, typed by the table's columns (``quoted``: the export quoted text
    that starts like a formula). Raises :class:`InputError` naming the field."""
    row: dict[str, Any] = {}
    for field, cell in zip(fields_of(table), cells, strict=True):
        try:
            row[field.name] = _from_cell(field, cell, quoted=quoted)
        except BadField as problem:
            raise _refusal(field, cell, problem) from None
    return row


def row_from_sqlite(table: Table, values: Sequence[Any]) -> dict[str, Any]:
    """A backup row as SQLite gave it (``SELECT`` of the table's columns, in order), typed."""
    row: dict[str, Any] = {}
    for field, value in zip(fields_of(table), values, strict=True):
        try:
            row[field.name] = _from_sqlite(field, value)
        except BadField as problem:
            raise _refusal(field, value, problem) from None
    return row


def check_row(table: Table, row: Mapping[str, Any]) -> None:
    """Refuse (:class:`InputError` naming the field) a typed row the diary cannot hold."""
    for field in fields_of(table):
        value = row.get(field.name)
        try:
            _check_value(field, value)
        except BadField as problem:
            raise _refusal(field, value, problem) from None


def _refusal(field: Field, value: Any, problem: BadField) -> InputError:
    shown = value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
    return InputError(f"{field.name} {shown!r} is not valid: {problem}")


def _from_cell(field: Field, cell: str, *, quoted: bool) -> Any:
    kind = field.kind
    if cell == "":
        if field.nullable:
            return None
        if kind == "text":
            return ""  # text that cannot be NULL: empty text
        raise BadField("a value is required")
    if kind == "text":
        return read_text_cell(cell) if quoted else cell
    if kind == "flag":
        if cell not in ("0", "1"):
            raise BadField("write 1 or 0")
        return cell == "1"
    if kind == "whole":
        if not WHOLE.fullmatch(cell):
            raise BadField("write a whole number")
        return int(cell)
    if kind == "number":
        try:
            return float(cell)
        except ValueError:
            raise BadField("write a number") from None
    if kind == "time":
        return _time(cell, "write the time in UTC as YYYY-MM-DDTHH:MM:SS, without an offset")
    return _day(cell)


def _from_sqlite(field: Field, value: Any) -> Any:
    kind = field.kind
    if value is None:
        return None
    if kind == "whole":
        if not isinstance(value, int):
            raise BadField("a whole number is needed")
        return value
    if kind == "flag":
        if value not in (0, 1) or isinstance(value, float):
            raise BadField("a flag is 1 or 0")
        return value == 1
    if kind == "number":
        if not isinstance(value, int | float):
            raise BadField("a number is needed")
        return float(value)
    if not isinstance(value, str):
        raise BadField("text is needed (a time: YYYY-MM-DD HH:MM:SS in UTC; a day: YYYY-MM-DD)")
    if kind == "time":
        return _time(value, "a time is stored as YYYY-MM-DD HH:MM:SS in UTC, without an offset")
    if kind == "day":
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


def _check_value(field: Field, value: Any) -> None:
    if value is None:
        if not field.nullable:
            raise BadField("a value is required")
        return
    kind = field.kind
    if kind == "text":
        _check_text(field, value)
    elif kind in ("time", "day"):
        _check_moment(kind, value)
    else:
        _check_number(field, value)
    if field.choices and value not in field.choices:
        raise BadField(f"it must be one of {', '.join(field.choices)}")
    if field.bounds is not None:
        counts_length, low, high = field.bounds
        if not low <= (len(value) if counts_length else value) <= high:
            raise BadField(f"{'its length' if counts_length else 'it'} must be from {low} to {high}")


def _check_number(field: Field, value: Any) -> None:
    if field.kind == "flag":
        if not isinstance(value, bool):
            raise BadField("a flag is 1 or 0")
    elif field.kind == "whole":
        if isinstance(value, bool) or not isinstance(value, int) or not -field.top - 1 <= value <= field.top:
            raise BadField(f"a whole number from {-field.top - 1} to {field.top} is needed")
    elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadField("a finite number is needed")


def _check_moment(kind: Kind, value: Any) -> None:
    if kind == "time":
        if not isinstance(value, datetime) or value.tzinfo is not None:
            raise BadField("a time in UTC without an offset is needed")
    elif not isinstance(value, date) or isinstance(value, datetime):
        raise BadField("a day (YYYY-MM-DD) is needed")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadField(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")


def _check_text(field: Field, value: Any) -> None:
    if not isinstance(value, str):
        raise BadField("text is needed")
    if "\x00" in value:
        raise BadField("it holds a NUL character: remove it")
    if len(value) > field.length:
        raise BadField(f"it is {len(value)} characters long; at most {field.length} fit")
    if not value.isascii() and not _encodes(value):
        raise BadField("it holds a character that is not Unicode text (a lone surrogate): remove it")
    if field.meaning == "zone" and not _is_zone(value):
        raise BadField("write an IANA time zone such as Europe/London or America/New_York")
    if field.meaning == "json":
        try:
            json.loads(value)
        except ValueError:
            raise BadField("it must be JSON, as Dosewise wrote it") from None
    if field.meaning == "country" and not COUNTRY.fullmatch(value):
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
def fields_of(table: Table) -> tuple[Field, ...]:
    """What each column of the table accepts: its type, NULL or not, its length, the choices
    and ranges of the table's CHECK constraints, and what the text means."""
    choices: dict[str, tuple[str, ...]] = {}
    bounds: dict[str, tuple[bool, int, int]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            text = str(constraint.sqltext)
            if found := _CHOICES.match(text):
                choices[found[1]] = tuple(re.findall(r"'([^']*)'", found[2]))
            elif found := _RANGE.match(text):
                bounds[found[2]] = (bool(found[1]), int(found[3]), int(found[4]))
    fields = []
    for column in table.columns:
        kind, top, length = _kind_of(column.type)
        fields.append(
            Field(
                name=column.name,
                kind=kind,
                nullable=bool(column.nullable),
                top=top,
                length=length,
                meaning=MEANINGS.get((table.name, column.name), ""),
                choices=choices.get(column.name, ()),
                bounds=bounds.get(column.name),
            )
        )
    return tuple(fields)


def _kind_of(kind: Any) -> tuple[Kind, int, int]:
    """(kind, the largest whole number, the most characters) of a column type."""
    if isinstance(kind, Boolean):
        return "flag", 0, 0
    if isinstance(kind, Integer):
        return "whole", INT64 if isinstance(kind, BigInteger) else INT32, 0
    if isinstance(kind, Float):
        return "number", 0, 0
    if isinstance(kind, DateTime):
        return "time", 0, 0
    if isinstance(kind, Date):
        return "day", 0, 0
    if isinstance(kind, String):
        return "text", 0, kind.length or MAX_TEXT_CHARS
    raise TypeError(f"no reading for a column of type {kind!r}")  # a new type: teach this module
