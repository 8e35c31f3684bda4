"""Supply in Chromium (issue 14, point 5): the patient follows Today's link to the supply page,
records a count of their 10 mg tablets, and Today then shows the days left and the run-out date
(counted through the titration's steps: the 10 mg doses begin on day 4)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

SHOTS = Path("/tmp/i14/shots")


def test_a_count_on_the_supply_page_shows_the_days_left_on_today(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, target="30")  # 5 mg three times a day, then 10 mg from day 4
    page.get_by_role("link", name="count your tablets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supply and refills")
    expect(page.get_by_text("not counted yet").first).to_be_visible()
    form = page.locator("#form-counted")
    form.get_by_label("Product").select_option(value="tablet:10mg:halves")
    form.get_by_label("How many do you have now?").fill("-4")
    form.get_by_role("button", name="Save the count").click()
    expect(page.get_by_role("alert")).to_contain_text("Amount: a count must be 0 or more tablets")
    form = page.locator("#form-counted")
    expect(form.get_by_label("How many do you have now?")).to_have_value("-4")  # as typed
    form.get_by_label("How many do you have now?").fill("20")
    form.get_by_role("button", name="Save the count").click()
    expect(page.get_by_role("status")).to_have_text("Count saved.")
    expect(page.get_by_role("cell", name="20 tablets", exact=True)).to_be_visible()
    assert_accessible(page, "the supply page")
    e2e.screenshot(page, "30-supply-page")
    page.screenshot(path=str(_shot("supply-page")), full_page=True)

    page.get_by_role("navigation", name=patient.name).get_by_role("link", name="Today").click()
    line = page.locator("#supply-line")
    # 20 tablets: the 10 mg doses begin on day 4, three a day: 18 on days 4-9, then 08:00 and
    # 14:00 of day 10; its 20:00 dose is the first that cannot be made (9 days from 15:xx on day 1)
    expect(line).to_contain_text(
        re.compile(r"About 9 days of baclofen 10 mg tablets left \(runs out on \w{3} \d+ \w{3} at 20:00\)")
    )
    expect(line).to_contain_text("Not counted yet: baclofen 5 mg tablets.")  # today's doses use them
    expect(line.get_by_role("link", name="Supply and refills")).to_be_visible()
    assert_accessible(page, "Today with its supply line")
    e2e.screenshot(page, "31-today-with-supply")
    page.screenshot(path=str(_shot("today-with-supply")), full_page=True)

    # one 5 mg tablet left: it goes to the 14:00 dose, due now and not ticked yet; nothing is
    # left for 20:00: urgent, on Today
    line.get_by_role("link", name="Supply and refills").click()
    form = page.locator("#form-counted")
    form.get_by_label("Product").select_option(value="tablet:5mg:whole")
    form.get_by_label("How many do you have now?").fill("1")
    form.get_by_role("button", name="Save the count").click()
    expect(page.get_by_role("status")).to_have_text("Count saved.")
    page.get_by_role("navigation", name=patient.name).get_by_role("link", name="Today").click()
    warning = page.locator("#supply-warning")
    expect(warning).to_contain_text(
        "Less than a day of baclofen 5 mg tablets left (runs out today at 20:00): arrange a refill today."
    )
    expect(warning).to_contain_text("seizures and hallucinations [US-TAB, OZO, LYV]")
    e2e.screenshot(page, "32-today-supply-urgent")
    page.screenshot(path=str(_shot("today-supply-urgent")), full_page=True)


def assert_accessible(page: Page, what: str) -> None:
    """No serious or critical axe-core violation, and every id once (as tests/e2e/test_accessibility)."""
    page.wait_for_load_state("load")
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, f"axe on {what}: {blocking}"
    duplicates = page.evaluate(
        """() => {
            const seen = {};
            for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
            return Object.keys(seen).filter(id => seen[id] > 1);
        }"""
    )
    assert not duplicates, f"duplicate ids on {what}: {duplicates}"


def _shot(name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"
