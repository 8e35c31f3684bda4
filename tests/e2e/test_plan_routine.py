"""The plan pages of the daily routine (issue 12) in Chromium: a titration goes on after its last
step, Save commits the plan the preview showed, and a large rise needs a reason; on a desktop
window and on a phone. The server's clock is moved with ``e2e.clock`` (see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_flows import assert_no_horizontal_scroll

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(params=["desktop", "phone"])
def screen(
    request: pytest.FixtureRequest, browser: Browser, browser_context_args: dict[str, Any]
) -> Iterator[Any]:
    """A page in a fresh browser window: 1280 px wide, or a 390 x 844 phone; and its name."""
    extra = PHONE if request.param == "phone" else {}
    context = browser.new_context(**{**browser_context_args, **extra})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()


def _preview(page: Page) -> Any:
    page.get_by_role("button", name="Preview the plan").click()
    preview = page.get_by_role("region", name="Preview: not saved yet")
    expect(preview).to_be_visible()
    return preview


def test_a_titration_goes_on_after_its_last_step(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, target="30")  # 3 days of 5 mg three times a day, then 10 mg
    page.goto(patient.path("plans"))
    expect(page.get_by_role("region", name="The plan now").locator(".after-last-step")).to_contain_text(
        "After the last step: continues at 30 mg/day until a new plan or a taper"
    )
    with e2e.clock.shifted(days=10):  # four days after the last step began... and still going
        page.goto(patient.path("today"))
        doses = page.get_by_role("region", name="Doses today").get_by_role("listitem")
        expect(doses).to_have_count(3)
        for number, clock in enumerate(("08:00", "14:00", "20:00")):
            expect(doses.nth(number)).to_contain_text(clock)
            expect(doses.nth(number)).to_contain_text("10 mg")
        expect(page.get_by_text("No doses today.")).to_have_count(0)
        e2e.screenshot(page, "16-today-ten-days-on")


def test_save_commits_the_previewed_plan_not_a_later_edit(screen: Any, e2e: Any) -> None:
    page, name = screen
    patient = e2e.sign_up(page)
    page.goto(patient.path("plans"))
    page.get_by_label("Start or raise baclofen (titration)").check()
    page.get_by_label("Titration: target mg a day").fill("60")
    preview = _preview(page)
    expect(preview.get_by_role("table", name="The plan, step by step")).to_contain_text("60")
    # Changed after the preview, then Save: the new plan is previewed, nothing is saved.
    page.get_by_label("Titration: target mg a day").fill("80")
    with page.expect_response(re.compile(r"/plans$")) as answer:
        page.get_by_role("button", name="Save this plan").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text(
        "You changed the form after the preview: check this plan, then save it."
    )
    preview = page.get_by_role("region", name="Preview: not saved yet")
    expect(preview.locator(".after-last-step")).to_contain_text("continues at 80 mg/day")
    expect(page.get_by_text("There is no plan yet.")).to_have_count(0)  # the preview is shown instead
    assert_no_horizontal_scroll(page, f"the plan preview ({name})")
    e2e.screenshot(page, f"17-changed-after-preview-{name}")
    page.get_by_role("button", name="Save this plan").click()
    expect(page).to_have_url(re.compile(r"/today\?done=plan$"))
    page.goto(patient.path("plans"))
    expect(page.get_by_role("region", name="The plan now")).to_contain_text("continues at 80 mg/day")


def test_a_large_rise_needs_a_reason(screen: Any, e2e: Any) -> None:
    page, name = screen
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, target="30")  # today: 15 mg a day
    page.goto(patient.path("plans"))
    expect(page.get_by_label("Keep the current dose (maintenance)")).to_be_checked()
    expect(page.get_by_label("Maintenance: mg a day")).to_have_value("15")  # the dose in force, not 30
    expect(page.get_by_label("Titration: target mg a day")).to_have_value("")
    page.get_by_label("Maintenance: mg a day").fill("60")
    preview = _preview(page)
    expect(preview).to_contain_text(
        re.compile(r"Daily dose: 15 mg now\s*→?\s*,? then 60 mg from \w{3} \d+ \w{3} 20:00")
    )
    warning = preview.locator("#rise-warning")
    expect(warning.get_by_role("heading")).to_have_text("The daily dose rises more than a step may")
    expect(warning).to_contain_text("from 15 to 60 mg/day at once, more than the 15 mg/day a step may rise")
    reason = page.get_by_label("Why is the dose raised this much?")
    expect(reason).to_have_attribute("aria-required", "true")
    e2e.screenshot(page, f"18-rise-warning-{name}")
    assert_no_horizontal_scroll(page, f"the rise warning ({name})")
    # Save without the reason: the form again, the message at the field.
    page.get_by_role("button", name="Save this plan").click()
    expect(page.get_by_role("alert")).to_contain_text("The reason for the rise:")
    reason = page.get_by_label("Why is the dose raised this much?")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-confirm_rise")).to_have_text(
        "The reason for the rise: say why the daily dose rises this much (it is recorded)"
    )
    e2e.screenshot(page, f"19-rise-without-reason-{name}")
    reason.fill("Dr Okafor's letter of today: 60 mg a day")
    page.get_by_role("button", name="Save this plan").click()
    expect(page).to_have_url(re.compile(r"/today\?done=plan$"))
    page.goto(patient.path("plans"))
    current = page.get_by_role("region", name="The plan now")
    expect(current).to_contain_text("Why: Dr Okafor's letter of today: 60 mg a day")
    expect(current).to_contain_text("Entered by the patient: not yet confirmed by a clinician.")


def test_a_start_in_the_past_is_explicit(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    page.goto(patient.path("plans"))
    today = page.get_by_label("First day").input_value()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", today), today
    page.get_by_label("Start or raise baclofen (titration)").check()
    page.get_by_label("Titration: target mg a day").fill("30")
    page.get_by_label("First day").fill("2026-01-05")
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_label("First day")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-start")).to_contain_text("is in the past")
    page.get_by_label("Already on this plan (it started earlier)").check()
    preview = _preview(page)
    expect(preview).to_contain_text(
        re.compile(r"It started earlier, on \w{3} 5 Jan( 2026)?: its doses are planned from")
    )
    expect(preview).to_contain_text("Daily dose: 30 mg from")  # long past its last step
    expect(preview).to_contain_text("This review date has passed: agree the plan with the prescriber soon")
    e2e.screenshot(page, "20-started-earlier")
    page.get_by_role("button", name="Save this plan").click()
    expect(page).to_have_url(re.compile(r"/today\?done=plan$"))
    expect(page.get_by_role("region", name="Doses today")).not_to_contain_text("Missed")
