"""Issue 13: a triage result is kept and seen by the people around the patient, in a real
browser: the patient answers the danger questions, the caregiver and the clinician see the
emergency on Safety checks, and the clinician's list puts it first with its date."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect


def test_a_kept_emergency_is_seen_by_the_caregiver_and_the_clinician(
    page: Page, second_page: Page, browser: Browser, browser_context_args: dict[str, Any], e2e: Any
) -> None:
    patient = e2e.sign_up(page, name="Kit Moreno")
    e2e.save_titration(page, patient, target="30")
    caregiver_code = e2e.invite(page, patient, "caregiver")
    clinician_code = e2e.invite(page, patient, "clinician")

    page.goto(patient.path("triage"))
    page.get_by_role("group", name=re.compile("a fit")).get_by_label("Yes").check()
    page.get_by_label("In your own words").fill("shaking all over, can't stop")
    page.get_by_role("button", name="What should I do?").click()
    expect(page.locator("main h2").first).to_have_text(re.compile("^EMERGENCY"))

    e2e.sign_up(second_page, role="caregiver", name="Lee Moreno")
    e2e.join(second_page, caregiver_code)
    second_page.goto(patient.path("triage/history"))
    check = second_page.locator("main").get_by_text(re.compile("EMERGENCY")).first
    expect(check).to_be_visible()
    expect(second_page.locator("main")).to_contain_text("Has there been a fit (seizure)? yes")
    expect(second_page.locator("main")).to_contain_text("Asked by Kit Moreno (patient)")

    context = browser.new_context(**browser_context_args)
    try:
        clinician = context.new_page()
        e2e.sign_up(clinician, role="clinician", name="Dr Noor Haddad")
        e2e.join(clinician, clinician_code)
        clinician.goto("/clinic")
        row = clinician.get_by_role("row", name=re.compile("Kit Moreno"))
        expect(row).to_contain_text(re.compile(r"emergency triage on \d+ \w{3} \d\d:\d\d"))
        row.get_by_role("link", name=re.compile("safety checks")).click()
        expect(clinician.locator("main")).to_contain_text("a seizure: a danger sign")
    finally:
        context.close()
