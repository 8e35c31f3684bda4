"""`dosewise diary supply`: counts and refills, the stock counted down by doses taken, the
run-out forecast, the log; bad input is one line on stderr and exit 2, nothing stored."""

from __future__ import annotations

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json


@pytest.fixture(autouse=True)
def diary(tmp_path, monkeypatch, capsys):
    """A titration to 60 mg/day from 10 mg tablets that halve, entered at 07:00 on 1 Dec (its
    first dose 08:00); the commands run at the time DOSEWISE_NOW says."""
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T07:00+00:00")
    assert run(capsys, "diary", "init", "--tz", "Europe/London")[0] == 0
    code, _, err = run(capsys, "diary", "plan", "baclofen", "--target-mg-day", "60", "--product",
                       "tablet:10mg:halves", "--start", "2026-12-01", "--tz", "Europe/London")  # fmt: skip
    assert (code, err) == (0, "")


def test_count_take_doses_and_see_the_stock_and_the_forecast(capsys, monkeypatch):
    code, out, _ = run(capsys, "diary", "supply", "count", "10mg", "20")
    assert code == 0
    assert "Counted 20 tablets (baclofen 10 mg tablets). In stock now: 20 tablets." in out
    assert "runs out on Tue 8 Dec at 14:00" in out  # through the titration's steps
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T09:00+00:00")
    today = run_json(capsys, "diary", "today")
    assert run(capsys, "diary", "take", str(today["doses"][0]["slot"]), "--at", "08:05")[0] == 0
    shown = run_json(capsys, "diary", "supply", "show")
    (tablets,) = shown["products"]
    assert (tablets["stock"], tablets["level"], tablets["days_left"]) == ("19.5 tablets", "ok", 7.21)
    assert shown["runs_out_at"] == "2026-12-08T14:00:00+00:00"
    assert shown["thresholds"]["product_defaults"] is True
    assert {"US-TAB", "OZO", "DOSEWISE"} <= set(shown["sources"])
    out = run(capsys, "diary", "supply")[1]  # show is the default
    assert "tablet:10mg:halves" in out and "19.5 tablets" in out
    assert "(product defaults)" in out and "seizures" in out


def test_a_refill_moves_the_forecast_and_the_log_lists_it(capsys):
    run(capsys, "diary", "supply", "count", "tablet:10mg:halves", "20")
    recorded = run_json(capsys, "diary", "supply", "collected", "10mg", "100")
    assert recorded["event"]["quantity"] == "100 tablets"
    assert recorded["runs_out_at"] > "2026-12-20"
    assert run(capsys, "diary", "supply", "adjust", "10mg", "-1.5", "--note", "dropped")[0] == 0
    out = run(capsys, "diary", "supply", "log")[1]
    lines = [line for line in out.splitlines() if line.strip()]
    assert "adjusted" in lines[0] and "-1.5 tablets" in lines[0] and "(dropped)" in lines[0]
    assert "collected" in lines[1] and "+100 tablets" in lines[1]
    assert "counted" in lines[2]
    log = run_json(capsys, "diary", "supply", "log")["log"]
    assert [line["kind"] for line in log] == ["adjusted", "collected", "counted"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("count", "10mg", "-3"), "a count must be 0 or more tablets"),
        (("count", "25mg", "3"), "no product '25mg' in this diary: name one of tablet:10mg:halves"),
        (("count", "10mg", "two"), "the amount must be a number of tablets"),
        (("count", "10mg", "2.25"), "whole tablets and halves"),
        (("collected", "10mg", "0"), "more than 0 tablets"),
        (("adjust", "10mg", "-2"), "--note"),
        (("count", "10mg"), "quantity"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "diary", "supply", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert run_json(capsys, "diary", "supply", "log")["log"] == []
