"""`dosewise diary report` and `export` on a long diary (issue 15): the report defaults to the
last 12 months and summarizes a range longer than two years; the FHIR export takes a range."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import run_cli as run
from dosewise.store.database import build_engine
from long_diary import fill_diary


@pytest.fixture
def three_years(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'diary.sqlite3'}"
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", url)
    monkeypatch.setenv("DOSEWISE_NOW", "2026-12-01T07:00:00+00:00")
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "UTC")[0] == 0
    engine = build_engine(url)
    try:
        fill_diary(engine, 1, date(2023, 12, 1), 3 * 365 + 1)
    finally:
        engine.dispose()


def test_the_report_defaults_to_the_last_12_months_and_summarizes_the_whole(three_years, capsys, tmp_path):
    html = tmp_path / "report.html"
    code, out, err = run(capsys, "diary", "report", str(html))
    assert (code, err) == (0, "")
    assert "Report 2025-12-02 to 2026-12-01 written" in out
    assert "summarized" not in html.read_text()
    code, out, err = run(capsys, "diary", "report", str(html), "--from", "2023-12-01")
    assert (code, err) == (0, "")
    assert "summarized by month before 2025-12-02" in out
    text = html.read_text()
    assert "2023-12-01 to 2026-12-01" in text and "summarized by month" in text and "Dec 2023" in text


def test_the_fhir_export_takes_a_range(three_years, capsys, tmp_path):
    out_file = tmp_path / "bundle.json"
    argv = [
        "diary",
        "export",
        str(out_file),
        "--format",
        "fhir",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-03",
    ]
    assert run(capsys, *argv)[0] == 0
    bundle = json.loads(out_file.read_text())
    Bundle.model_validate(bundle)
    days = {
        e["resource"]["effectiveDateTime"][:10]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert days == {"2026-11-01", "2026-11-02", "2026-11-03"}
    code, _, err = run(
        capsys, "diary", "export", str(tmp_path / "csv"), "--format", "csv", "--from", "2026-11-01"
    )
    assert code == 2 and "--format fhir" in err
    code, _, err = run(capsys, "diary", "export", str(out_file), "--format", "fhir", "--from", "2026-13-01")
    assert code == 2 and err.startswith("dosewise: error: --from: ")
