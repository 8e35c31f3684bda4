"""Backup, restore, CSV export and import: data moves between files and databases, and a bad
file gets a clear error and leaves the diary unchanged. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, date, datetime

import pytest

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.errors import InputError
from dosewise.services import doses, medicines, notes, patients, plans, symptoms
from dosewise.store.database import SCHEMA_HEAD, build_engine, upgrade_database
from dosewise.store.transfer import (
    backup_database,
    count_rows,
    export_csv,
    import_csv,
    inspect_backup,
    restore_database,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def filled(engine, monograph):
    """A diary with a plan, doses, symptoms, a note and a medicine."""
    patient = patients.create_patient(engine, name="Zoë O'Brien", time_zone="UTC", now=NOW, actor="test")
    plan = build_titration(
        monograph, target_daily_mg=30, products=parse_product_specs([], monograph), start=date(2026, 12, 1)
    )
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3), zone=UTC,
                     now=datetime(2026, 12, 1, tzinfo=UTC), actor="test")  # fmt: skip
    for slot in doses.list_day(engine, patient_id=patient, day=date(2026, 12, 1), now=NOW):
        doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="taken", now=NOW,
                          taken_at=slot.due_at, actor="test")  # fmt: skip
    symptoms.record_symptoms(engine, patient_id=patient, now=NOW, penn_frequency=2, penn_severity=1,
                          spasticity_nrs=5, side_effects={"drowsiness": 1}, note='said "ok", then, no',
                          actor="test")  # fmt: skip
    notes.add_note(engine, patient_id=patient, text="line one\nline two, with a comma", now=NOW, actor="test")
    medicines.add_medicine(engine, patient_id=patient, name="gabapentin", now=NOW, actor="test")
    return patient


def fresh(tmp_path, name="other.sqlite3"):
    engine = build_engine(f"sqlite:///{tmp_path / name}")
    upgrade_database(engine)
    return engine


def test_backup_and_restore_move_the_whole_diary(engine, filled, tmp_path):
    before = count_rows(engine)
    backup = tmp_path / "diary.backup"
    assert backup_database(engine, str(backup)) == before
    assert inspect_backup(str(backup)) == before
    target = fresh(tmp_path)
    assert restore_database(target, str(backup)) == before
    assert count_rows(target) == before
    # the restored diary works: the next entry gets a new id
    entry = symptoms.record_symptoms(target, patient_id=filled, now=NOW, penn_frequency=0, penn_severity=None,
                                  spasticity_nrs=1, actor="test")  # fmt: skip
    assert entry == before["symptom_entries"] + 1
    with pytest.raises(InputError, match="never overwrites"):
        backup_database(engine, str(backup))


def test_restore_into_postgresql_resets_the_id_sequences(engine, filled, tmp_path, postgres_admin_url):
    from postgres import create_database, drop_database

    backup = tmp_path / "diary.backup"
    backup_database(engine, str(backup))
    url, name = create_database(postgres_admin_url)
    target = build_engine(url)
    try:
        upgrade_database(target)
        restore_database(target, str(backup))
        note = notes.add_note(target, patient_id=filled, text="after the move", now=NOW, actor="test")
        assert note == 2
    finally:
        target.dispose()
        drop_database(postgres_admin_url, name)


def corrupt(path):
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 997):  # damage every page after the first
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda p: p.write_text("hello"), "not an SQLite database file"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "not a Dosewise backup",
        ),
        ("newer", "newer Dosewise"),
        ("corrupt", "damaged"),
        ("truncated", "damaged"),
    ],
)
def test_a_bad_backup_is_refused_and_the_diary_is_unchanged(engine, filled, tmp_path, make_file, message):
    before = count_rows(engine)
    bad = tmp_path / "bad.backup"
    if isinstance(make_file, str):
        backup_database(engine, str(bad))
        if make_file == "newer":
            with sqlite3.connect(bad) as connection:
                connection.execute("UPDATE alembic_version SET version_num = '9999'")
        elif make_file == "corrupt":
            corrupt(bad)
        else:
            bad.write_bytes(bad.read_bytes()[: 4096 * 3])
    else:
        make_file(bad)
    with pytest.raises(InputError, match=message):
        restore_database(engine, str(bad))
    assert count_rows(engine) == before


def test_csv_export_and_import_round_trip(engine, filled, tmp_path):
    before = count_rows(engine)
    folder = tmp_path / "export"
    assert export_csv(engine, str(folder), now=NOW) == before
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "dosewise-csv" and manifest["tables"] == before
    notes = (folder / "notes.csv").read_text()
    assert notes.splitlines()[0] == "id,patient_id,recorded_at,author,text"
    target = fresh(tmp_path)
    assert import_csv(target, str(folder)) == before
    again = tmp_path / "again"
    export_csv(target, str(again), now=NOW)
    for table in before:  # the same rows, byte for byte (newlines, quotes, commas kept)
        assert (again / f"{table}.csv").read_bytes() == (folder / f"{table}.csv").read_bytes()


def test_csv_export_of_one_patient(engine, filled, tmp_path):
    patients.create_patient(engine, name="Someone else", time_zone="UTC", now=NOW, actor="test")
    folder = tmp_path / "one"
    counts = export_csv(engine, str(folder), patient_id=filled, now=NOW)
    assert counts["patients"] == 1
    assert "Someone else" not in (folder / "patients.csv").read_text()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "manifest.json").unlink(), "not a Dosewise CSV export"),
        (lambda f: (f / "notes.csv").write_text("id,text\n1,x\n"), "the columns must be"),
        (lambda f: _replace(f / "dose_slots.csv", ",5000,", ",lots,"), "is not valid"),
        (lambda f: _replace(f / "dose_events.csv", ",taken,", ",eaten,"), "must be one of taken, late"),
        (lambda f: _replace(f / "manifest.json", f'"{SCHEMA_HEAD}"', '"0999"'), "newer Dosewise"),
        (lambda f: _replace(f / "plans.csv", '""format"":2', '""format"":9'), "plan record cannot be read"),
    ],
)
def test_a_bad_csv_import_leaves_the_diary_unchanged(engine, filled, tmp_path, damage, message):
    folder = tmp_path / "export"
    export_csv(engine, str(folder), now=NOW)
    damage(folder)
    target = fresh(tmp_path)
    patients.create_patient(target, name="Keep me", time_zone="UTC", now=NOW, actor="test")
    before = count_rows(target)
    with pytest.raises(InputError, match=message):
        import_csv(target, str(folder))
    assert count_rows(target) == before


def _replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_export_refuses_a_folder_with_files(engine, filled, tmp_path):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        export_csv(engine, str(folder), now=NOW)
    shutil.rmtree(folder)


def test_stored_triage_results_round_trip_and_read_as_safety_checks(engine, filled, tmp_path):
    """triage_results.csv is the table (an import restores it exactly); safety_checks.csv is the
    same results for people: times with the patient's offset, questions and reasons written out."""
    import csv

    from sqlalchemy import select

    from dosewise.services import storage, triage
    from dosewise.store.models import TriageResultRow

    triage.triage_patient(engine, patient_id=filled, symptoms=["seizure", "feel odd"], now=NOW, actor="cli",
                          answers={"breathing": True, "hard_to_wake": False}, amount="3 tablets")  # fmt: skip
    triage.triage_patient(engine, patient_id=filled, symptoms=["drowsiness"], now=NOW, actor="cli")
    folder = tmp_path / "export"
    counts = storage.export_tables(engine, str(folder), patient_id=filled, now=NOW)
    assert counts["triage_results"] == 3  # and the one kept with the diary entry's side effects
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["readable"] == {"safety_checks.csv": 3} and "safety_checks" not in manifest["tables"]
    with (folder / "safety_checks.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["id", "recorded_at", "level", "reasons", "ticked", "typed", "answers", "amount",
                             "unrecognised", "sources", "recorded_by", "symptom_entry_id"]  # fmt: skip
    seizure = next(row for row in rows if row["level"] == "emergency")
    assert seizure["recorded_at"] == "2026-12-02T12:00:00+00:00"  # the patient's zone (UTC), with its offset
    assert seizure["ticked"] == "a seizure" and seizure["typed"] == "feel odd"
    assert seizure["answers"].split(" | ") == [
        "Is breathing slow, shallow, noisy or difficult? yes",
        "Is the person very hard to wake, or cannot be woken? no",
    ]
    assert seizure["amount"] == "3 tablets" and seizure["recorded_by"] == "cli"
    assert "a seizure: a danger sign [US-TAB, OZO, LYV]" in seizure["reasons"].split(" | ")
    assert "LYV" in seizure["sources"].split(", ")

    target = fresh(tmp_path)
    imported = storage.import_tables(target, str(folder))  # the readable file is not read
    assert imported["triage_results"] == 3

    def stored(database):
        with database.connect() as connection:
            return [
                tuple(row) for row in connection.execute(select(TriageResultRow).order_by(TriageResultRow.id))
            ]

    assert stored(target) == stored(engine)
    again = tmp_path / "again"
    storage.export_tables(target, str(again), patient_id=filled, now=NOW)
    for name in ("triage_results.csv", "safety_checks.csv"):
        assert (again / name).read_bytes() == (folder / name).read_bytes()
