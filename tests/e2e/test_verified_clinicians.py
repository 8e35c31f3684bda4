"""Verified clinicians in the browser (issue 15): a clinician not verified yet sees why the
override is missing, the patient sees them as not verified, and an administrator verifies them
from the Clinician accounts page. axe-core checks the two new screens."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct horse battery"


@pytest.fixture
def third_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _no_serious_violations(page: Page, name: str) -> None:
    page.wait_for_load_state("load")
    found = Axe().run(page).response["violations"]
    blocking = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]
    assert not blocking, f"axe on {name}: {blocking}"


def test_an_administrator_verifies_a_clinician_the_patient_sees_it(
    page: Page, second_page: Page, third_page: Page, e2e: Any
) -> None:
    from dosewise.services.admin import create_admin

    patient = e2e.sign_up(page, name="Ines Varga")
    e2e.save_titration(page, patient, target="30")
    code = e2e.invite(page, patient, "clinician")
    doctor = e2e.sign_up(second_page, role="clinician", name="Dr Unverified", verified=False)
    banner = second_page.get_by_role("note").filter(has_text="Your clinician account is not verified yet.")
    expect(banner).to_contain_text(
        "An administrator of this Dosewise installation verifies clinician accounts"
    )
    _no_serious_violations(second_page, "the clinic list with the banner")
    second_page.set_viewport_size({"width": 390, "height": 844})
    e2e.screenshot(second_page, "hardening-unverified-clinician-phone")
    second_page.set_viewport_size({"width": 1280, "height": 800})
    e2e.join(second_page, code)
    second_page.goto(patient.path("plans"))
    expect(second_page.get_by_label("Clinician override")).to_have_count(0)
    current = second_page.get_by_role("region", name="The plan now")
    expect(current.get_by_role("button", name="Confirm this plan")).to_have_count(0)

    page.goto(patient.path("access"))
    expect(page.get_by_role("main")).to_contain_text("Dr Unverified")
    expect(page.get_by_role("main")).to_contain_text("your clinician (not verified)")
    e2e.screenshot(page, "hardening-patient-sees-not-verified")

    email = f"admin-{uuid.uuid4().hex[:10]}@example.org"
    create_admin(e2e.live_engine(), _hasher(), email=email, password=PASSWORD, display_name="Ops",
                 now=datetime.now(tz=UTC))  # fmt: skip
    admin = third_page
    admin.goto("/sign-in")
    admin.get_by_label("Email").fill(email)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Clinician accounts")
    expect(admin.get_by_role("link", name="Clinician accounts")).to_be_visible()
    row = admin.get_by_role("row").filter(has_text=doctor.email)
    expect(row).to_contain_text("Not verified")
    _no_serious_violations(admin, "the clinician accounts page")
    e2e.screenshot(admin, "hardening-admin-clinician-accounts")
    row.get_by_role("button", name=re.compile("^Verify Dr Unverified")).click()
    expect(admin.get_by_role("status")).to_have_text(re.compile("^Verified"))
    expect(admin.get_by_role("row").filter(has_text=doctor.email)).to_contain_text(
        re.compile(r"Verified \d+")
    )

    second_page.goto(patient.path("plans"))
    expect(second_page.get_by_role("note").filter(has_text="not verified yet")).to_have_count(0)
    expect(second_page.get_by_label("Clinician override")).to_be_visible()
    expect(
        second_page.get_by_role("region", name="The plan now").get_by_role("button", name="Confirm this plan")
    ).to_be_visible()
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("your clinician, verified")


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
