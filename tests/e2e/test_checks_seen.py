"""Issue 16 as a patient meets it on a phone (375 x 812), in Chromium: "Check a pharmacy or
article" from the menu; seed page 001 (a shop page that says an adult's dose depends on body
weight) uploaded to the article check; a rogue pharmacy's text pasted into the pharmacy check; a
page over the limit refused with the form and the reason. The page never scrolls sideways.
Screenshots in build/screenshots/checks-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 375, "height": 812}
SEED_001 = Path(__file__).parents[1] / "data" / "seeds" / "001_707be3bd6e6d2ed7.txt"
ROGUE = (
    "MegaMeds Online - Cheapest Baclofen! No prescription needed.\n"
    "Buy Valium and Soma too, all at 80% off this week.\n"
    "We ship worldwide from our overseas warehouse. Contact us by email only: sales@megameds.example\n"
    "FREE bonus pills with every order. Limited time offer!\n"
)


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def _phone(browser: Browser, base_url: str, e2e: Any) -> Page:
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    e2e.sign_up(page, name="Cass Checks")
    return page


def test_a_patient_checks_an_article_and_a_pharmacy_on_a_phone(
    browser: Browser, base_url: str, e2e: Any
) -> None:
    page = _phone(browser, base_url, e2e)
    page.get_by_role("link", name="Check a pharmacy or article").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a pharmacy or article")
    _no_sideways_scroll(page)
    e2e.screenshot(page, "checks-empty-phone")

    article = page.get_by_role("form", name="Does this article agree with the label?")
    article.get_by_label("Upload the saved page").set_input_files(str(SEED_001))
    article.get_by_role("button", name="Check the article").click()
    result = page.locator("#article-result")
    expect(result.get_by_role("heading", name=re.compile(r"^Result: \d+ checkable claims$"))).to_be_visible()
    # seed 001 says a higher body weight needs higher doses: contradicts the adult label, in words
    expect(result.locator(".counts")).to_contain_text("1 contradicts the label")
    weight = result.locator("li.claim", has_text="Patients with a higher body weight may require higher")
    expect(weight).to_contain_text("Contradicts the label")
    expect(weight).to_contain_text("not per kg of body weight")
    expect(weight).to_contain_text("[US-TAB]")
    stopping = result.locator("li.claim", has_text="No, Baclofen should not be stopped abruptly")
    expect(stopping).to_contain_text("Agrees")
    expect(result.get_by_text("Decision support only", exact=False)).to_be_visible()
    expect(result.locator(".sources")).to_contain_text("[US-TAB] US baclofen tablet labels")
    _no_sideways_scroll(page)
    e2e.screenshot(page, "checks-article-seed-001-phone")

    pharmacy = page.get_by_role("form", name="Is this online pharmacy safe?")
    pharmacy.get_by_label("or paste").fill(ROGUE)
    pharmacy.get_by_role("button", name="Check the pharmacy").click()
    result = page.locator("#pharmacy-result")
    expect(result.get_by_role("heading", name="Result: warning signs found")).to_be_visible()
    expect(result.locator(".verdict")).to_contain_text("cannot confirm it is safe")
    starts = re.compile(r"^\s*Warning sign: Sells without")
    no_prescription = result.locator("li.sign-warning", has_text=starts)
    expect(no_prescription).to_contain_text("Warning sign:")
    expect(no_prescription).to_contain_text("“No prescription needed.”")
    expect(no_prescription).to_contain_text("[P2][P6][P12]")
    expect(result.locator("li.sign-missing").first).to_contain_text("Not found:")
    expect(result.get_by_role("heading", name="Check by hand")).to_be_visible()
    expect(pharmacy.get_by_label("or paste")).to_have_value(ROGUE)  # the form keeps what was pasted
    _no_sideways_scroll(page)
    e2e.screenshot(page, "checks-pharmacy-rogue-phone")
    page.context.close()


def test_a_page_over_the_limit_comes_back_with_the_form_and_the_reason(
    browser: Browser, base_url: str, e2e: Any, tmp_path: Path
) -> None:
    page = _phone(browser, base_url, e2e)
    page.goto("/checks")
    big = tmp_path / "huge.html"
    with big.open("wb") as file:
        file.truncate(50 * 1024 * 1024)  # 50 MB (sparse)
    pharmacy = page.get_by_role("form", name="Is this online pharmacy safe?")
    pharmacy.get_by_label("Upload the saved page").set_input_files(str(big))
    pharmacy.get_by_role("button", name="Check the pharmacy").click()
    expect(page.get_by_role("alert")).to_contain_text("larger than the 5 MB limit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a pharmacy or article")
    expect(page.locator("#pharmacy-file")).to_have_attribute("aria-invalid", "true")
    _no_sideways_scroll(page)
    e2e.screenshot(page, "checks-too-large-phone")
    page.context.close()
