"""The report's section "Other treatments: what in this record matters" (issue 16), in the HTML
and in the PDF's text. The record, by hand: a titration at CrCl 20 mL/min (a clinician's
override), ciprofloxacin and oxycodone taken now, moderate liver disease and pregnancy in About
me. Expected results written by hand from ../shared/clinical/alternatives.md (sections 1, 2)."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from dosewise.domain.kidney import assess_creatinine_clearance, assess_dialysis
from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.services import medicines, patients, plans
from dosewise.services.reports import gather_report
from dosewise.store.database import build_engine, upgrade_database

ZONE = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)


@pytest.fixture
def report(tmp_path, monograph):
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=ZONE)
    patient = patients.create_patient(engine, name="Rae", time_zone=str(ZONE), now=now, actor="t")
    kidney = assess_creatinine_clearance(monograph.kidney, 20)
    solution = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = build_titration(monograph, target_daily_mg=5, products=solution, start=DAY, kidney=kidney,
                           clinician_override=True)  # fmt: skip
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3), zone=ZONE,
                     now=datetime(2026, 12, 1, 7, 0, tzinfo=ZONE), actor="t")  # fmt: skip
    for name in ("Cipro", "oxycodone"):
        medicines.add_medicine(engine, patient_id=patient, name=name, now=now, actor="t")
    patients.set_patient_profile(
        engine, patient_id=patient, now=now, actor="t", pregnant=True, liver="moderate"
    )
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=date(2026, 12, 3), now=now,
                         levels=False)  # fmt: skip
    yield data, render_report_html(data)
    engine.dispose()


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", "."))


def test_the_html_report_says_what_in_this_record_matters_in_the_labels_words(report) -> None:
    data, html = report
    section = html[
        html.index('<h2 id="other-treatments">') : html.index('<section aria-labelledby="kidney">')
    ]
    text = _text(section)
    assert "Other treatments: what in this record matters" in text
    assert "kidney function CrCl 20 mL/min (current plan)" in text
    assert "medicines Cipro (ciprofloxacin), oxycodone" in text
    assert "pregnant; liver disease (About me): moderate liver disease" in text
    # the five worked examples of issue 16, in the label's wording with level and sources
    assert ("CONTRAINDICATED : With Cipro (ciprofloxacin): contraindicated (strong CYP1A2 inhibitor)") in text
    assert "[S6]" in text
    assert (
        "CAUTION : Kidney function (CrCl 20 mL/min): CrCl < 25 mL/min: clearance falls by more than 50%"
        in text
    )
    assert "CONTRAINDICATED : Liver disease (moderate): Contraindicated in active liver disease" in text
    assert "WARNING : With oxycodone: boxed warning: opioids with benzodiazepines" in text
    assert (  # said once for all of them
        "INFO : Pregnancy: Dosewise's reference has no pregnancy information (UNCONFIRMED) for tizanidine, "
        "dantrolene, diazepam, gabapentin"
    ) in text
    # gabapentin at CrCl 20: the 15-29 band [S17]; what each is labelled for, with its keys
    assert "CrCl 15-29: 200-700 mg once daily (label 2.3, quoted second-hand). [S17]" in text
    assert (
        "Labelled for spasticity: tizanidine [S2], dantrolene [S9][S10], botulinum toxin [S33][S36]" in text
    )
    assert "Not labelled for spasticity (off-label use): gabapentin [S16][S20][S21]" in text
    assert (
        "acute muscle spasm only, 2-3 weeks: cyclobenzaprine [S23], methocarbamol [S25], carisoprodol [S27]"
        in text
    )
    # the baclofen of the plan is in the record: baclofen.md section 6, the baclofen monograph's keys
    # said once for all treatments, grouped by grade: baclofen.md section 6 grades benzodiazepines
    # major [PMS, OZO], gabapentinoids moderate [OZO], centrally acting relaxants moderate [CH, PMS]
    assert "With the baclofen the patient takes" in text
    assert "WARNING : diazepam [PMS][OZO]." in text
    assert "tizanidine, cyclobenzaprine, methocarbamol, carisoprodol [CH][PMS]" in text
    assert "gabapentin [OZO]" in text
    assert text.count("With the baclofen") == 1
    assert "[PMS] pms-Baclofen Canadian product monograph" in text
    # intrathecal baclofen has a row ("Dose reduction may be necessary" [S37]); botulinum toxin
    # has none: alternatives.md names no kidney, liver, pregnancy or medicine caution for it
    assert "Intrathecal baclofen" in text
    assert (
        "Nothing in this record (kidney function, liver disease, pregnancy, medicines) is named by the "
        "reference for: botulinum toxin."
    ) in text
    # the label's wording here, not the patient's: and never a ranking or a proposal to switch
    assert "must not be used with this medicine" not in text
    for words in ("switch to", "better than", "instead of baclofen"):
        assert words not in text.lower()
    assert "not advice to start, stop or switch" in text
    assert "[S6] druginteractionchecker.com/tizanidine-hcl-6-mg-oral-capsule/ (label section 7)" in text
    assert "[S43]" not in text  # only the keys the section cites
    # the benefit review section of another part is still there
    assert '<h2 id="benefit">' in html and data.benefit is not None


def test_the_pdf_prints_the_section(report, tmp_path) -> None:
    data, html = report
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_report_pdf(data, html))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "Other treatments: what in this record matters" in flat
    assert "CONTRAINDICATED: With Cipro (ciprofloxacin): contraindicated (strong CYP1A2 inhibitor)" in flat
    assert "Liver disease (moderate): Contraindicated in active liver disease" in flat
    assert "clearance falls by more than 50%" in flat and "[S3]" in flat
    assert "Benefit review" in flat  # the other part's section prints too


def test_a_dialysis_plan_brings_the_lowest_crcl_rules_and_the_dialysis_dose(tmp_path, monograph) -> None:
    """A plan made for dialysis stores no CrCl: the record says "on dialysis", not "not
    recorded", and the rules for the lowest CrCl apply (alternatives.md section 1: tizanidine
    "CrCl < 25 mL/min" [S3]; gabapentin "<15: 100-300 once daily. Extra dose of 125-350 mg after
    each haemodialysis" [S17])."""
    from dosewise.services.alternatives import compare_for_patient

    engine = build_engine(f"sqlite:///{tmp_path / 'dialysis.sqlite3'}")
    upgrade_database(engine)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=ZONE)
    patient = patients.create_patient(engine, name="Dee", time_zone=str(ZONE), now=now, actor="t")
    solution = parse_product_specs(["solution:1mg/ml"], monograph)
    plan = build_titration(monograph, target_daily_mg=5, products=solution, start=DAY,
                           kidney=assess_dialysis(monograph.kidney), clinician_override=True)  # fmt: skip
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3), zone=ZONE,
                     now=datetime(2026, 12, 1, 7, 0, tzinfo=ZONE), actor="t")  # fmt: skip
    result = compare_for_patient(engine, patient_id=patient, now=now, drugs=["gabapentin", "tizanidine"])
    assert result.comparison.situation.dialysis is True
    gabapentin, tizanidine = result.comparison.drugs
    kidney = [c.text for c in gabapentin.cautions if c.topic == "kidney"]
    assert len(kidney) == 2 and "extra dose of 125-350 mg after each haemodialysis" in kidney[1]
    assert any("clearance falls by more than 50%" in c.text for c in tizanidine.cautions)
    data = gather_report(engine, patient_id=patient, first_day=DAY, last_day=date(2026, 12, 3), now=now,
                         levels=False)  # fmt: skip
    text = _text(render_report_html(data))
    assert "kidney function on dialysis (current plan)" in text
    assert "Kidney function (on dialysis; the rules for the lowest CrCl): Haemodialysis: extra dose" in text
    engine.dispose()
