"""`dosewise simulate`: the JSON contract, plans from `dosewise plan --json`, plots."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli as run

KEYS = {
    "cmax_mg_l",
    "tmax_h",
    "cmin_ss_mg_l",
    "cavg_ss_mg_l",
    "auc_mg_h_l",
    "half_life_h",
    "time_to_90pct_ss_h",
    "exposure_ratio_vs_normal_kidney",
}


def test_single_patient_json(capsys):
    code, out, err = run(
        capsys, "simulate", "baclofen", "--dose-mg", "20", "--every-h", "8", "--days", "5", "--json"
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) >= KEYS
    assert 0.75 <= data["tmax_h"] <= 2
    assert data["exposure_ratio_vs_normal_kidney"] == 1.0
    assert data["cavg_ss_mg_l"] == pytest.approx(0.2315, abs=1e-3)


def test_population_json_and_plots(capsys, tmp_path):
    png, svg = tmp_path / "levels.png", tmp_path / "levels.svg"
    for path in (png, svg):
        code, out, _ = run(
            capsys,
            "simulate",
            "baclofen",
            "--dose-mg",
            "20",
            "--every-h",
            "8",
            "--days",
            "3",
            "--crcl",
            "40",
            "--population",
            "500",
            "--seed",
            "1",
            "--threshold-mg-l",
            "0.4",
            "--plot",
            str(path),
            "--json",
        )
        assert code == 0
    data = json.loads(out)
    assert data["exposure_ratio_vs_normal_kidney"] == 2.0
    assert 0 < data["fraction_above_threshold"] < 1
    assert len(data["percentiles"]) == 73  # hourly over 3 days
    assert all(p["p5"] <= p["p50"] <= p["p95"] for p in data["percentiles"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert b"<svg" in svg.read_bytes()[:500]


def test_plan_from_plan_json(capsys, tmp_path):
    argv = ["plan", "baclofen", "--target-mg-day", "60", "--crcl", "45", "--start", "2026-12-01", "--json"]
    code, out, _ = run(capsys, *argv)
    plan = json.loads(out)
    assert all(step["steady_state_within_step"] for step in plan["steps"])
    assert plan["pk"]["exposure_ratio_vs_normal_kidney_plan"] == pytest.approx(1.0, abs=0.1)
    path = tmp_path / "plan.json"
    path.write_text(out)
    code, out, _ = run(capsys, "simulate", "baclofen", "--plan", str(path), "--json")  # CrCl from the plan
    assert code == 0
    data = json.loads(out)
    assert data["crcl_ml_min"] == 45
    code, _, err = run(capsys, "simulate", "baclofen", "--plan", str(path), "--crcl", "90")
    assert code == 2
    assert "made for CrCl 45" in err
    assert data["steady_state_basis"] == "the plan's last day"
    assert data["cavg_ss_mg_l"] == pytest.approx(30 / (0.09 * 65 * 24), rel=0.02)  # 30 mg/day at CrCl 45


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dose-mg", "20"], "error: --every-h: give the dose in mg, the hours between doses"),
        (
            ["--dose-mg", "500", "--every-h", "8", "--days", "1"],
            "error: --dose-mg: the dose must be above 0 and at most 120",
        ),
        (
            ["--dose-mg", "20", "--every-h", "0.1", "--days", "1"],
            "error: --every-h: the hours between doses must be between",
        ),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--crcl", "-5"],
            "error: --crcl: CrCl -5 mL/min must be above 0",
        ),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--population", "0"],
            "error: --population: the population must be between 1 and 1,000,000",
        ),
        (["--dose-mg", "20", "--every-h", "8", "--days", "1", "--plot", "x.gif"], ".png or .svg"),
        (["--plan", "/nonexistent.json"], "cannot read"),
        (["--plan", "/etc/hostname"], "error: --plan: /etc/hostname is not a plan"),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--threshold-mg-l", "0.4"],
            "error: --threshold-mg-l: the share above a level needs a population",
        ),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--population", "5", "--seed", "-1"],
            "error: --seed: ",
        ),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--plot", "/nonexistent/x.png"],
            "cannot write",
        ),
    ],
)
def test_bad_input(capsys, argv, message):
    code, out, err = run(capsys, "simulate", "baclofen", *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_dialysis_plan_cannot_be_simulated(capsys, tmp_path):
    argv = [
        "plan",
        "baclofen",
        "--target-mg-day",
        "60",
        "--dialysis",
        "--clinician-override",
        "--product",
        "solution:1mg/ml",
        "--json",
    ]
    code, out, _ = run(capsys, *argv)
    path = tmp_path / "dialysis.json"
    path.write_text(out)
    code, _, err = run(capsys, "simulate", "baclofen", "--plan", str(path))
    assert code == 2
    assert "dialysis" in err


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"steps": [{"start": "2026-12-01", "days": 2, "doses_mg": [0, 0, 0]}]}, "no doses"),
        (
            {
                "steps": [
                    {"start": "2026-12-01", "days": 2, "doses_mg": [5, 5, 5]},
                    {"start": "2026-12-03", "days": 2, "doses_mg": [5, 5]},
                ]
            },
            "needs 3 doses",
        ),
        ({"steps": [{"start": "2026-12-01", "days": 2, "doses_mg": [5, -5, 5]}]}, "between 0 and 120"),
        (
            {
                "steps": [
                    {"start": "2026-12-05", "days": 2, "doses_mg": [5, 5, 5]},
                    {"start": "2026-12-01", "days": 2, "doses_mg": [5, 5, 5]},
                ]
            },
            "follow each other",
        ),
        ({"steps": [{"start": "2026-12-01", "days": 2.7, "doses_mg": [5, 5, 5]}]}, "whole days"),
    ],
)
def test_bad_plan_files(capsys, tmp_path, plan, message):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, out, err = run(capsys, "simulate", "baclofen", "--plan", str(path))
    assert (code, out) == (2, "")
    assert message in err


def test_steady_state_peak_is_reported_beside_the_runs_highest(capsys):
    argv = [
        "simulate",
        "baclofen",
        "--dose-mg",
        "5",
        "--every-h",
        "6",
        "--days",
        "2",
        "--crcl",
        "5",
        "--json",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    data = json.loads(out)
    assert data["cmax_ss_mg_l"] >= data["cavg_ss_mg_l"] >= data["cmin_ss_mg_l"]
    assert data["cmax_mg_l"] < data["cmax_ss_mg_l"]  # two days are not yet steady state
