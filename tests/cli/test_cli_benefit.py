"""`dosewise diary benefit`: the benefit review of baclofen.md section 10 on the command line,
the same JSON as GET /api/patients/{id}/benefit, and as text with the rule, its sources and its
product-default settings.

Each diary, by hand: a labelled titration to 60 mg/day [US-TAB] entered on 4 Jan 2026, starting
5 Jan (15, 30, 45 mg/day for 3 days each, 60 from 14 Jan). Baseline: 4 entries from 28 Dec
(Penn 3, 3, 3, 3: mean 3.0; stiffness 7, 7, 6, 6: mean 6.5). Six weeks at 60 mg/day on 24 Feb;
the current entries are those of 18-21 Feb. An improvement is Penn down by 1 or stiffness down
by 2 or more (product defaults).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json

LONDON = ZoneInfo("Europe/London")
REVIEW_AT = datetime(2026, 2, 24, 12, 0, tzinfo=LONDON)
BASELINE = [(3, 7), (3, 7), (3, 6), (3, 6)]
NO_CHANGE = [(3, 6), (3, 6), (2, 6), (2, 6)]  # Penn 2.5 (-0.5), stiffness 6.0 (-0.5)
BETTER = [(1, 4), (1, 4), (2, 4), (2, 4)]  # Penn 1.5 (-1.5), stiffness 4.0 (-2.5)


@pytest.fixture(autouse=True)
def diary_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")


def at(monkeypatch, when: datetime) -> None:
    monkeypatch.setenv("DOSEWISE_NOW", when.isoformat())


def make_diary(capsys, monkeypatch, current):
    at(monkeypatch, datetime(2025, 12, 1, 9, tzinfo=LONDON))
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    for number, (penn, stiffness) in enumerate(BASELINE):
        symptoms(capsys, monkeypatch, date(2025, 12, 28) + timedelta(days=number), penn, stiffness)
    at(monkeypatch, datetime(2026, 1, 4, 18, tzinfo=LONDON))
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "60", "--start", "2026-01-05")
    assert code == 0, err
    for number, (penn, stiffness) in enumerate(current):
        symptoms(capsys, monkeypatch, date(2026, 2, 18) + timedelta(days=number), penn, stiffness)
    at(monkeypatch, REVIEW_AT)


def symptoms(capsys, monkeypatch, day: date, penn: int, stiffness: int) -> None:
    at(monkeypatch, datetime(day.year, day.month, day.day, 9, tzinfo=LONDON))
    argv = ["diary", "symptoms", "--penn-frequency", str(penn), "--spasticity", str(stiffness)]
    code, _, err = run(capsys, *argv, *(("--penn-severity", "2") if penn else ()))
    assert code == 0, err


def test_no_improvement_is_flagged_with_the_numbers_the_rule_and_its_sources(capsys, monkeypatch):
    make_diary(capsys, monkeypatch, NO_CHANGE)
    data = run_json(capsys, "diary", "benefit")
    assert (data["status"], data["flag"], data["changes_plan"]) == ("no_clear_benefit", True, False)
    assert data["message"].startswith(
        "no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal"
    )
    assert (data["baseline"]["penn_frequency"], data["baseline"]["stiffness_nrs"]) == (3.0, 6.5)
    assert (data["current"]["penn_frequency"], data["current"]["stiffness_nrs"]) == (2.5, 6.0)
    assert data["change"] == {"penn_frequency": -0.5, "stiffness_nrs": -0.5}
    assert (data["stable_daily_mg"], data["stable_since"], data["titration_start"]) == (
        60,
        "2026-01-14",
        "2026-01-05",
    )
    assert data["sources"] == ["US-TAB", "UK", "PSFS", "DOSEWISE"]
    code, out, err = run(capsys, "diary", "benefit")
    assert (code, err) == (0, "")
    assert "Benefit review (baclofen.md section 10) on 2026-02-24: no clear benefit" in out
    assert "FLAG: no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal" in out
    assert "Stable dose: 60 mg/day since 2026-01-14 (6 weeks); titration from 2026-01-05" in out
    lines = out.splitlines()
    before = next(line for line in lines if line.startswith("Before titration"))
    now = next(line for line in lines if line.startswith("Now ("))
    change = next(line for line in lines if line.startswith("Change"))
    assert before.split()[-3:] == ["4", "3.0", "6.5"]
    assert now.split()[-3:] == ["4", "2.5", "6.0"]
    assert change.split()[-2:] == ["-0.5", "-0.5"]
    assert "Rule: No benefit after a trial: the label asks to withdraw slowly" in out
    assert "improvement: Penn spasm frequency down by 1 or more, or stiffness down by 2 or more" in out
    assert "(product default) [DOSEWISE]" in out
    assert "[US-TAB] US baclofen tablet labels" in out
    assert "[PSFS] Penn Spasm Frequency Scale" in out
    assert "it never changes the plan" in out


def test_improvement_is_benefit_without_a_flag(capsys, monkeypatch):
    make_diary(capsys, monkeypatch, BETTER)
    data = run_json(capsys, "diary", "benefit")
    assert (data["status"], data["flag"]) == ("benefit", False)
    assert data["change"] == {"penn_frequency": -1.5, "stiffness_nrs": -2.5}
    out = run(capsys, "diary", "benefit")[1]
    assert "Benefit review (baclofen.md section 10) on 2026-02-24: benefit" in out
    assert "FLAG" not in out
    assert "spasm frequency fell by 1.5" in out


def test_too_early_and_the_same_json_as_the_api(capsys, monkeypatch):
    make_diary(capsys, monkeypatch, NO_CHANGE[:2])
    at(monkeypatch, datetime(2026, 2, 20, 12, tzinfo=LONDON))
    data = run_json(capsys, "diary", "benefit")
    assert data["status"] == "too_early"
    assert data["message"] == "too early: 5 weeks at 60 mg/day; review from 2026-02-24"
    assert set(data) == {
        "status", "flag", "message", "reasons", "today", "stable_daily_mg", "stable_since",
        "baseline_daily_mg", "baseline_on_baclofen", "weeks_at_stable_dose", "titration_start",
        "baseline", "current", "change", "side_effects", "doses", "rule", "settings", "sources",
        "changes_plan",
    }  # fmt: skip


def test_a_patient_not_in_the_database_is_one_line_exit_2(capsys, monkeypatch):
    make_diary(capsys, monkeypatch, NO_CHANGE)
    assert run_json(capsys, "diary", "benefit", "--patient", "1")["status"] == "no_clear_benefit"
    code, out, err = run(capsys, "diary", "benefit", "--patient", "7")
    assert (code, out) == (2, "")
    assert err == "dosewise: error: no patient 7\n"
    code, out, err = run(capsys, "diary", "benefit", "--patient", "0")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "--patient" in err
