"""The CLI contract: names, JSON fields, exit codes, one-line errors, light import path."""

from __future__ import annotations

import subprocess
import sys

import pytest
from icalendar import Calendar

from conftest import run_cli as run
from conftest import run_cli_json as run_json


def test_kidney_json(capsys):
    data = run_json(
        capsys,
        "kidney",
        "--age",
        "70",
        "--sex",
        "female",
        "--weight-kg",
        "60",
        "--scr-mg-dl",
        "1.4",
    )
    assert (data["egfr_ckd_epi_2021"], data["band"], data["dose_factor"]) == (40.5, "moderate", 0.5)
    assert data["crcl_ml_min"] == pytest.approx(35.41667, abs=1e-5)  # the exact value
    assert data["crcl_shown"] == "35.41"  # truncated, never rounded (docs/adr/0014)
    assert [s["key"] for s in data["sources"]] == ["CG76", "EPI21", "VLAV14"]


def test_kidney_in_umol(capsys):
    data = run_json(
        capsys,
        "kidney",
        "--age",
        "50",
        "--sex",
        "male",
        "--weight-kg",
        "70",
        "--scr-umol-l",
        "88.4",
    )
    assert (data["crcl_ml_min"], data["crcl_shown"], data["band"]) == (87.5, "87.50", "normal")


def test_plan_json_contract(capsys):
    data = run_json(
        capsys,
        "plan",
        "baclofen",
        "--target-mg-day",
        "60",
        "--start",
        "2026-12-01",
        "--tz",
        "Europe/London",
    )
    assert set(data) >= {
        "drug",
        "kind",
        "kidney",
        "max_daily_mg",
        "steps",
        "warnings",
        "cautions",
        "sources",
    }
    assert (data["drug"], data["kind"], data["kidney"], data["max_daily_mg"]) == (
        "baclofen",
        "titration",
        None,
        80,
    )
    assert [(s["start"], s["days"], s["daily_mg"]) for s in data["steps"]] == [
        ("2026-12-01", 3, 15), ("2026-12-04", 3, 30), ("2026-12-07", 3, 45), ("2026-12-10", 3, 60),
    ]  # fmt: skip
    assert data["steps"][2]["doses_mg"] == [15, 15, 15]
    assert data["steps"][2]["how"] == ["1 x 10 mg tablet + 1 x 5 mg tablet"] * 3
    assert all(set(f) == {"code", "severity", "message", "source"} for f in data["cautions"])
    assert "NEVER_STOP_ABRUPTLY" in {f["code"] for f in data["cautions"]}
    assert "US-TAB" in {s["key"] for s in data["sources"]}
    assert "prescriber" in data["disclaimer"]


def test_plan_with_kidney_labs(capsys):
    data = run_json(capsys, "plan", "baclofen", "--target-mg-day", "60", "--age", "70", "--sex", "female",
                    "--weight-kg", "60", "--scr-mg-dl", "1.4", "--product", "solution:1mg/ml")  # fmt: skip
    assert data["kidney"]["band"] == "moderate"
    assert [s["daily_mg"] for s in data["steps"]] == [7.5, 15, 22.5, 30]
    assert [s["days"] for s in data["steps"]] == [5, 5, 5, 5]  # 65+ product default
    assert data["max_daily_mg"] == 40


def test_taper_json_has_stop_date(capsys):
    data = run_json(
        capsys,
        "taper",
        "baclofen",
        "--from-mg-day",
        "60",
        "--start",
        "2026-12-01",
        "--min-days",
        "21",
    )
    assert data["kind"] == "taper"
    assert data["stop_date"] == "2026-12-22"
    assert [s["daily_mg"] for s in data["steps"]] == [45, 30, 15]


def test_human_output_is_a_table_with_sources(capsys):
    code, out, _ = run(
        capsys, "plan", "baclofen", "--target-mg-day", "45", "--start", "2026-12-01", "--crcl", "45"
    )
    assert code == 0
    for text in ("Baclofen titration plan", "08:00", "1 x 5 mg", "Sources", "[VLAV14]",
                 "Maximum for this plan: 40 mg/day", "agree every plan"):  # fmt: skip
        assert text in out


def test_ics_file_written(capsys, tmp_path):
    path = tmp_path / "doses.ics"
    code, out, _ = run(capsys, "taper", "baclofen", "--from-mg-day", "30", "--start", "2026-12-01", "--tz",
                       "America/New_York", "--ics", str(path))  # fmt: skip
    assert code == 0
    assert f"Reminders written to {path}" in out
    events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    assert events[0]["DTSTART"].dt.isoformat() == "2026-12-01T08:00:00-05:00"


BAD_INPUT = [
    (
        ["kidney", "--age", "150", "--sex", "female", "--weight-kg", "60", "--scr-mg-dl", "1.4"],
        "age 150",
    ),
    (
        ["kidney", "--age", "-3", "--sex", "female", "--weight-kg", "60", "--scr-mg-dl", "1.4"],
        "age -3",
    ),
    (
        ["kidney", "--age", "70", "--sex", "female", "--weight-kg", "900", "--scr-mg-dl", "1.4"],
        "weight 900",
    ),
    (
        ["kidney", "--age", "70", "--sex", "female", "--weight-kg", "60", "--scr-mg-dl", "45"],
        "serum creatinine 45",
    ),
    (
        ["kidney", "--age", "70", "--sex", "female", "--weight-kg", "60", "--scr-mg-dl", "-1"],
        "serum creatinine -1",
    ),
    (
        ["kidney", "--age", "70", "--sex", "x", "--weight-kg", "60", "--scr-mg-dl", "1"],
        "invalid choice: 'x'",
    ),
    (["plan", "aspirin", "--target-mg-day", "60"], "unknown drug 'aspirin'"),
    (
        ["plan", "baclofen", "--target-mg-day", "60", "--tz", "Mars/Olympus"],
        "unknown time zone 'Mars/Olympus'",
    ),
    (["plan", "baclofen", "--target-mg-day", "60", "--times", "8,14,20"], "'8' must be HH:MM"),
    (["plan", "baclofen", "--target-mg-day", "130"], "above 120 mg/day"),
    (["plan", "baclofen", "--target-mg-day", "sixty"], "invalid float value: 'sixty'"),
    (
        ["plan", "baclofen", "--target-mg-day", "60", "--product", "tablet:7mg"],
        "no baclofen tablet of 7 mg",
    ),
    (
        [
            "plan",
            "baclofen",
            "--target-mg-day",
            "60",
            "--crcl",
            "45",
            "--product",
            "tablet:20mg:whole",
        ],
        "cannot make the first step",
    ),
    (["plan", "baclofen", "--target-mg-day", "60", "--start", "1/12/2026"], "must be YYYY-MM-DD"),
    (["plan", "baclofen", "--target-mg-day", "60", "--crcl", "45", "--dialysis"], "one way"),
    (
        ["plan", "baclofen", "--target-mg-day", "60", "--scr-mg-dl", "1.2"],
        "also needs age, sex, weight",
    ),
    (["plan", "baclofen"], "the following arguments are required: --target-mg-day"),
    (
        ["taper", "baclofen", "--from-mg-day", "60", "--ics", "/nonexistent/dir/x.ics"],
        "cannot write",
    ),
    (["plan", "baclofen", "--target-mg-day", "60", "--tz", "America"], "unknown time zone 'America'"),
    (["plan", "baclofen", "--target-mg-day", "60", "--tz", ""], "unknown time zone ''"),
    (["plan", "baclofen", "--target-mg-day", "60", "--start", "9999-12-25"], "between 2000 and 2200"),
    (["taper", "baclofen", "--from-mg-day", "60", "--start", "9999-12-25"], "between 2000 and 2200"),
    (["plan", "baclofen", "--target-mg-day", "60", "--doses-per-day", "0"], "doses per day must be 3 or 4"),
    (["taper", "baclofen", "--from-mg-day", "60", "--doses-per-day", "5"], "doses per day must be 3 or 4"),
    (["plan", "baclofen", "--target-mg-day", "120.0001", "--clinician-override"], "target 120.0001 mg/day"),
]


@pytest.mark.parametrize(
    ("argv", "message"), BAD_INPUT, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("dosewise: error: ")
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "baclofen", "--target-mg-day", "90"], "above the labelled maximum"),
        (["plan", "baclofen", "--target-mg-day", "60", "--crcl", "25"], "below 30"),
        (["plan", "baclofen", "--target-mg-day", "60", "--dialysis"], "on dialysis"),
        (["plan", "baclofen", "--target-mg-day", "60", "--age", "12"], "under 18"),
        # the override lifts the adult maximum, never the children's rule
        (
            [
                "plan",
                "baclofen",
                "--target-mg-day",
                "60",
                "--age",
                "15",
                "--weight-kg",
                "50",
                "--clinician-override",
            ],
            "No automatic plan under 18 years (age 15), even with the clinician override",
        ),
        (
            [
                "maintain",
                "baclofen",
                "--mg-day",
                "20",
                "--age",
                "15",
                "--weight-kg",
                "50",
                "--clinician-override",
            ],
            "even with the clinician override",
        ),
        # ... nor the kidney-adjusted maximum: that is a separate confirmation
        (
            ["maintain", "baclofen", "--mg-day", "60", "--crcl", "40", "--clinician-override"],
            "above the kidney-adjusted maximum of 40 mg/day (1/2 of the labelled 80 mg/day) [VLAV14]: the "
            "clinician override lifts the labelled maximum, not the kidney-adjusted one",
        ),
        (["taper", "baclofen", "--from-mg-day", "60", "--min-days", "5"], "at least 14 days"),
    ],
)
def test_safety_refusal_exits_3(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (3, "")
    assert err.count("\n") == 1
    assert err.startswith("dosewise: refused for safety: ")
    assert message in err


def test_the_kidney_confirmation_is_its_own_option(capsys):
    argv = ["maintain", "baclofen", "--mg-day", "60", "--crcl", "40", "--clinician-override"]
    code, _, err = run(capsys, *argv)
    assert code == 3
    assert err.rstrip().endswith("(clinician: add --above-kidney-max with --clinician-override)")
    data = run_json(capsys, *argv, "--above-kidney-max")
    assert data["max_daily_mg"] == 60
    warning = next(w for w in data["warnings"] if w["code"] == "ABOVE_KIDNEY_MAXIMUM")
    assert warning["severity"] == "warning" and "CHEONG20" in warning["source"]
    code, out, _ = run(capsys, *argv, "--above-kidney-max")
    assert code == 0 and "Above the kidney-adjusted maximum, confirmed by the clinician" in out
    code, _, err = run(capsys, "maintain", "baclofen", "--mg-day", "30", "--crcl", "40", "--above-kidney-max")
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith("dosewise: error: --above-kidney-max: ")


def test_override_lets_a_clinician_plan_within_caps(capsys):
    data = run_json(capsys, "plan", "baclofen", "--target-mg-day", "60", "--crcl", "25",
                    "--clinician-override",
                    "--product", "solution:1mg/ml")  # fmt: skip
    assert data["max_daily_mg"] == 26.666
    assert "CLINICIAN_OVERRIDE" in {w["code"] for w in data["warnings"]}


def test_real_process_no_traceback_and_light_imports():
    """`dosewise plan` runs as its own process without numpy, SQLAlchemy, FastAPI or matplotlib."""
    probe = (
        "HEAVY = ('numpy', 'sqlalchemy', 'fastapi', 'matplotlib', 'pydantic')\n"
        "import sys\nfrom dosewise.cli.app import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    heavy = [m for m in HEAVY if m in sys.modules]\n"
        "    print('HEAVY', heavy, file=sys.stderr); raise\n"
    )
    for argv, code in (
        (["plan", "baclofen", "--target-mg-day", "60"], 0),
        (["kidney", "--age", "x"], 2),
    ):
        result = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False
        )
        assert result.returncode == code
        assert "Traceback" not in result.stderr
        assert "HEAVY []" in result.stderr


@pytest.mark.parametrize(
    ("crcl", "shown", "band"),
    [
        ("80.04", "80.04", "normal"),
        ("80.001", "80.001", "normal"),  # 80.00 would be mild: more decimals, never another band
        ("49.96", "49.96", "moderate"),
        ("49.999", "49.99", "moderate"),
        ("29.996", "29.99", "severe"),  # was "30.00 ... band severe"
        ("30", "30.00", "moderate"),
    ],
)
def test_crcl_near_a_band_edge_is_not_rounded_onto_it(capsys, crcl, shown, band):
    argv = ["plan", "baclofen", "--target-mg-day", "30", "--crcl", crcl, "--product", "solution:1mg/ml",
            "--clinician-override"]  # fmt: skip
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert f"CrCl {shown} mL/min (Cockcroft-Gault); band {band}" in out
    assert "30.00 mL/min" not in out or shown == "30.00"
    data = run_json(capsys, *argv, "--json")
    assert data["kidney"]["crcl_ml_min"] == float(crcl)  # JSON keeps the exact value
    assert (data["kidney"]["crcl_shown"], data["kidney"]["band"]) == (shown, band)


def test_piped_table_keeps_dates_whole():
    argv = ["plan", "baclofen", "--target-mg-day", "80", "--doses-per-day", "4", "--start", "2026-12-01"]
    result = subprocess.run(
        [sys.executable, "-m", "dosewise", *argv], capture_output=True, text=True, check=True
    )
    for day in ("2026-12-01", "2026-12-04", "2026-12-16"):
        assert day in result.stdout


def test_closed_pipe_is_not_a_traceback():
    command = f"{sys.executable} -m dosewise plan baclofen --target-mg-day 60 --json | head -c 1"
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)
    assert "Traceback" not in result.stderr
    assert result.stdout == "{"


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "dosewise", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert all(name in result.stdout for name in ("kidney", "plan", "taper"))


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["schedule", "baclofen", "--step", "3:2,2,2", "--age", "5", "--product", "solution:1mg/ml"],
            "dosewise: error: --weight-kg: give the child's weight in kg",
        ),
        (
            ["kidney", "--age", "150", "--sex", "female", "--weight-kg", "60", "--scr-mg-dl", "1.4"],
            "dosewise: error: --age: age 150",
        ),
        (["plan", "baclofen", "--target-mg-day", "30", "--crcl", "900"], "dosewise: error: --crcl: CrCl 900"),
        (["schedule", "baclofen", "--step", "3:x"], "dosewise: error: --step: step '3:x'"),
        (
            ["plan", "baclofen", "--target-mg-day", "30", "--product", "tablet:7mg"],
            "dosewise: error: --product: ",
        ),
        (["taper", "baclofen", "--from-mg-day", "30", "--tz", "Mars/Olympus"], "dosewise: error: --tz: "),
        (["maintain", "baclofen", "--mg-day", "30", "--start", "1/12/2026"], "dosewise: error: --start: "),
        (["triage", "dizzy", "--medicine", " "], "dosewise: error: --medicine: name at least one"),
        # the same error where no flag says it: the message alone
        (["interactions", "baclofen", " "], "dosewise: error: name at least one"),
    ],
)
def test_an_error_names_the_flag_to_fix(capsys, argv, line):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(line)
    assert err.count("\n") == 1


def test_a_bad_test_clock_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("DOSEWISE_NOW", "half past midnight")
    code, out, err = run(capsys, "plan", "baclofen", "--target-mg-day", "30")
    assert (code, out) == (2, "")
    assert err.startswith("dosewise: error: DOSEWISE_NOW") and err.count("\n") == 1


def test_plan_starts_today_in_the_patients_zone(capsys, monkeypatch):
    """00:30 in London is still the day before in New York: the plan starts on that day."""
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-02T00:30+00:00")
    london = run_json(capsys, "plan", "baclofen", "--target-mg-day", "30", "--tz", "Europe/London")
    new_york = run_json(capsys, "plan", "baclofen", "--target-mg-day", "30", "--tz", "America/New_York")
    assert (london["steps"][0]["start"], new_york["steps"][0]["start"]) == ("2026-12-02", "2026-12-01")
