"""About me and How to take it in Chromium on a 390 x 844 phone: the patient ticks a condition,
the advice shows on Today and the plan page, and no page scrolls sideways."""

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


def test_about_me_and_how_to_take_it_on_a_phone(phone: Page, e2e: Any) -> None:
    patient = e2e.sign_up(phone)
    nav = phone.get_by_role("navigation", name=patient.name)
    nav.get_by_role("button", name="Menu").click()  # on a phone the patient's menu starts closed
    nav.get_by_role("link", name="About me").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("About me")
    expect(phone.get_by_role("link", name="112")).to_have_attribute("href", "tel:112")
    assert_no_horizontal_scroll(phone, "About me")
    phone.get_by_label("Country").select_option(label="Australia")
    phone.get_by_label("Breastfeeding").check()
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_role("status")).to_have_text(re.compile("^Saved"))
    expect(phone.get_by_role("link", name="000 (or 112)")).to_have_attribute("href", "tel:000")
    assert_no_horizontal_scroll(phone, "About me with advice")
    for page_name in ("today", "plans"):
        phone.goto(patient.path(page_name))
        advice = phone.get_by_role("region", name="Because of breastfeeding")
        expect(advice).to_contain_text("passes into breast milk in small amounts")
        expect(advice).to_contain_text("[LIO-IT, CH-LIOHEM]")
        assert_no_horizontal_scroll(phone, page_name)
    phone.goto(patient.path("how-to-take"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("How to take baclofen")
    for heading in ("Food and how to swallow it", "If you miss a dose", "Storage"):
        expect(phone.get_by_role("heading", name=heading)).to_be_visible()
    phone.get_by_text("Sources", exact=True).click()  # the long label addresses wrap
    assert_no_horizontal_scroll(phone, "How to take it")
    e2e.screenshot(phone, "20-how-to-take-on-a-phone")
