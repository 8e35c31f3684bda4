"""The benefit review (issue 16) as people meet it, in Chromium, over 60 simulated days: a patient
keeps the diary on a phone for two weeks before baclofen (spasms hourly, stiffness 7), starts a
titration to 30 mg/day, and after 6 weeks at that dose the scores have not changed. The clinician
sees "no clear benefit after 6 weeks at 30 mg/day: consider a slow withdrawal" on their list and
the numbers and chart in the report (page and PDF); the caregiver reads the same report on a
phone. The plan is never changed by it. Screenshots in build/screenshots/benefit-*.png and the
report's PDF pages as build/screenshots/benefit-report-pdf-*.png."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from .test_flows import assert_no_horizontal_scroll

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _diary_entry(page: Page, e2e: Any, patient: Any) -> None:
    """The patient's entry on the diary page: spasms hourly or more, severe, stiffness 7."""
    page.goto(patient.path("diary"))
    page.get_by_label("Spasms more than once an hour").check()
    page.get_by_label("Severe", exact=True).check()
    page.get_by_role("group", name=re.compile("How stiff were you")).get_by_label("7", exact=True).check()
    page.get_by_role("button", name="Save in the diary").click()
    expect(page.get_by_role("status")).to_have_text("Saved in the diary.")


def _entries_by_service(e2e: Any, patient: Any, days_ago: range) -> None:
    """The other days' entries, the same scores (typed on other days; here through the service)."""
    from dosewise.services import symptoms

    for ago in days_ago:
        symptoms.record_symptoms(
            e2e.live_engine(), patient_id=patient.patient_id, now=datetime.now(tz=UTC) - timedelta(days=ago),
            penn_frequency=3, penn_severity=3, spasticity_nrs=7, actor="test",
        )  # fmt: skip


def test_no_clear_benefit_after_six_weeks_reaches_the_clinician(
    phone: Page, second_page: Page, second_phone: Page, e2e: Any
) -> None:
    patient = e2e.sign_up(phone, name="Bea Baseline")
    # Two weeks before baclofen: the diary, on the phone (the first and last days typed here)
    with e2e.clock.shifted(days=-60):
        _diary_entry(phone, e2e, patient)
    _entries_by_service(e2e, patient, range(59, 47, -1))
    with e2e.clock.shifted(days=-47):
        _diary_entry(phone, e2e, patient)
    # Day 0 of baclofen, 46 days ago: a titration to 30 mg/day (15, then 30 from day 3)
    with e2e.clock.shifted(days=-46):
        e2e.save_titration(phone, patient, target="30")
    # The last two weeks at 30 mg/day: the same scores
    _entries_by_service(e2e, patient, range(14, 0, -1))
    _diary_entry(phone, e2e, patient)

    # The clinician's list: the flag, with the numbers' place (the report)
    clinician = e2e.sign_up(second_page, role="clinician", name="Dr Weigh")
    code = e2e.invite(phone, patient, "clinician")
    e2e.join(second_page, code)
    second_page.goto("/clinic")
    row = second_page.get_by_role("row").filter(has_text="Bea Baseline")
    expect(row).to_contain_text(
        re.compile(r"Benefit review: no clear benefit after 6 weeks at 30 mg/day: consider a slow withdrawal")
    )
    e2e.screenshot(second_page, "benefit-clinic-list")
    row.get_by_role("link", name=re.compile("^report")).click()
    second_page.get_by_role("link", name="Open the report").click()
    section = second_page.get_by_role("region", name=re.compile("^Benefit review"))
    expect(section).to_contain_text("no clear benefit after 6 weeks at 30 mg/day: consider a slow withdrawal")
    expect(section).to_contain_text("Penn")
    expect(section).to_contain_text("product default")
    expect(section.locator("svg")).to_have_count(1)  # the chart: scores before and now against the dose
    section.scroll_into_view_if_needed()
    second_page.screenshot(path=str(SCREENSHOTS / "benefit-report-section.png"), full_page=False)
    second_page.go_back()
    with second_page.expect_download(timeout=60_000) as pdf_info:
        second_page.get_by_role("link", name="Download the PDF").click(timeout=60_000)
    pdf = Path(pdf_info.value.path())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "no clear benefit after 6 weeks at 30 mg/day: consider a slow withdrawal" in flat
    assert "Other treatments: what in this record matters" in flat
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(SCREENSHOTS / "benefit-report-pdf")], check=True
    )

    # The caregiver reads the same report on a phone; the plan is unchanged by the review
    e2e.sign_up(second_phone, role="caregiver", name="Cal Carer")
    e2e.join(second_phone, e2e.invite(phone, patient, "caregiver"))
    second_phone.goto(patient.path("report"))
    second_phone.get_by_role("link", name="Open the report").click()
    caregiver_section = second_phone.get_by_role("region", name=re.compile("^Benefit review"))
    expect(caregiver_section).to_contain_text("consider a slow withdrawal")
    e2e.screenshot(second_phone, "benefit-caregiver-report-phone")
    assert_no_horizontal_scroll(second_phone, "the report on a phone")
    phone.goto(patient.path("today"))
    expect(phone.get_by_role("main")).to_contain_text("10 mg")  # still 30 mg/day: 10 mg a dose
    assert clinician.email  # the clinician's account made the list above
