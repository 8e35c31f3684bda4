"""Other treatments (issue 16) as people meet them, in Chromium: a patient at CrCl 20 mL/min who
takes ciprofloxacin reads the comparison in plain words on a 375 x 812 phone (the label's wording
closed under a details element, a liver "what if" said to be one); their clinician opens the same
page (the label's wording open) and the report's section. Screenshots in
build/screenshots/compare-*.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from .test_flows import assert_no_horizontal_scroll

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _plan_at_crcl_20(e2e: Any, patient: Any) -> None:
    """A titration at CrCl 20 mL/min needs a clinician's override (the builder refuses it to
    the patient): saved here through the service, as a clinician would have saved it."""
    from dosewise.domain.kidney import assess_creatinine_clearance
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times
    from dosewise.domain.titration import build_titration
    from dosewise.monographs import load_monograph
    from dosewise.services import plans

    monograph = load_monograph("baclofen")
    zone = ZoneInfo(patient.time_zone)
    now = datetime.now(tz=UTC) - timedelta(hours=8)  # this morning on the patient's clock
    plan = build_titration(
        monograph,
        target_daily_mg=5,
        products=parse_product_specs(["solution:1mg/ml"], monograph),
        start=now.astimezone(zone).date(),
        kidney=assess_creatinine_clearance(monograph.kidney, 20),
        clinician_override=True,
    )
    plans.start_plan(
        e2e.live_engine(), patient_id=patient.patient_id, plan=plan, times=parse_clock_times(None, 3),
        zone=zone, now=now, actor="test",
    )  # fmt: skip


def test_a_patient_reads_other_treatments_in_plain_words_and_the_clinician_the_label(
    phone: Page, second_page: Page, e2e: Any
) -> None:
    patient = e2e.sign_up(phone, name="Cora Cipro")
    _plan_at_crcl_20(e2e, patient)
    phone.goto(patient.path("medicines"))
    phone.get_by_label("Add a medicine").fill("Cipro")
    phone.get_by_role("button", name="Add and check").click()
    expect(phone.get_by_role("status")).to_have_text("Added and checked.")

    nav = phone.get_by_role("navigation", name=patient.name)
    nav.get_by_role("button", name="Menu").click()  # on a phone the patient's menu starts closed
    nav.get_by_role("link", name="Other treatments").click()
    main = phone.get_by_role("main")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Other treatments for spasticity and muscle spasm"
    )
    expect(main).to_contain_text("Talk to your prescriber before any change.")
    expect(
        phone.get_by_role("navigation", name="The treatments on this page").get_by_role("link")
    ).to_have_count(9)
    expect(main).to_contain_text("it does not say which one is better")
    expect(phone.locator("#from-the-diary")).to_contain_text("CrCl 20 mL/min")
    expect(phone.locator("#from-the-diary")).to_contain_text("Cipro (ciprofloxacin)")
    tizanidine = phone.get_by_role("region", name="Tizanidine (Zanaflex)")
    expect(tizanidine).to_contain_text(
        "Not allowed: With Cipro (ciprofloxacin): tizanidine must not be used with this medicine"
    )
    expect(tizanidine).to_contain_text(
        "Your kidney function (CrCl 20 mL/min): weak kidneys clear tizanidine much more slowly"
    )
    expect(tizanidine).to_contain_text("[S6]")
    label = tizanidine.locator("details.label-wording")
    expect(label).not_to_have_attribute("open", "")  # closed for the patient
    expect(label.get_by_text("contraindicated (strong CYP1A2 inhibitor)", exact=False)).not_to_be_visible()
    cyclobenzaprine = phone.get_by_role("region", name="Cyclobenzaprine (Flexeril; Amrix ER)")
    expect(cyclobenzaprine).to_contain_text("Not approved for spasticity. It is for short-term muscle spasm")
    assert_no_horizontal_scroll(phone, "Other treatments on a phone")
    e2e.screenshot(phone, "compare-patient-phone")

    # a "what if" over About me's liver answer, said to be one
    phone.get_by_label("What if: liver disease").select_option(label="Moderate liver disease")
    phone.get_by_role("button", name="Show").click()
    expect(phone.get_by_role("status")).to_contain_text("What if: this page shows “moderate liver disease”")
    dantrolene = phone.get_by_role("region", name="Dantrolene (Dantrium)")
    expect(dantrolene).to_contain_text("must not be used with active liver disease")
    assert_no_horizontal_scroll(phone, "Other treatments, what if")
    e2e.screenshot(phone, "compare-patient-what-if-phone")

    # the clinician: the same page with the label's wording open, then the report's section
    code = e2e.invite(phone, patient, "clinician")
    e2e.sign_up(second_page, role="clinician", name="Dr Lena Ortiz")
    e2e.join(second_page, code)
    second_page.goto(patient.path("alternatives"))
    clinician_tizanidine = second_page.get_by_role("region", name="Tizanidine (Zanaflex)")
    clinician_label = clinician_tizanidine.locator("details.label-wording")
    expect(clinician_label).to_have_attribute("open", "")
    expect(clinician_label).to_contain_text(
        "Contraindicated: With Cipro (ciprofloxacin): contraindicated (strong CYP1A2 inhibitor)"
    )
    expect(clinician_label).to_contain_text("CrCl < 25 mL/min: clearance falls by more than 50%")
    expect(second_page.get_by_role("main")).to_contain_text(
        "Any change is the prescriber's decision, with the patient."
    )
    e2e.screenshot(second_page, "compare-clinician")
    second_page.goto(patient.path("report/view"))
    section = second_page.get_by_role("region", name="Other treatments: what in this record matters")
    expect(section).to_contain_text("kidney function CrCl 20 mL/min (current plan)")
    expect(section).to_contain_text("CONTRAINDICATED: With Cipro (ciprofloxacin): contraindicated")
    expect(section.get_by_role("row", name=re.compile("Tizanidine"))).to_contain_text("[S6]")
    e2e.screenshot(second_page, "compare-clinician-report")
    section.screenshot(path=str(SCREENSHOTS / "compare-clinician-report-section.png"))  # the section alone
