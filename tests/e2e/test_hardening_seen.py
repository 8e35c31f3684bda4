"""Issue 15 as people meet it, in Chromium: a weak password is refused with the reason (on a
phone), a stranger's wrong guesses slow the stranger down but never the owner's own browser, a
caregiver reads the report but is not offered the data files, and the report says which months
it shows. Screenshots in build/screenshots/hardening-*.png."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"


def test_a_weak_password_is_refused_with_the_reason_on_a_phone(
    browser: Browser, base_url: str, e2e: Any
) -> None:
    context = browser.new_context(base_url=base_url, viewport=PHONE)
    page = context.new_page()
    email = f"weak-{uuid.uuid4().hex[:8]}@example.org"
    page.goto("/sign-up")
    page.get_by_label("Your name").fill("Wren Weak")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("Password1!")
    page.locator("input[name=role][value=patient]").check()
    page.get_by_label("Time zone").fill(e2e.afternoon_zone())
    page.get_by_role("button", name="Create the account").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("easy to guess")
    expect(page.get_by_label("Email")).to_have_value(email)  # the form comes back as typed
    e2e.screenshot(page, "hardening-weak-password-phone")
    page.get_by_label("Password").fill(email.split("@", maxsplit=1)[0] + " 2026 baclofen")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("alert")).to_contain_text("email")
    page.get_by_label("Password").fill("violet tram ledger oboe")
    page.get_by_role("button", name="Create the account").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+/today$"))
    context.close()


def test_a_strangers_guesses_never_lock_the_owner_out(
    page: Page, browser: Browser, base_url: str, e2e: Any
) -> None:
    owner = e2e.sign_up(page, name="Oona Owner")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/sign-in")  # the owner signs in once: this browser is now known to the account
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+/today$"))
    page.get_by_role("button", name="Sign out").click()

    stranger_context = browser.new_context(base_url=base_url, viewport=PHONE)
    stranger = stranger_context.new_page()
    for attempt in range(6):
        stranger.goto("/sign-in")
        stranger.get_by_label("Email").fill(owner.email)
        stranger.get_by_label("Password").fill(f"guess number {attempt}")
        stranger.get_by_role("button", name="Sign in").click()
    expect(stranger.get_by_role("alert")).to_contain_text(re.compile(r"wait \d+ (seconds|minutes?)"))
    e2e.screenshot(stranger, "hardening-stranger-waits-phone")
    stranger_context.close()

    page.goto("/sign-in")  # the owner's own browser is not slowed by the stranger
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+/today$"))


def test_a_caregiver_reads_the_report_but_is_not_offered_the_data_files(
    page: Page, second_page: Page, e2e: Any
) -> None:
    patient = e2e.sign_up(page, name="Pia Patient")
    e2e.save_titration(page, patient, target="30")
    with e2e.clock.shifted(days=3):  # three days into the plan
        page.goto(patient.path("report"))
        main = page.get_by_role("main")
        expect(main).to_contain_text("Shown: the whole diary.")  # three days of it, so far
        expect(main.get_by_role("link", name=re.compile("FHIR"))).not_to_have_count(0)
        e2e.screenshot(page, "hardening-report-patient")
        code = e2e.invite(page, patient, "caregiver")
        e2e.sign_up(second_page, role="caregiver", name="Cai Carer")
        e2e.join(second_page, code)
        second_page.set_viewport_size(PHONE)
        second_page.goto(patient.path("report"))
        caregiver_main = second_page.get_by_role("main")
        expect(caregiver_main).to_contain_text("Shown: the whole diary.")
        expect(caregiver_main.get_by_role("link", name=re.compile("FHIR|CSV|Spreadsheet"))).to_have_count(0)
        e2e.screenshot(second_page, "hardening-report-caregiver-phone")
        refused = second_page.request.get(patient.path("export/csv.zip"))
        assert refused.status == 403
