"""Notifications in Chromium (issue 14): a patient saves their preferences and quiet hours (a
wrong time shows the form again with the message); an urgent safety check reaches the caregiver
and the clinician, who see it in their notifications (the header counts it) on a phone; the
clinician sets the patient's alert thresholds, which the patient then sees as set by them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_flows import assert_no_horizontal_scroll
from .test_plan_routine import PHONE


@pytest.fixture
def phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, **PHONE})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_preferences_and_quiet_hours_are_saved(page: Page, e2e: Any) -> None:
    e2e.sign_up(page)
    page.get_by_role("link", name="Notifications").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    page.get_by_role("link", name="Choose what you receive, where and when").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    expect(page.get_by_label("Dose reminders at each dose time")).to_be_checked()
    page.get_by_label("From (HH:MM)").fill("22:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("quiet hours need both a start and an end")
    expect(page.get_by_label("From (HH:MM)")).to_have_value("22:00")  # what was typed is kept
    page.get_by_label("Until (HH:MM)").fill("07:00")
    page.get_by_label("The evening before a dose changes").uncheck()
    page.get_by_label("If nothing is recorded, remind once more").select_option(label="After 15 minutes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_have_text(re.compile("^Saved"))
    page.reload()
    expect(page.get_by_label("From (HH:MM)")).to_have_value("22:00")
    expect(page.get_by_label("Until (HH:MM)")).to_have_value("07:00")
    expect(page.get_by_label("The evening before a dose changes")).not_to_be_checked()
    expect(page.get_by_label("If nothing is recorded, remind once more")).to_have_value("15")
    e2e.screenshot(page, "issue14-notification-settings-desktop")


def test_an_urgent_check_reaches_the_care_team_on_their_phones(
    page: Page, phone: Page, second_page: Page, e2e: Any
) -> None:
    patient = e2e.sign_up(page)
    e2e.sign_up(phone, role="caregiver")
    patient_id = e2e.join(phone, e2e.invite(page, patient, "caregiver"))
    e2e.sign_up(second_page, role="clinician")
    e2e.join(second_page, e2e.invite(page, patient, "clinician"))
    # the patient answers the danger questions: a fit is an emergency
    page.goto(patient.path("triage"))
    page.locator("input[name=seizure][value=yes]").check()
    page.get_by_role("button", name="What should I do?").click()
    expect(page.locator("main")).to_contain_text("Call")
    # the caregiver's phone: the header counts it, the list shows it first
    phone.goto(f"/patients/{patient_id}/today")
    badge = phone.locator("a[href='/notifications'] .badge")
    expect(badge).to_have_text("1")
    phone.goto("/notifications")
    first = phone.locator(".inbox .message").first
    expect(first).to_contain_text(f"Emergency: {patient.name} was told to call emergency services")
    expect(first).to_contain_text("emergency")
    assert_no_horizontal_scroll(phone, "notifications")
    e2e.screenshot(phone, "issue14-caregiver-notifications-phone")
    # the clinician sees it too, and sets the patient's alert thresholds
    second_page.goto("/notifications")
    expect(second_page.locator(".inbox .message").first).to_contain_text("Emergency")
    second_page.goto(patient.path("alerts"))
    second_page.get_by_label(re.compile("^Hours beyond a due dose")).fill("8")
    second_page.get_by_role("button", name=re.compile("^Save for")).click()
    expect(second_page.get_by_role("status").first).to_have_text(re.compile("^Saved"))
    e2e.screenshot(second_page, "issue14-clinician-alert-thresholds")
    page.goto(patient.path("alerts"))
    expect(page.locator("main")).to_contain_text(
        f"These thresholds were set by a clinician for {patient.name}."
    )
    expect(page.get_by_role("row", name=re.compile("Hours beyond a due dose"))).to_contain_text("8")
