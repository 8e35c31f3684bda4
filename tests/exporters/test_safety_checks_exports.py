"""Every stored triage result ("safety check") is in the report, the CSV export and the FHIR
Bundle, as it was given (issue 13)."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.services import doses, patients, plans, symptoms, triage
from dosewise.services.reports import gather_report
from dosewise.store.database import build_engine, upgrade_database

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 7, 21, 0, tzinfo=ZONE)


def diary_with_checks(engine, monograph) -> int:
    """A week of doses and entries, and four safety checks (one the week before)."""
    patient = patients.create_patient(engine, name="Ana Test", time_zone=str(ZONE), now=NOW, actor="t")
    plan = build_titration(
        monograph, target_daily_mg=30, products=parse_product_specs([], monograph), start=DAY
    )
    times = parse_clock_times(None, 3)
    started = datetime(2026, 12, 1, 7, tzinfo=ZONE)
    plans.start_plan(engine, patient_id=patient, plan=plan, times=times, zone=ZONE, now=started, actor="t")
    for offset in range(7):
        day = DAY + timedelta(days=offset)
        for slot in doses.list_day(engine, patient_id=patient, day=day, now=NOW):
            doses.record_dose(engine, patient_id=patient, slot_id=slot.slot_id, status="taken", now=NOW,
                              taken_at=slot.due_at, actor="t")  # fmt: skip
        evening = datetime(2026, 12, 1 + offset, 19, tzinfo=ZONE)
        symptoms.record_symptoms(engine, patient_id=patient, now=evening, penn_frequency=1, penn_severity=1,
                                 spasticity_nrs=5, actor="t")  # fmt: skip
    for when, said, answers, amount in (
        (datetime(2026, 11, 20, 9, tzinfo=ZONE), ["fainting"], {}, ""),  # before the period
        (datetime(2026, 12, 2, 10, tzinfo=ZONE), ["drowsiness"], {"breathing": False}, ""),
        (datetime(2026, 12, 3, 14, 5, tzinfo=ZONE), ["seizure", "feel wobbly"], {"breathing": True}, ""),
        (datetime(2026, 12, 5, 9, tzinfo=ZONE), ["confusion"], {"took_more": True}, "8 tablets"),
        (datetime(2026, 12, 6, 9, tzinfo=ZONE), ["purple toes"], {}, ""),
    ):
        triage.triage_patient(engine, patient_id=patient, symptoms=said, answers=answers, amount=amount,
                              now=when, actor="cli")  # fmt: skip
    return patient


@pytest.fixture
def checked(tmp_path, monograph):
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    patient = diary_with_checks(engine, monograph)
    yield engine, patient
    engine.dispose()


def test_the_report_lists_the_safety_checks_of_its_period(checked):
    engine, patient = checked
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=DAY + timedelta(days=6), now=NOW)
    assert [(c.at.isoformat(), c.level) for c in data.safety_checks] == [  # newest first, in the zone
        ("2026-12-06T09:00:00-05:00", "urgent"),
        ("2026-12-05T09:00:00-05:00", "emergency"),
        ("2026-12-03T14:05:00-05:00", "emergency"),
        ("2026-12-02T10:00:00-05:00", "routine"),
    ]
    html = render_report_html(data)
    section = html[
        html.index('<h2 id="safety-checks">') : html.index('<section aria-labelledby="interactions">')
    ]
    # the summary near the top says it, and points at the section
    top = html[: html.index('<h2 id="summary">')]
    assert "2 emergency, 1 urgent safety checks</strong> in this period" in top
    assert 'href="#safety-checks"' in top
    assert "4 in this period: 2 emergency, 1 urgent, 1 routine" in html
    # emergency and urgent first (newest first), then routine; the level in words, not colour alone
    assert (
        section.index("2026-12-06 09:00")
        < section.index("2026-12-03 14:05")
        < section.index("2026-12-02 10:00")
    )
    assert section.index("Emergency and urgent (3)") < section.index("Routine (1)")
    assert section.count("⚠ EMERGENCY") == 2 and section.count("! URGENT") == 1
    # what was said, ticked and answered, readable; the reasons with their sources
    breathing = "Is breathing slow, shallow, noisy or difficult?"
    for text in ("Ticked: a seizure", "Typed: “feel wobbly”", f"{breathing} yes", f"{breathing} no",
                 "Amount taken: 8 tablets",
                 "Not recognised: purple toes", "a seizure: a danger sign [US-TAB, OZO, LYV]",
                 "the command line"):  # fmt: skip
        assert text in section, text
    assert "fainting" not in section.lower()  # the week before: not in this period
    sources = html[html.index('<h2 id="sources">') :]
    assert "[LYV]" in sources and "[DOSEWISE]" in sources


def test_the_pdf_points_at_the_page_of_the_safety_checks(checked, tmp_path):
    engine, patient = checked
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=DAY + timedelta(days=6), now=NOW)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_report_pdf(data))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = text.stdout.split("\f")
    said = re.search(r"see Safety checks \(triage\), page (\d+)\.", pages[0])
    assert said, pages[0]
    (where,) = [
        number
        for number, page in enumerate(pages, start=1)
        if re.search(r"^ *Safety checks \(triage\)$", page, re.M)
    ]
    assert int(said[1]) == where
    # the heading is never left alone at the foot of a page: its table starts on the same page
    assert "Emergency and urgent (3)" in pages[where - 1]


def test_a_report_without_safety_checks_says_so(tmp_path, monograph):
    engine = build_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    upgrade_database(engine)
    try:
        patient = patients.create_patient(engine, name="Bo", time_zone="UTC", now=NOW, actor="t")
        data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=DAY, now=NOW)
        html = render_report_html(data)
        assert data.safety_checks == ()
        assert 'id="safety-alert"' not in html and "None in this period." in html
    finally:
        engine.dispose()


def test_each_safety_check_is_a_fhir_observation(checked, monograph):
    from fhir.resources.R4B.bundle import Bundle

    from dosewise.services.reports import export_fhir

    engine, patient = checked
    # a diary entry's side effects: triaged and kept with the entry when it is saved
    moment = datetime(2026, 12, 7, 8, tzinfo=ZONE)
    symptoms.record_symptoms(engine, patient_id=patient, now=moment, penn_frequency=0,
                             penn_severity=None, spasticity_nrs=3, side_effects={"fainting": 2},
                             actor="t")  # fmt: skip
    bundle = Bundle.model_validate_json(export_fhir(engine, patient_id=patient, now=NOW))
    checks = [
        entry.resource
        for entry in bundle.entry
        if type(entry.resource).__name__ == "Observation"
        and entry.resource.code.coding[0].code == "triage-level"
    ]
    # every stored result, the one before the first plan too (the whole diary)
    assert len(checks) == 6
    by_time = {check.effectiveDateTime.isoformat(): check for check in checks}
    seizure = by_time["2026-12-03T14:05:00-05:00"]
    assert seizure.status == "final" and seizure.category[0].coding[0].code == "survey"
    level = seizure.valueCodeableConcept.coding[0]
    assert (level.system, level.code) == ("urn:dosewise:codesystem:triage-level", "emergency")
    assert seizure.interpretation[0].coding[0].code == "AA"
    assert by_time["2026-12-06T09:00:00-05:00"].interpretation[0].coding[0].code == "A"  # urgent
    assert by_time["2026-12-02T10:00:00-05:00"].interpretation is None  # routine
    notes = [note.text for note in seizure.note]
    assert "a seizure: a danger sign [US-TAB, OZO, LYV]" in notes
    assert any(text.startswith("Sources: ") and "LYV" in text for text in notes)
    said = {
        (component.code.coding[0].code, component.valueBoolean, component.valueString)
        for component in seizure.component
    }
    assert ("breathing", True, None) in said
    assert ("symptom-ticked", None, "a seizure") in said and ("symptom-typed", None, "feel wobbly") in said
    amount = by_time["2026-12-05T09:00:00-05:00"].component
    assert ("amount-taken", "8 tablets") in {(c.code.coding[0].code, c.valueString) for c in amount}
    # the entry's result is derived from the entry's side effect, an observation of the bundle
    fainting = by_time[moment.isoformat()]
    urls = {item.fullUrl for item in bundle.entry}
    assert fainting.derivedFrom and {ref.reference for ref in fainting.derivedFrom} <= urls
    assert all(check.subject.reference in urls for check in checks)
    assert not [e for e in bundle.entry if type(e.resource).__name__ == "Flag"]
