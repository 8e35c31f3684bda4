"""Issue 15: a restore or an import reads and checks every field of every row before the diary
changes: a broken backup or CSV export is refused with a message naming the record, the field
and what to write, and the diary is exactly as it was. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from test_transfer import filled  # noqa: F401  (the same diary)

from dosewise.errors import InputError
from dosewise.services import notes, triage
from dosewise.store.transfer import TABLES, backup_database, export_csv, import_csv, restore_database

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def diary(engine, request):
    """test_transfer's diary (a plan, doses, symptoms, a note, a medicine) and a safety check."""
    patient = request.getfixturevalue("filled")
    triage.triage_patient(engine, patient_id=patient, symptoms=["drowsiness"], now=NOW, actor="cli")
    return patient


def snapshot(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every diary table, in key order: "nothing changed" means equal snapshots."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in TABLES
        }


def _record_with_zone(connection: sqlite3.Connection) -> None:
    (text,) = connection.execute("SELECT record FROM plans").fetchone()
    record = json.loads(text)
    record["time_zone"] = "Mars/Olympus"
    connection.execute("UPDATE plans SET record = ?", (json.dumps(record),))


# (what is broken, the SQL that breaks a backup, what the message must say)
BROKEN_BACKUPS = [
    (
        "zone",
        "UPDATE patients SET time_zone = 'Mars/Olympus'",
        "table patients, row id 1: time_zone 'Mars/Olympus'",
    ),
    ("zone in the plan", _record_with_zone, "IANA time zone"),
    (
        "malformed time",
        "UPDATE notes SET recorded_at = 'yesterday'",
        "table notes, row id 1: recorded_at 'yesterday'",
    ),
    (
        "year 9999",
        "UPDATE notes SET recorded_at = '9999-12-31 23:59:59.000000'",
        "year must be from 1900 to 2200",
    ),
    ("year 1", "UPDATE dose_events SET taken_at = '0001-01-01 00:00:00.000000'", "taken_at"),
    (
        "a time with an offset",
        "UPDATE dose_events SET recorded_at = '2026-12-01 08:00:00+14:00'",
        "without an offset",
    ),
    ("unknown status", "UPDATE dose_events SET status = 'eaten'", "must be one of taken, late, skipped"),
    ("NUL in a note", "UPDATE notes SET text = 'a' || char(0) || 'b'", "NUL character"),
    ("name too long", "UPDATE patients SET name = printf('%.300c', 'x')", "at most 200 fit"),
    ("score out of range", "UPDATE symptom_entries SET spasticity_nrs = 11", "must be from 0 to 10"),
    ("text for a number", "UPDATE symptom_entries SET spasticity_nrs = 'high'", "spasticity_nrs 'high'"),
    ("number too large", "UPDATE dose_slots SET dose_ug = 1099511627776 WHERE id = 1", "whole number"),
    ("flag", "UPDATE patients SET pregnant = 7", "pregnant 7"),
    ("not JSON", "UPDATE triage_results SET inputs = '{oops'", "must be JSON"),
    ("country", "UPDATE patients SET country = 'gb'", "two-letter country code"),
    ("plan record", "UPDATE plans SET record = '{}'", "plan record cannot be read"),
    ("empty note", "UPDATE notes SET text = ''", "its length must be from 1 to 4000"),
    ("not UTF-8", "UPDATE notes SET text = CAST(x'ff41' AS TEXT)", "cannot be read"),
]


@pytest.mark.parametrize(("what", "damage", "message"), BROKEN_BACKUPS, ids=[b[0] for b in BROKEN_BACKUPS])
def test_a_broken_backup_is_refused_and_nothing_changes(engine, diary, tmp_path, what, damage, message):
    backup = tmp_path / "diary.backup"
    backup_database(engine, str(backup))
    with sqlite3.connect(backup) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")  # a file made by hand, or damaged
        if callable(damage):
            damage(connection)
        else:
            connection.execute(damage)
    notes.add_note(engine, patient_id=diary, text="written after the backup", now=NOW, actor="test")
    before = snapshot(engine)
    with pytest.raises(InputError, match="the diary is unchanged") as refused:
        restore_database(engine, str(backup))
    assert message in str(refused.value), str(refused.value)
    assert "\n" not in str(refused.value)
    assert snapshot(engine) == before


def test_a_good_backup_still_restores_every_row_as_it_was(engine, diary, tmp_path):
    backup = tmp_path / "diary.backup"
    backup_database(engine, str(backup))
    before = snapshot(engine)
    notes.add_note(engine, patient_id=diary, text="to be replaced", now=NOW, actor="test")
    restore_database(engine, str(backup))
    assert snapshot(engine) == before


def _edit(folder, name, column, value, line=1):
    import csv

    path = folder / name
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    rows[line][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)


BROKEN_EXPORTS = [
    (
        "patients.csv",
        "time_zone",
        "Mars/Olympus",
        "patients.csv line 2: time_zone 'Mars/Olympus' is not valid",
    ),
    ("notes.csv", "recorded_at", "2026-13-45T00:00:00", "notes.csv line 2: recorded_at"),
    ("notes.csv", "recorded_at", "0001-01-01T00:00:00+14:00", "without an offset"),
    ("notes.csv", "recorded_at", "9999-12-31T23:59:59", "year must be from 1900 to 2200"),
    ("notes.csv", "text", "a\x00b", "NUL character"),
    ("dose_events.csv", "status", "eaten", "must be one of taken, late, skipped"),
    ("patients.csv", "pregnant", "yes", "write 1 or 0"),
    ("symptom_entries.csv", "penn_frequency", " 2", "write a whole number"),
    ("symptom_entries.csv", "penn_frequency", "7", "must be from 0 to 4"),
    ("dose_slots.csv", "dose_ug", "99999999999", "whole number from"),
    ("notes.csv", "recorded_at", "", "notes.csv line 2: recorded_at '' is not valid: a value is required"),
    ("review_requests.csv", "report_first_day", "2026-02-30", "YYYY-MM-DD"),
    ("plans.csv", "record", '{"format": 2}', "plans.csv line 2: record: the plan record cannot be read"),
]


@pytest.mark.parametrize(("name", "column", "value", "message"), BROKEN_EXPORTS)
def test_a_broken_csv_export_is_refused_and_nothing_changes(engine, diary, tmp_path, name, column, value,
                                                            message):  # fmt: skip
    from dosewise.services.access import PatientAccess
    from dosewise.services.review_requests import ask_review

    owner = PatientAccess(patient_id=diary, name="Sam", time_zone="UTC", relation="owner")
    ask_review(engine, caller=owner, reason="other", message="?", now=NOW, actor="cli")
    folder = tmp_path / "export"
    export_csv(engine, str(folder), now=NOW)
    _edit(folder, name, column, value)
    before = snapshot(engine)
    with pytest.raises(InputError) as refused:
        import_csv(engine, str(folder))
    assert message in str(refused.value), str(refused.value)
    assert snapshot(engine) == before
