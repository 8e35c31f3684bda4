"""`dosewise diary correct` and `diary today` (issue 12, points 4, 5 and 8), with the clock
fixed by DOSEWISE_NOW: undo, taken at another time, skipped, one line and exit 2 for bad input;
the day's routine and the one missed-dose rule in `diary today`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import run_cli, run_cli_json

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)  # a Tuesday


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).isoformat()


@pytest.fixture
def clock(tmp_path, monkeypatch):
    """A diary (Europe/London) whose titration to 30 mg/day was entered at 06:00 on DAY; the
    returned function sets the clock of the next commands."""
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")

    def set_clock(moment: str) -> None:
        monkeypatch.setenv("DOSEWISE_NOW", moment)

    set_clock(at(DAY, 6))
    return set_clock


def run(capsys, *argv):
    return run_cli(capsys, *argv)


def start(capsys, clock):
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    code, _, err = run(
        capsys, "diary", "plan", "baclofen", "--target-mg-day", "30", "--start", DAY.isoformat()
    )
    assert code == 0, err
    return {d["due"][11:16]: d["slot"] for d in run_cli_json(capsys, "diary", "today")["doses"]}


def test_correct_a_dose_undo_change_and_mark_a_missed_one_taken(capsys, clock):
    slots = start(capsys, clock)
    eight = str(slots["08:00"])
    clock(at(DAY, 8, 5))
    assert "recorded as taken" in run(capsys, "diary", "take", eight)[1]
    clock(at(DAY, 10))
    code, out, err = run(capsys, "diary", "correct", eight, "--taken", "--at", "09:30")
    assert (code, err) == (0, "")
    assert (
        out.strip()
        == f"Corrected: 08:00 dose marked taken at 09:30 (late) (dose #{eight}; kept in the audit trail)."
    )
    code, out, _ = run(capsys, "diary", "correct", eight, "--skipped")
    assert "08:00 dose marked skipped" in out
    code, out, _ = run(capsys, "diary", "correct", eight, "--undo")
    assert "08:00 dose: record undone (it said skipped)" in out
    code, out, _ = run(capsys, "diary", "correct", eight, "--undo")
    assert (code, out.strip()) == (0, f"Dose #{eight}: 08:00 dose: nothing recorded; nothing changed.")
    day = run_cli_json(capsys, "diary", "today")
    assert [d["state"] for d in day["doses"]] == ["due", "upcoming", "upcoming"]  # 08:00 due again
    # at 15:00 the 08:00 dose is missed (14:00 came): it was taken after all, at 08:40
    clock(at(DAY, 15))
    assert run_cli_json(capsys, "diary", "today")["doses"][0]["state"] == "missed"
    code, out, _ = run(capsys, "diary", "correct", eight, "--taken", "--at", "08:40")
    assert "08:00 dose marked taken at 08:40" in out
    doses = run_cli_json(capsys, "diary", "today")["doses"]
    assert (doses[0]["status"], doses[0]["state"], doses[0]["taken_at"]) == (
        "taken", "on_time", "2026-12-01T08:40:00+00:00",
    )  # fmt: skip
    adherence = run_cli_json(capsys, "diary", "adherence", "--from", DAY.isoformat(), "--to", DAY.isoformat())
    assert (adherence["total"]["missed"], adherence["total"]["on_time"]) == (0, 1)  # 14:00 is due now


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--skipped", "--at", "08:10"), "--at goes with --taken only"),
        (("--taken", "--at", "25:00"), "--at: the time '25:00' must be HH:MM"),
        (("--taken", "--at", "2026-12-01T16:00"), "--at: a dose cannot be recorded as taken in the future"),
        (("--taken", "--at", "05:00"), "--at: the 08:00 dose cannot have been taken that long before"),
        (("--taken", "--undo"), "not allowed with argument"),
        ((), "one of the arguments --undo --taken --skipped is required"),
    ],
)
def test_bad_corrections_are_one_line_and_exit_2(capsys, clock, argv, words):
    slots = start(capsys, clock)
    clock(at(DAY, 15))
    code, out, err = run(capsys, "diary", "correct", str(slots["08:00"]), *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and words in err, err


def test_a_correction_after_48_hours_is_refused(capsys, clock):
    slots = start(capsys, clock)
    clock(at(DAY + timedelta(days=2), 8, 1))
    code, out, err = run(capsys, "diary", "correct", str(slots["08:00"]), "--skipped")
    assert code == 2 and out == ""
    assert (
        "corrections are possible for 48 hours (Dosewise default); ask your clinician for older ones" in err
    )
    code, _, err = run(capsys, "diary", "correct", "99999", "--undo")
    assert code == 2 and "no dose #99999" in err


def test_diary_today_shows_the_routine_and_the_real_next_dose(capsys, clock):
    start(capsys, clock)
    clock(at(DAY + timedelta(days=40), 7))  # long after the titration's last step
    code, out, _ = run(capsys, "diary", "today")
    assert code == 0
    assert out.count(" 10 mg: ") == 3
    assert "Review with your prescriber by" in out
    assert "Next: #" in out and "08:00, 10 mg" in out
    routine = run_cli_json(capsys, "diary", "today")["routine"]
    assert routine["kind"] == "titration" and routine["stopped"] is False and routine["review_on"]
    # a new plan saved at 19:00 takes over at the next dose time, 20:00 (that dose is cancelled,
    # never a second dose an hour before the new plan's 21:00)
    later = DAY + timedelta(days=40)
    clock(at(later, 19))
    code, out, err = run(
        capsys, "diary", "plan", "baclofen", "--mg-day", "30", "--times", "09:00,15:00,21:00"
    )
    assert code == 0, err
    clock(at(later, 20, 56))
    today = run_cli_json(capsys, "diary", "today")
    assert [(d["due"][11:16], d["state"]) for d in today["doses"]][-2:] == [
        ("14:00", "missed"),
        ("21:00", "upcoming"),
    ]
    assert today["due_now"] == []
    assert today["next"]["due"][11:16] == "21:00"
    clock(at(later, 21, 30))
    today = run_cli_json(capsys, "diary", "today")
    [due] = today["due_now"]
    # nothing recorded for 40 days: not "take it now" but "do not simply restart" [baclofen.md 10]
    assert due["due"][11:16] == "21:00" and due["advice"] == "contact_prescriber"
    assert "No dose recorded in the diary for" in due["message"]
