"""The installable app in Chromium (issue 14): the service worker registers and controls the
page, the manifest is valid, Today opens offline from the cache (read-only, with a banner),
other pages show the offline page, signing out forgets the kept Today, and on a 390 x 844
phone the first screen is the next dose with its buttons (the menu collapsed).

A service worker needs a secure context: http://127.0.0.1 is one. Screenshots go to
build/screenshots (and to $DOSEWISE_SHOTS when set) for people to look at.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

SOLUTION = ("1 mg/mL oral solution (0.5 mL steps)",)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
BANNER = re.compile(
    r"^Offline: this is Today as loaded at (\d\d:\d\d on \d{1,2} \w{3}); "
    r"you cannot record doses until you are back online\.$"
)
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
KEPT_TODAYS = """async () => {
    if (!(await caches.has("dosewise-today"))) return [];
    const cache = await caches.open("dosewise-today");
    return (await cache.keys()).map((request) => new URL(request.url).pathname);
}"""


def shot(page: Page, e2e: Any, name: str, *, full_page: bool = False) -> None:
    """A screenshot in build/screenshots (and a copy in $DOSEWISE_SHOTS, when set)."""
    e2e.screenshot(page, name) if full_page else _viewport_shot(page, name)
    extra = os.environ.get("DOSEWISE_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        from .conftest import SCREENSHOTS

        shutil.copy(SCREENSHOTS / f"{name}.png", Path(extra) / f"{name}.png")


def _viewport_shot(page: Page, name: str) -> None:
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, **PHONE})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def controlled_today(page: Page, e2e: Any, *, name: str | None = None) -> Any:
    """A patient with a plan (14:00 due, 20:00 to come) on Today, the page controlled by the
    service worker and Today kept (a page is kept when the worker fetched it)."""
    patient = e2e.sign_up(page, name=name)
    e2e.save_titration(page, patient, products=SOLUTION)
    page.goto(patient.path("today"))
    page.wait_for_function(CONTROLLED)
    page.reload()  # through the worker now: this load is kept
    expect(page.get_by_role("button", name="Taken: 14:00 dose")).to_be_enabled()
    page.wait_for_function(f"async () => ({KEPT_TODAYS})().then((kept) => kept.length > 0)")
    return patient


def loaded_at_times(patient: Any) -> set[str]:
    """'HH:MM on D Mon' now on the patient's clock, and a minute ago (the page was loaded then)."""
    now = datetime.now(ZoneInfo(patient.time_zone))
    return {(now - timedelta(minutes=m)).strftime("%H:%M on %-d %b") for m in (0, 1, 2)}


def test_the_service_worker_registers_and_controls_the_page(page: Page, e2e: Any, base_url: str) -> None:
    e2e.sign_up(page)
    registration = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => ({scope: r.scope, script: r.active.scriptURL}))"
    )
    assert registration == {"scope": f"{base_url}/", "script": f"{base_url}/sw.js"}
    page.wait_for_function(CONTROLLED)  # clients.claim(): this very page
    page.reload()
    assert page.evaluate(CONTROLLED)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{base_url}/sw.js"


def test_the_manifest_is_valid_and_its_icons_have_their_sizes(page: Page, base_url: str) -> None:
    page.goto("/")
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    response = page.request.get(f"{base_url}{href}")
    assert response.ok and response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    for required in ("name", "short_name", "start_url", "scope", "display", "icons", "theme_color"):
        assert manifest.get(required), required
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    expect(page.locator('meta[name="theme-color"]')).to_have_attribute("content", manifest["theme_color"])
    sizes = set()
    for icon in manifest["icons"]:
        fetched = page.request.get(f"{base_url}{icon['src']}")
        assert fetched.ok, icon["src"]
        assert fetched.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            image = Image.open(io.BytesIO(fetched.body()))
            assert f"{image.width}x{image.height}" == icon["sizes"], icon["src"]
            sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    touch = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
    assert Image.open(io.BytesIO(page.request.get(f"{base_url}{touch}").body())).size == (180, 180)


def test_today_opens_offline_from_the_cache_read_only(page: Page, context: BrowserContext, e2e: Any) -> None:
    patient = controlled_today(page, e2e)
    shot(page, e2e, "40-today-online-desktop", full_page=True)
    context.set_offline(True)
    try:
        page.reload()
        banner = page.locator(".offline-banner")
        expect(banner).to_be_visible()
        expect(banner).to_have_text(BANNER)
        stamp = BANNER.match(banner.inner_text().strip())
        assert stamp and stamp[1] in loaded_at_times(patient)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
        taken = page.get_by_role("button", name="Taken: 14:00 dose")
        expect(taken).to_be_visible()
        expect(taken).to_be_disabled()
        enabled = page.locator("main button:enabled, main input:enabled, header.top button:enabled")
        expect(enabled).to_have_count(0)
        expect(page.get_by_role("status")).to_have_count(1)  # the banner; no stale "Dose recorded"
        assert page.evaluate("document.body.classList.contains('offline')")
        shot(page, e2e, "41-today-offline-desktop", full_page=True)

        # any other page: the offline page, saying what is available
        page.goto(patient.path("plans"))
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
        expect(page.get_by_role("link", name="Today")).to_have_attribute("href", "/")
        shot(page, e2e, "42-offline-page-desktop")
        page.get_by_role("link", name="Today").click()  # "/" offline: the Today kept last
        expect(page.locator(".offline-banner")).to_have_text(BANNER)
        expect(page).to_have_url(re.compile(r"/$"))
    finally:
        context.set_offline(False)
    # back online, the kept page reloads itself: the live Today, "/" redirecting to it
    expect(page).to_have_url(re.compile(r"/patients/\d+/today$"))
    expect(page.locator(".offline-banner")).to_have_count(0)
    expect(page.get_by_role("button", name="Taken: 14:00 dose")).to_be_enabled()


def test_recording_a_dose_keeps_the_new_today(page: Page, context: BrowserContext, e2e: Any) -> None:
    """The kept Today is the one after the last action (its notice left out offline)."""
    controlled_today(page, e2e)
    page.get_by_role("button", name="Taken: 14:00 dose").click()
    expect(page.get_by_role("status")).to_have_text("Dose recorded as taken late.")
    context.set_offline(True)
    try:
        page.reload()
        expect(page.locator(".offline-banner")).to_be_visible()
        dose = page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*14:00"))
        expect(dose).to_contain_text("Taken late")
        expect(page.get_by_text("Dose recorded as taken late.")).to_have_count(0)
    finally:
        context.set_offline(False)


def test_signing_out_forgets_the_kept_today(page: Page, context: BrowserContext, e2e: Any) -> None:
    patient = controlled_today(page, e2e)
    assert page.evaluate(KEPT_TODAYS) == [patient.path("today")]
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert page.evaluate(KEPT_TODAYS) == []
    context.set_offline(True)
    try:
        page.goto(patient.path("today"))
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
        expect(page.get_by_text(patient.name)).to_have_count(0)
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    finally:
        context.set_offline(False)


def test_on_a_phone_the_first_screen_is_the_next_dose(phone: Page, e2e: Any) -> None:
    patient = e2e.sign_up(phone)
    e2e.save_titration(phone, patient, products=SOLUTION)
    phone.goto(patient.path("today"))
    nav = phone.get_by_role("navigation", name=patient.name)
    menu = nav.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Plan")).to_be_hidden()
    # the due dose (14:00) is first, above the missed 08:00 one, with its buttons in view
    first = phone.locator("ol.doses > li").first
    expect(phone.locator("ol.doses > li.act-on")).to_contain_text("14:00")
    taken = phone.get_by_role("button", name="Taken: 14:00 dose")
    skipped = phone.get_by_role("button", name="Skipped: 14:00 dose")
    for button in (taken, skipped):
        expect(button).to_be_in_viewport(ratio=1)
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, box
    boxes = phone.evaluate(
        "[...document.querySelectorAll('ol.doses > li')].map((li) => li.getBoundingClientRect().top)"
    )
    act_on = phone.locator("ol.doses > li.act-on").bounding_box()
    assert act_on is not None and act_on["y"] == min(boxes)
    assert "08:00" in first.inner_text()  # the document stays in time order
    phone.wait_for_function(CONTROLLED)
    phone.reload()
    shot(phone, e2e, "43-today-phone-online")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Plan")).to_be_visible()
    shot(phone, e2e, "44-today-phone-menu-open")
    phone.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    nav.get_by_role("button", name="Menu").click()
    nav.get_by_role("link", name="Plan").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Plan")

    phone.context.set_offline(True)
    try:
        phone.goto(patient.path("today"))
        expect(phone.locator(".offline-banner")).to_have_text(BANNER)
        expect(phone.get_by_role("button", name="Taken: 14:00 dose")).to_be_disabled()
        shot(phone, e2e, "45-today-phone-offline")
        menu.click()  # the menu still opens offline (its links lead to the offline page)
        expect(nav.get_by_role("link", name="Diary")).to_be_visible()
    finally:
        phone.context.set_offline(False)


def test_without_javascript_the_phone_menu_is_open(
    browser: Browser, browser_context_args: dict[str, Any], e2e: Any
) -> None:
    context = browser.new_context(**{**browser_context_args, **PHONE})
    try:
        page = context.new_page()
        patient = e2e.sign_up(page)
        scriptless = browser.new_context(
            **{**browser_context_args, **PHONE},
            java_script_enabled=False,
            storage_state=context.storage_state(),
        )
        try:
            bare = scriptless.new_page()
            bare.goto(patient.path("today"))
            nav = bare.get_by_role("navigation", name=patient.name)
            expect(nav.get_by_role("link", name="Plan")).to_be_visible()
            expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
        finally:
            scriptless.close()
    finally:
        context.close()


def test_on_a_desktop_nothing_moves(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, products=SOLUTION)
    nav = page.get_by_role("navigation", name=patient.name)
    expect(nav.get_by_role("link", name="Plan")).to_be_visible()
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    tops = page.evaluate(
        "[...document.querySelectorAll('ol.doses > li')].map((li) => li.getBoundingClientRect().top)"
    )
    assert tops == sorted(tops)  # in time order, the missed 08:00 first
