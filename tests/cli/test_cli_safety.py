"""CLI contract of the safety advisor: interactions, missed, triage."""

from __future__ import annotations

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json

DISCLAIMER = "does not replace your prescriber, pharmacist or emergency services"


def test_interactions_contract(capsys):
    names = ["oxycodone", "Xanax", "lisinopril", "alchohol", "zzqx"]
    data = run_json(capsys, "interactions", "baclofen", *names, "--crcl", "40")
    findings = {f["input"]: f for f in data["findings"]}
    assert set(findings) == {"oxycodone", "Xanax", "lisinopril", "alchohol"}
    assert set(findings["Xanax"]) >= {"input", "matched", "class", "severity", "effect", "advice", "source"}
    assert findings["Xanax"]["matched"] == "Xanax (alprazolam)"
    assert findings["alchohol"]["matched"] == "alcohol"
    assert data["unrecognised"] == ["zzqx"]
    assert {"input": "alchohol", "assumed": "alcohol"} in data["suggestions"]
    assert [c["code"] for c in data["combined"]] == ["COMBINED_SEDATION"]
    assert {"PMS", "OZO"} <= {s["key"] for s in data["sources"]}
    assert DISCLAIMER in data["disclaimer"]


def test_interactions_table(capsys):
    code, out, _ = run(capsys, "interactions", "baclofen", "ibuprofen", "atorvastatin", "blorgex")
    assert code == 0
    expected = ("Interactions with Baclofen", "ibuprofen", "no interaction listed", "NOT RECOGNISED")
    for text in (*expected, "'blorgex'", "not a safety check", DISCLAIMER):
        assert text in out


def test_missed_contract(capsys):
    data = run_json(capsys, "missed", "--times", "08:00,14:00,20:00", "--missed", "14:00", "--now", "18:30",
                    "--date", "2026-12-01", "--tz", "Europe/London")  # fmt: skip
    assert (data["action"], data["next_dose"]) == ("skip", "2026-12-01T20:00:00+00:00")
    assert data["source"] == "NHS" and "Never take two doses" in data["message"]
    assert DISCLAIMER in data["disclaimer"]


def test_missed_bedtime_dose_next_morning(capsys):
    data = run_json(capsys, "missed", "--times", "08:00,14:00,20:00", "--missed", "20:00", "--now", "05:00",
                    "--date", "2026-12-02", "--tz", "America/New_York")  # fmt: skip
    assert data["action"] == "take_now"
    assert data["missed_dose"] == "2026-12-01T20:00:00-05:00"


def test_missed_after_a_day_without_doses(capsys):
    data = run_json(capsys, "missed", "--times", "08:00,20:00", "--missed", "08:00", "--now", "09:00",
                    "--date", "2026-12-03", "--last-taken", "2026-12-01T20:00")  # fmt: skip
    assert data["action"] == "contact_prescriber"
    assert [w["code"] for w in data["warnings"]] == ["WITHDRAWAL_RISK"]


def test_triage_contract_emergency_exits_0(capsys):
    data = run_json(capsys, "triage", "hallucinations", "fever", "--stopped-hours-ago", "20")
    assert data["level"] == "emergency"
    assert data["symptoms"] == ["hallucinations", "high_fever"]
    assert any("withdrawal" in reason for reason in data["reasons"])
    assert "Call emergency services now" in data["advice"]
    assert {s["key"] for s in data["sources"]} >= {"US-TAB"}
    assert DISCLAIMER in data["disclaimer"]


def test_triage_with_kidneys_and_medicines(capsys):
    data = run_json(capsys, "triage", "very sleepy", "--crcl", "25", "--medicine", "OxyContin")
    assert data["level"] == "urgent"
    assert any("OxyContin (oxycodone)" in reason for reason in data["reasons"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["interactions", "aspirin-drug", "ibuprofen"], "unknown drug"),
        (["interactions", "baclofen"], "the following arguments are required: medicines"),
        (
            ["missed", "--times", "08:00,14:00", "--missed", "13:00", "--now", "15:00"],
            "not one of the dose times",
        ),
        (["missed", "--times", "08:00,14:00", "--missed", "14:00", "--now", "3pm"], "'3pm' must be HH:MM"),
        (
            ["missed", "--times", "08:00,14:00", "--missed", "14:00", "--date", "tomorrow"],
            "must be YYYY-MM-DD",
        ),
        (
            ["missed", "--times", "08:00,14:00", "--missed", "14:00", "--last-taken", "yesterday"],
            "--last-taken",
        ),
        (["missed", "--times", "08:00,14:00", "--missed", "14:00", "--window-h", "-1"], "between 0 and 12"),
        (
            ["missed", "--times", "08:00,14:00", "--missed", "14:00", "--tz", "Nowhere/City"],
            "unknown time zone",
        ),
        (["triage", "dizzy", "--missed-doses-24h", "-2"], "between 0 and 24"),
        (["triage", "dizzy", "--stopped-hours-ago", "soon"], "invalid float value"),
    ],
)
def test_bad_input_exits_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err


def test_triage_reports_medicines_it_did_not_recognise(capsys):
    data = run_json(capsys, "triage", "dizzy", "--medicine", "zzqx", "--medicine", "oxycodone")
    assert data["unrecognised_medicines"] == ["zzqx"]
    code, _, err = run(capsys, "triage", "dizzy", "--medicine", "zzqx")
    assert code == 0
    assert err == "dosewise: note: medicine not recognised, not counted: zzqx\n"


def test_missed_uses_the_clock_in_the_zone_given(capsys, monkeypatch):
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-02T10:00+00:00")  # 05:00 in New York
    data = run_json(capsys, "missed", "--times", "08:00,14:00,20:00", "--missed", "20:00",
                    "--tz", "America/New_York")  # fmt: skip
    assert data["action"] == "take_now"
    assert data["missed_dose"] == "2026-12-01T20:00:00-05:00"


def test_missed_last_taken_as_a_clock_time_is_the_latest_one(capsys):
    data = run_json(capsys, "missed", "--times", "08:00,20:00", "--missed", "08:00", "--now", "09:00",
                    "--date", "2026-12-03", "--last-taken", "20:00")  # fmt: skip
    assert data["action"] == "take_now"  # last night's 20:00: 13 hours ago, not a long gap


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--missed", "2pm"], "dosewise: error: --missed: "),
        (["--missed", "14:00", "--now", "3pm"], "dosewise: error: --now: "),
        (["--missed", "14:00", "--date", "tomorrow"], "dosewise: error: --date: "),
        (["--missed", "14:00", "--last-taken", "yesterday"], "dosewise: error: --last-taken: "),
        (["--missed", "14:00", "--tz", "Nowhere/City"], "dosewise: error: --tz: "),
    ],
)
def test_missed_errors_name_the_flag(capsys, argv, line):
    code, out, err = run(capsys, "missed", "--times", "08:00,14:00", *argv)
    assert (code, out) == (2, "")
    assert err.startswith(line) and err.count("\n") == 1


def test_interactions_json_keeps_its_fields_and_adds_how_names_were_read(capsys):
    data = run_json(capsys, "interactions", "baclofen", "opioids", "oxycodon", "OxyContin", "NyQuil",
                    "aspirin 81", "Lioresal", "zzqx")  # fmt: skip
    old = {"input", "matched", "medicine", "class", "severity", "effect", "advice", "source"}
    added = {"read_as", "assumed", "read_note", "note", "in_some_forms", "classes"}
    assert all(set(f) >= old | added for f in data["findings"])
    assert {"drug", "findings", "combined", "no_listed_interaction", "unrecognised", "suggestions", "sources",
            "disclaimer", "names", "listed_twice"} <= set(data)  # fmt: skip
    findings = {f["input"]: f for f in data["findings"] if not f["in_some_forms"]}
    assert (findings["opioids"]["read_as"], findings["opioids"]["matched"]) == ("class", "opioids (a class)")
    assert findings["oxycodon"]["assumed"] is True
    assert findings["oxycodon"]["read_note"] == "read as oxycodone (from 'oxycodon'): check the spelling"
    assert {"input": "oxycodon", "assumed": "oxycodone"} in data["suggestions"]
    alcohol = [f for f in data["findings"] if f["in_some_forms"]]
    assert [(f["input"], f["medicine"]) for f in alcohol] == [("NyQuil", "alcohol")]
    assert data["listed_twice"] == [
        {"medicine": "oxycodone", "inputs": ["oxycodon", "OxyContin"],
         "message": "listed twice: oxycodon and OxyContin are both oxycodone"}
    ]  # fmt: skip
    names = {n["input"]: n for n in data["names"]}
    assert names["NyQuil"]["ingredients"] == ["doxylamine", "dextromethorphan", "paracetamol"]
    assert names["NyQuil"]["in_some_forms"] == ["alcohol", "phenylephrine"]
    assert (names["Lioresal"]["status"], names["zzqx"]["status"]) == ("same_drug", "not_recognised")
    assert names["aspirin 81"]["matched"] == "aspirin 81 mg a day (low-dose aspirin)"
    low = [m for m in data["no_listed_interaction"] if m["input"] == "aspirin 81"]
    assert "not graded as an NSAID" in low[0]["about"]
    assert [c["code"] for c in data["combined"]] == ["SAME_DRUG", "LISTED_TWICE", "COMBINED_SEDATION"]


def test_interactions_table_says_what_each_name_was_read_as(capsys):
    code, out, _ = run(capsys, "interactions", "baclofen", "opioids", "oxycodon", "OxyContin", "NyQuil",
                       "antidepressants")  # fmt: skip
    assert code == 0
    text = " ".join(out.split())  # the table wraps
    for expected in ("opioids (a class)", "LISTED TWICE",
                     "read as oxycodone (from 'oxycodon'): check the spelling",
                     "About 'antidepressants': Which antidepressant?", "COMBINED RISK"):  # fmt: skip
        assert expected in text, expected
    assert "spirits" not in text
