"""`dosewise simulate`: the JSON contract, plans from `dosewise plan --json`, plots."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli as run

KEYS = {
    "cmax_mg_l", "tmax_h", "cmin_ss_mg_l", "cavg_ss_mg_l", "auc_mg_h_l", "half_life_h", "time_to_90pct_ss_h",
    "exposure_ratio_vs_normal_kidney",
}  # fmt: skip


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
        code, out, _ = run(capsys, "simulate", "baclofen", "--dose-mg", "20", "--every-h", "8", "--days", "3",
                           "--crcl", "40", "--population", "500", "--seed", "1", "--threshold-mg-l", "0.4",
                           "--plot", str(path), "--json")  # fmt: skip
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
    code, out, _ = run(capsys, "simulate", "baclofen", "--plan", str(path), "--crcl", "45", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["steady_state_basis"] == "the plan's last day"
    assert data["cavg_ss_mg_l"] == pytest.approx(30 / (0.09 * 65 * 24), rel=0.02)  # 30 mg/day at CrCl 45


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dose-mg", "20"], "give --dose-mg, --every-h and --days"),
        (["--dose-mg", "500", "--every-h", "8", "--days", "1"], "at most 120"),
        (["--dose-mg", "20", "--every-h", "0.1", "--days", "1"], "--every-h must be between"),
        (["--dose-mg", "20", "--every-h", "8", "--days", "1", "--crcl", "-5"], "CrCl -5"),
        (
            ["--dose-mg", "20", "--every-h", "8", "--days", "1", "--population", "0"],
            "between 1 and 1,000,000",
        ),
        (["--dose-mg", "20", "--every-h", "8", "--days", "1", "--plot", "x.gif"], ".png or .svg"),
        (["--plan", "/nonexistent.json"], "cannot read"),
        (["--plan", "/etc/hostname"], "is not a plan"),
    ],
)
def test_bad_input(capsys, argv, message):
    code, out, err = run(capsys, "simulate", "baclofen", *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1
