"""`dosewise diary`: one local patient, doses ticked off once, symptoms validated."""

from __future__ import annotations

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json


@pytest.fixture(autouse=True)
def diary_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")


def start(capsys):
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    code, out, _ = run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "30", "--start", "2026-12-01")
    assert code == 0
    assert "Plan 1 started" in out


def test_a_day_of_the_diary(capsys):
    start(capsys)
    day = run_json(capsys, "diary", "today", "--date", "2026-12-01")
    assert [(d["due"], d["dose_mg"], d["status"]) for d in day["doses"]] == [
        ("2026-12-01T08:00:00+00:00", 5.0, None), ("2026-12-01T14:00:00+00:00", 5.0, None),
        ("2026-12-01T20:00:00+00:00", 5.0, None),
    ]  # fmt: skip
    first, second = day["doses"][0]["slot"], day["doses"][1]["slot"]
    assert "recorded as taken" in run(capsys, "diary", "take", str(first))[1]
    assert "already recorded as taken" in run(capsys, "diary", "take", str(first))[1]
    assert "already recorded as taken" in run(capsys, "diary", "skip", str(first))[1]
    assert "recorded as skipped" in run(capsys, "diary", "skip", str(second))[1]
    statuses = [d["status"] for d in run_json(capsys, "diary", "today", "--date", "2026-12-01")["doses"]]
    assert statuses == ["taken", "skipped", None]


def test_symptoms(capsys):
    start(capsys)
    argv = ["diary", "symptoms", "--penn-frequency", "2", "--penn-severity", "1", "--spasticity", "4",
            "--side-effect", "drowsiness:2"]  # fmt: skip
    assert run(capsys, *argv) == (0, "Symptoms recorded.\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diary", "take", "999"], "no dose slot 999"),
        (["diary", "symptoms", "--penn-frequency", "5", "--spasticity", "4"], "0-4"),
        (["diary", "symptoms", "--penn-frequency", "2", "--spasticity", "4"], "severity is 1-3"),
        (
            ["diary", "symptoms", "--penn-frequency", "0", "--spasticity", "4", "--side-effect", "dizzy"],
            "KEY:SEVERITY",
        ),
        (["diary", "today", "--date", "tomorrow"], "YYYY-MM-DD"),
        (["diary", "take", "1", "--at", "25:00"], "HH:MM"),
    ],
)
def test_bad_input(capsys, argv, message):
    start(capsys)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_nothing_before_init(capsys):
    code, _, err = run(capsys, "diary", "today")
    assert code == 2
    assert "dosewise diary init" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("sqlite:////nonexistent/folder/diary.sqlite3", "cannot open the diary database"),
        ("postgresql+psycopg://app:secret@127.0.0.1:1/none", "cannot open the diary database"),
    ],
)
def test_unusable_database_is_one_line(capsys, monkeypatch, url, message):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", url)
    code, _, err = run(capsys, "diary", "today")
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert "secret" not in err  # passwords are never echoed
