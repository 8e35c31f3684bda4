"""The prescriber's report (HTML and PDF) and the FHIR R4 Bundle, from a real diary."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle

from dosewise.domain.kidney import assess_creatinine_clearance
from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.services import doses, medicines, notes, patients, plans, symptoms
from dosewise.services.reports import export_fhir, gather_report
from dosewise.store.database import build_engine, upgrade_database

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 12, 1)
TIMES = parse_clock_times(None, 3)


@pytest.fixture
def week(tmp_path, monograph):
    """A week of diary on SQLite: a kidney-adjusted titration, doses taken, late, skipped and
    missed, symptoms with side effects, a note and two sedating medicines."""
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    now = datetime(2026, 12, 7, 21, 0, tzinfo=ZONE)
    patient = patients.create_patient(engine, name="Ana <Test>", time_zone=str(ZONE), now=now, actor="t")
    kidney = assess_creatinine_clearance(monograph.kidney, 60)
    solution = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = build_titration(monograph, target_daily_mg=45, products=solution, start=DAY, kidney=kidney)
    started = datetime(2026, 12, 1, 7, 0, tzinfo=ZONE)  # saved before its first dose: no past slots
    plans.start_plan(engine, patient_id=patient, plan=plan, times=TIMES, zone=ZONE, now=started, actor="t")
    for offset in range(7):
        day = DAY + timedelta(days=offset)
        for slot in doses.list_day(engine, patient_id=patient, day=day, now=now):
            if slot.due_at.hour == 14 and offset == 2:
                continue  # missed
            status = "skipped" if (slot.due_at.hour, offset) == (20, 3) else "taken"
            late = timedelta(hours=3) if (slot.due_at.hour, offset) == (8, 4) else timedelta(minutes=5)
            doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status=status, now=now,
                              taken_at=slot.due_at + late, actor="t")  # fmt: skip
        symptoms.record_symptoms(
            engine, patient_id=patient, now=datetime(day.year, day.month, day.day, 19, tzinfo=ZONE),
            penn_frequency=max(0, 3 - offset // 2), penn_severity=None if offset >= 6 else 2,
            spasticity_nrs=7 - offset // 2, side_effects={"drowsiness": 1} if offset == 1 else
            ({"hallucinations": 2} if offset == 2 else {}), actor="t",
        )  # fmt: skip
    notes.add_note(
        engine, patient_id=patient, text="Walked further on day 5 <b>really</b>", now=now, actor="t"
    )
    for name in ("oxycodone", "Xanax"):
        medicines.add_medicine(engine, patient_id=patient, name=name, now=now, actor="t")
    yield engine, patient, now
    engine.dispose()


def test_the_report_shows_what_the_prescriber_needs(week):
    engine, patient, now = week
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=DAY + timedelta(days=6), now=now)
    total = data.adherence.total
    assert (total.planned, total.late, total.skipped, total.missed) == (21, 1, 1, 1)
    html = render_report_html(data)
    assert "Ana &lt;Test&gt;" in html and "<b>really</b>" not in html  # escaped, never markup
    assert "&lt;b&gt;really&lt;/b&gt;" in html
    for text in ("The plan and its changes", "Doses taken and missed", "Symptoms against the daily dose",
                 "Interactions with the current medicines", "Kidney values", "Estimated blood levels",
                 "taken late", "skipped", "missed", "MAJOR", "Combined risk", "[VLAV14]", "[PSFS]",
                 "Decision support only"):  # fmt: skip
        assert text in html, text
    # hallucinations the day a dose was missed: an emergency, listed first
    assert html.index("Triage events") < html.index("The plan and its changes")
    assert "possible baclofen withdrawal" in html
    assert html.count("<svg") == 2
    kidney_row = html[html.index("plan 1 (titration), since 2026-12-01 08:00</td>") :].split("</tr>")[0]
    # CrCl within its band, never rounded (ADR 0014)
    assert ">60.00</td>" in kidney_row and ">mild</td>" in kidney_row and ">2/3</td>" in kidney_row


def test_the_pdf_reads_on_paper(week, tmp_path):
    engine, patient, now = week
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=DAY + timedelta(days=6), now=now)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_report_pdf(data))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "Baclofen diary report" in text.stdout
    assert "page 1 of" in text.stdout  # the footer, with the name as written (not HTML-escaped)
    assert "Dosewise report for Ana <Test>" in text.stdout
    assert "Estimated, not measured" in text.stdout
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 2 <= len(pages) <= 8
    assert all(page.stat().st_size > 5000 for page in pages)  # drawn pages, not blank ones


def test_the_fhir_bundle(week):
    engine, patient, now = week
    bundle = Bundle.model_validate_json(export_fhir(engine, patient_id=patient, now=now))
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    kinds = [type(r).__name__ for r in resources]
    assert kinds.count("Patient") == 1
    (request,) = [r for r in resources if type(r).__name__ == "MedicationRequest"]
    assert (request.status, request.intent) == ("active", "plan")
    assert request.medicationCodeableConcept.coding[0].code == "1292"
    sequences = sorted({d.sequence for d in request.dosageInstruction})
    assert sequences == list(range(1, len(sequences) + 1)) and len(sequences) >= 2
    first = request.dosageInstruction[0]
    assert first.doseAndRate[0].doseQuantity.system == "http://unitsofmeasure.org"
    assert first.doseAndRate[0].doseQuantity.code == "mg"
    assert first.timing.repeat.periodUnit == "d" and first.timing.repeat.boundsPeriod.start is not None
    administrations = [r for r in resources if type(r).__name__ == "MedicationAdministration"]
    assert len(administrations) == 20  # 21 doses, one never recorded
    assert sorted({a.status for a in administrations}) == ["completed", "not-done"]
    assert all(a.dosage.dose.unit == "mg" for a in administrations)
    observations = [r for r in resources if type(r).__name__ == "Observation"]
    codes = [o.code.coding[0].code for o in observations]
    assert codes.count("spasticity-nrs") == 7 and codes.count("penn-spasm-frequency") == 7
    assert codes.count("penn-spasm-severity") == 6 and codes.count("side-effect") == 2
    assert {o.status for o in observations} == {"final"}
    # every reference points at an entry of the bundle
    urls = {entry.fullUrl for entry in bundle.entry}
    data = json.loads(bundle.model_dump_json(exclude_none=True))
    references = [
        value for entry in data["entry"] for key, value in _walk(entry["resource"]) if key == "reference"
    ]
    assert references and set(references) <= urls


def _walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
