"""Issue 14, point 4, in Chromium: the patient asks the clinician on the page, the clinician
sees the request first on their list, changes the plan from it, and the patient finds the
answer in their notifications and on the request. Screenshots on a phone (390 x 844) and a
desktop of the form, the clinician's list and the answered request."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _both(page: Page, e2e: Any, name: str) -> None:
    """The page as it is, on a phone and on a desktop (then back to the desktop)."""
    page.set_viewport_size(PHONE)
    e2e.screenshot(page, f"{name}-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide on a 390 px phone"
    page.set_viewport_size(DESKTOP)
    e2e.screenshot(page, f"{name}-desktop")


def test_a_request_is_answered_by_a_plan_change_and_the_patient_is_told(
    page: Page, browser: Browser, browser_context_args: dict[str, Any], e2e: Any
) -> None:
    patient = e2e.sign_up(page, name="Mira Santos")
    e2e.save_titration(page, patient, target="30")
    code = e2e.invite(page, patient, "clinician")

    # the patient asks from Today
    page.goto(patient.path("today"))
    page.get_by_role("link", name="Ask the clinician for a review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask the clinician")
    page.get_by_label("Side effects").check()
    page.get_by_label("Your message").fill("Very sleepy in the afternoon since the dose went up.")
    _both(page, e2e, "20-review-request-form")
    page.get_by_role("button", name="Send to the clinician").click()
    expect(page.get_by_role("status")).to_contain_text("Sent to the clinicians")
    expect(page.locator("#request-state")).to_contain_text("Open: waiting under an hour")

    context = browser.new_context(**browser_context_args)
    try:
        clinician = context.new_page()
        clinician.set_default_timeout(30_000)  # a preview draws its chart: slow on a loaded machine
        e2e.sign_up(clinician, role="clinician", name="Dr Elif Kaya")
        e2e.join(clinician, code)
        clinician.goto("/clinic")
        row = clinician.get_by_role("row", name=re.compile("Mira Santos"))
        expect(row).to_contain_text("review request: side effects, waiting under an hour")
        _both(clinician, e2e, "21-clinic-with-review-request")
        row.get_by_role("link", name=re.compile("open the review request")).click()
        expect(clinician.locator("main")).to_contain_text("Very sleepy in the afternoon")
        expect(clinician.get_by_role("link", name="The report as it was when asked")).to_be_visible()
        clinician.get_by_role("link", name="Change the plan").click()
        expect(clinician.locator("#answering")).to_contain_text("Answering the review request")
        clinician.get_by_label("Keep the current dose (maintenance)").check()
        clinician.get_by_label("Maintenance: mg a day").fill("10")
        clinician.get_by_role("button", name="Preview the plan").click()
        expect(clinician.get_by_role("heading", name="Preview: not saved yet")).to_be_visible()
        expect(clinician.locator("#answering")).to_be_visible()
        clinician.get_by_label("Why the plan changes").fill("lower for the sleepiness")
        clinician.get_by_role("button", name="Save this plan").click()
        expect(clinician).to_have_url(re.compile(r"/review-requests/\d+\?done=plan$"))
        expect(clinician.locator("#request-state")).to_contain_text("Answered: the plan was changed")
        e2e.screenshot(clinician, "22-answered-request-clinician")
        clinician.goto("/clinic")
        expect(clinician.get_by_role("row", name=re.compile("Mira Santos"))).not_to_contain_text(
            "review request"
        )
    finally:
        context.close()

    # the patient is told: the in-app list, then the request itself
    page.goto("/notifications")
    message = page.locator("main").get_by_text(
        "Dr Elif Kaya (clinician) answered the review request: the plan is changed"
    )
    expect(message).to_be_visible()
    expect(page.locator("main")).to_contain_text("10 mg a day")
    page.goto(patient.path("review-requests"))
    expect(page.locator("main")).to_contain_text("Answered: the plan was changed")
    page.get_by_role("link", name=re.compile("Side effects, asked")).click()
    expect(page.locator("main")).to_contain_text("lower for the sleepiness")
    _both(page, e2e, "23-answered-request-patient")
