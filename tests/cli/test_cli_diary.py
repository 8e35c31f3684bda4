"""`dosewise diary`: one local patient, doses ticked off once, symptoms validated."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def diary_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")


DAYS_BACK = 3  # the plan starts a few days ago, so its doses can be recorded as taken "now"


def start(capsys, *extra):
    """A diary whose titration was entered DAYS_BACK days ago, before its first dose (the clock
    hook says when the plan command ran; the later commands run now)."""
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    first = datetime.now(tz=LONDON).date() - timedelta(days=DAYS_BACK)
    argv = ["diary", "plan", "baclofen", "--target-mg-day", "30", "--start", first.isoformat(), *extra]
    os.environ["DOSEWISE_NOW"] = datetime.combine(first, time(6), LONDON).isoformat()
    try:
        code, out, _ = run(capsys, *argv)
    finally:
        del os.environ["DOSEWISE_NOW"]
    assert code == 0
    assert "Plan 1 saved: it takes over at" in out
    return first


def test_a_day_of_the_diary(capsys):
    first = start(capsys)
    day = run_json(capsys, "diary", "today", "--date", first.isoformat())
    assert [(d["due"][11:16], d["dose_mg"], d["status"]) for d in day["doses"]] == [
        ("08:00", 5.0, None), ("14:00", 5.0, None), ("20:00", 5.0, None),
    ]  # fmt: skip
    assert [d["state"] for d in day["doses"]] == ["missed", "missed", "missed"]  # days ago, nothing recorded
    one, two, three = (d["slot"] for d in day["doses"])
    at = f"{first.isoformat()}T08:20"
    assert "recorded as taken" in run(capsys, "diary", "take", str(one), "--at", at)[1]
    assert "already recorded as taken" in run(capsys, "diary", "take", str(one))[1]
    assert "already recorded as taken" in run(capsys, "diary", "skip", str(one))[1]
    assert "recorded as skipped" in run(capsys, "diary", "skip", str(two))[1]
    assert (
        "recorded as late"
        in run(capsys, "diary", "take", str(three), "--at", f"{first.isoformat()}T23:30")[1]
    )
    doses = run_json(capsys, "diary", "today", "--date", first.isoformat())["doses"]
    assert [(d["status"], d["state"]) for d in doses] == [
        ("taken", "on_time"), ("skipped", "skipped"), ("late", "late"),
    ]  # fmt: skip


def test_adherence_per_step_and_per_day(capsys):
    first = start(capsys)
    day = run_json(capsys, "diary", "today", "--date", first.isoformat())
    for dose in day["doses"]:
        run(capsys, "diary", "take", str(dose["slot"]), "--at", dose["due"][:16])
    result = run_json(capsys, "diary", "adherence", "--from", first.isoformat(), "--to", first.isoformat())
    assert result["total"] | {"taken_share": None} == {
        "planned": 3, "on_time": 3, "late": 0, "skipped": 0, "missed": 0, "pending": 0, "taken_share": None,
    }  # fmt: skip
    assert result["total"]["taken_share"] == 1.0
    assert result["on_time_window_is_default"] is True
    whole = run_json(capsys, "diary", "adherence", "--from", first.isoformat())
    assert whole["by_day"][0]["date"] == first.isoformat()
    assert whole["by_step"][0]["on_time"] == 3
    # the days since, unrecorded: missed, except that last night's dose may still be due (the
    # missed-dose rule says "take it" for a while after it), whatever the hour of the run
    total = whole["total"]
    assert total["missed"] >= 3 * (DAYS_BACK - 2)
    assert total["missed"] + total["pending"] >= 3 * (DAYS_BACK - 1)


def test_symptoms_notes_medicines_and_triage(capsys):
    start(capsys)
    argv = ["diary", "symptoms", "--penn-frequency", "2", "--penn-severity", "1", "--spasticity", "4",
            "--side-effect", "drowsiness:2"]  # fmt: skip
    assert run(capsys, *argv) == (0, "Symptoms recorded.\n", "")
    assert run(capsys, "diary", "note", "stiff in the mornings") == (0, "Note recorded.\n", "")
    meds = run_json(capsys, "diary", "medicines", "--add", "oxycodone", "--add", "Zzzqx")
    assert [m["name"] for m in meds["medicines"]] == ["oxycodone", "Zzzqx"]
    assert meds["interactions"]["findings"][0]["severity"] == "major"
    assert meds["interactions"]["unrecognised"] == ["Zzzqx"]
    # the unrecorded doses of the last days are missed doses: hallucinations become an emergency
    result = run_json(capsys, "diary", "triage", "seeing things")
    assert result["level"] == "emergency"
    assert "withdrawal" in " ".join(result["reasons"])


def test_medicines_are_checked_with_the_plans_kidney_function(capsys):
    start(capsys, "--crcl", "40")
    meds = run_json(capsys, "diary", "medicines", "--add", "ibuprofen")
    assert meds["interactions"]["findings"][0]["severity"] == "major"  # NSAID below CrCl 50 [BACLON]


def test_maintenance_taper_and_clinician_plans_replace_each_other(capsys):
    first = start(capsys)
    later = (first + timedelta(days=DAYS_BACK + 1)).isoformat()
    code, out, _ = run(
        capsys, "diary", "plan", "baclofen", "--mg-day", "30", "--review-weeks", "4", "--start", later
    )
    assert code == 0 and "Plan 2 saved" in out and "maintenance" in out
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--step", "3:10,10,10", "--step", "3:30,30,30")
    assert code == 3 and "above the labelled maximum of 80 mg/day" in err
    # 30 -> 60 mg/day at once is more than a step may rise: only with a reason (exit 3 says how)
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--mg-day", "60", "--start", later)
    assert code == 3 and "from 30 to 60 mg/day" in err and "--confirm-rise REASON" in err
    # a first day in the past is explicit
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--mg-day", "30", "--start", first.isoformat())
    assert code == 2 and err.startswith("dosewise: error: --start: ") and "in the past" in err
    code, out, _ = run(capsys, "diary", "plan", "baclofen", "--from-mg-day", "30", "--start", later)
    assert code == 0 and "Plan 3 saved" in out
    tomorrow = run_json(capsys, "diary", "today", "--date", later)["doses"]
    assert len(tomorrow) == 3  # only the taper's doses: the earlier plans gave way from its first dose
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--mg-day", "30", "--from-mg-day", "30")
    assert code == 2 and "not allowed with argument" in err


def test_report_export_backup_and_restore(capsys, tmp_path):
    start(capsys)
    run(capsys, "diary", "symptoms", "--penn-frequency", "1", "--penn-severity", "1", "--spasticity", "3")
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    assert run(capsys, "diary", "report", str(html))[0] == 0
    assert "Baclofen diary report" in html.read_text() and "<svg" in html.read_text()
    assert run(capsys, "diary", "report", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    fhir = tmp_path / "bundle.json"
    assert run(capsys, "diary", "export", str(fhir), "--format", "fhir")[0] == 0
    assert '"resourceType": "Bundle"' in fhir.read_text()
    assert run(capsys, "diary", "export", str(tmp_path / "csv"), "--format", "csv")[0] == 0
    assert (tmp_path / "csv" / "dose_slots.csv").read_text().startswith("id,plan_id,due_at,")
    backup = tmp_path / "diary.backup"
    code, out, _ = run(capsys, "diary", "backup", str(backup))
    assert code == 0 and "1 symptom entries" in out
    code, _, err = run(capsys, "diary", "restore", str(backup))
    assert code == 2 and "--yes" in err
    assert run(capsys, "diary", "restore", str(backup), "--yes")[0] == 0
    assert run(capsys, "diary", "import", str(tmp_path / "csv"), "--yes")[0] == 0
    code, _, err = run(capsys, "diary", "restore", str(html), "--yes")
    assert code == 2 and "not a Dosewise backup" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diary", "take", "999"], "no dose #999"),
        (["diary", "symptoms", "--penn-frequency", "5", "--spasticity", "4"], "0-4"),
        (["diary", "symptoms", "--penn-frequency", "2", "--spasticity", "4"], "severity is 1-3"),
        (
            ["diary", "symptoms", "--penn-frequency", "0", "--spasticity", "4", "--side-effect", "dizzy"],
            "NAME:SEVERITY",
        ),
        (
            [
                "diary",
                "symptoms",
                "--penn-frequency",
                "0",
                "--spasticity",
                "4",
                "--side-effect",
                "itchy toes:1",
            ],
            "not on the list",
        ),
        (["diary", "today", "--date", "tomorrow"], "YYYY-MM-DD"),
        (["diary", "take", "1", "--at", "25:00"], "HH:MM"),
        (["diary", "note", "  "], "empty"),
        (["diary", "report", "out.txt"], ".html or .pdf"),
        (["diary", "adherence", "--from", "2026-12-10", "--to", "2026-12-01"], "before it starts"),
        (["diary", "export", "out.xml", "--format", "fhir"], ".json"),
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


def test_a_time_typed_after_midnight_is_last_night(capsys, monkeypatch):
    """`diary take N --at 22:40` typed at 00:30 records last night's 22:40, not tonight's."""
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T07:00+00:00")  # the plan is entered in the morning
    assert run(capsys, "diary", "init", "--tz", "Europe/London")[0] == 0
    assert run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "30", "--start", "2026-12-01")[0] == 0
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-02T00:30+00:00")  # 00:30 in London (winter)
    evening = run_json(capsys, "diary", "today", "--date", "2026-12-01")["doses"][-1]
    code, out, _ = run(capsys, "diary", "take", str(evening["slot"]), "--at", "22:40")
    assert code == 0 and "recorded" in out
    (taken,) = [
        d for d in run_json(capsys, "diary", "today", "--date", "2026-12-01")["doses"] if d["taken_at"]
    ]
    assert taken["taken_at"] == "2026-12-01T22:40:00+00:00"


def test_a_bad_time_names_the_flag(capsys):
    start(capsys)
    code, out, err = run(capsys, "diary", "take", "1", "--at", "25:00")
    assert (code, out) == (2, "")
    assert err.startswith("dosewise: error: --at: ") and err.count("\n") == 1


def test_diary_triage_reports_medicines_it_did_not_recognise(capsys):
    start(capsys)
    run_json(capsys, "diary", "medicines", "--add", "Zzzqx")
    result = run_json(capsys, "diary", "triage", "dizzy")
    assert result["unrecognised_medicines"] == ["Zzzqx"]
    code, _, err = run(capsys, "diary", "triage", "dizzy")
    assert code == 0
    assert "not recognised" in err and "Zzzqx" in err


def test_diary_missed_answers_from_the_real_doses_as_today_does(capsys, monkeypatch):
    """At 21:10 the 20:00 dose is still to take (the next real dose is tomorrow 08:00), in
    `diary missed` and in `diary today` alike; a time with no dose is an error naming it."""
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T07:00+00:00")
    assert run(capsys, "diary", "init", "--tz", "Europe/London")[0] == 0
    assert run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "30")[0] == 0
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T21:10+00:00")
    advice = run_json(capsys, "diary", "missed", "20:00")
    assert advice["action"] == "take_now" and advice["next_dose"].startswith("2026-12-02T08:00")
    today = run_json(capsys, "diary", "today")
    assert [(d["due"][11:16], d["advice"]) for d in today["due_now"]] == [("20:00", "take_now")]
    assert run_json(capsys, "diary", "missed", "14:00")["action"] == "skip"
    code, out, err = run(capsys, "diary", "missed", "21:00")
    assert (code, out) == (2, "") and "no dose was due at 21:00" in err


def test_diary_today_warns_after_a_day_without_a_dose(capsys, monkeypatch):
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T07:00+00:00")
    assert run(capsys, "diary", "init", "--tz", "Europe/London")[0] == 0
    assert run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "30")[0] == 0
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-02T13:00+00:00")  # 29 h after the first dose time
    assert run_json(capsys, "diary", "today")["routine"]["no_dose_hours"] == 29
    code, out, _ = run(capsys, "diary", "today")
    assert code == 0 and "NO DOSE RECORDED FOR 29 HOURS" in out and "do not simply restart" in out
