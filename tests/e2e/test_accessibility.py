"""axe-core on every main page, in the state a person sees it (doses due, a preview, a result).

No violation of impact "serious" or "critical" may remain; a failure prints every violation with
the elements and what to fix. The axe script ships inside axe-playwright-python (no network).
The pages are set up once per module (one patient with a plan, a diary entry and a medicine
with an interaction, and their clinician); each test then opens its page in a fresh browser
context signed in as the right person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

BLOCKING = ("serious", "critical")
SOLUTION = "1 mg/mL oral solution (0.5 mL steps)"


@dataclass(frozen=True)
class World:
    patient_id: int
    patient: dict[str, Any]  # storage state: the patient's signed-in cookies
    clinician: dict[str, Any]
    caregiver: dict[str, Any]  # not linked to anyone yet


@pytest.fixture(scope="module")
def world(browser: Browser, browser_context_args: dict[str, Any], e2e: Any) -> Iterator[World]:
    contexts = [browser.new_context(**browser_context_args) for _ in range(3)]
    try:
        patient_page, clinician_page, caregiver_page = (context.new_page() for context in contexts)
        patient = e2e.sign_up(patient_page, name="Kim Axe")
        e2e.save_titration(patient_page, patient, products=(SOLUTION,))
        patient_page.goto(patient.path("diary"))
        patient_page.get_by_label("Spasms only when moved or touched").check()
        patient_page.get_by_label("Mild", exact=True).check()
        patient_page.get_by_role("group", name=re.compile("How stiff")).get_by_label("4", exact=True).check()
        patient_page.get_by_label("Dizziness").select_option(label="mild")
        patient_page.get_by_label("Anything else").fill("Tired after lunch.")
        patient_page.get_by_role("button", name="Save in the diary").click()
        expect(patient_page.get_by_role("status")).to_have_text("Saved in the diary.")
        patient_page.goto(patient.path("medicines"))
        patient_page.get_by_label("Add a medicine").fill("tramadol")
        patient_page.get_by_role("button", name="Add and check").click()
        expect(patient_page.get_by_role("status")).to_have_text("Added and checked.")
        code = e2e.invite(patient_page, patient, "clinician")
        e2e.sign_up(clinician_page, role="clinician", name="Dr Lee Axe")
        e2e.join(clinician_page, code)
        e2e.sign_up(caregiver_page, role="caregiver", name="Pat Axe")
        assert patient.patient_id is not None
        yield World(
            patient_id=patient.patient_id,
            patient=contexts[0].storage_state(),
            clinician=contexts[1].storage_state(),
            caregiver=contexts[2].storage_state(),
        )
    finally:
        for context in contexts:
            context.close()


# --- the pages: who opens it, where, what they do first, and the heading that proves it -------


def _nothing(page: Page) -> None:
    pass


def _preview(page: Page) -> None:
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_role("heading", name="Preview: not saved yet")).to_be_visible()


def _rise(page: Page) -> None:
    page.get_by_label("Keep the current dose (maintenance)").check()
    page.get_by_label("Maintenance: mg a day").fill("60")
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_role("heading", name="The daily dose rises more than a step may")).to_be_visible()
    page.get_by_role("button", name="Save this plan").click()  # without the reason: the field's error
    expect(page.locator("#error-confirm_rise")).to_be_visible()


def _refusal(page: Page) -> None:
    page.get_by_label("Start or raise baclofen (titration)").check()
    page.get_by_label("Titration: target mg a day").fill("30")
    page.get_by_label("On dialysis").check()
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_role("heading", name="Dosewise will not make this plan automatically")).to_be_visible()


def _triage(page: Page) -> None:
    page.get_by_role("group", name=re.compile("a fit")).get_by_label("Yes").check()
    page.get_by_label("In your own words").fill("dizzy")
    page.get_by_role("button", name="What should I do?").click()
    expect(page.get_by_role("heading", name=re.compile("^EMERGENCY"))).to_be_visible()


def _missed(page: Page) -> None:
    page.get_by_label("The dose that was due at").fill("08:00")
    page.get_by_role("button", name="What should I do?").click()
    expect(page.get_by_role("heading", name="What to do")).to_be_visible()


def _code(page: Page) -> None:
    page.get_by_role("radio", name=re.compile("^caregiver:")).check()
    page.get_by_role("button", name="Make a code").click()
    expect(page.locator(".code-box .code")).to_have_text(re.compile(r"\w{4}-\w{4}-\w{4}"))


def _sign_up_mistake(page: Page) -> None:
    page.get_by_label("Your name").fill("Someone")
    page.get_by_label("Email").fill("someone@example.org")
    page.get_by_label("Password").fill("long enough password")
    page.get_by_label("Time zone").fill("Nowhere/Atlantis")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown time zone")


def _about_me(page: Page) -> None:
    """Pregnant and epileptic, in the UK: the emergency number and the advice on the page."""
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("Pregnant").check()
    page.get_by_label("Epilepsy").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Saved"))
    expect(page.get_by_role("heading", name="Because of pregnancy and epilepsy")).to_be_visible()


def _about_me_mistake(page: Page) -> None:
    page.locator("#country").evaluate("s => { s.add(new Option('Narnia', 'NA')); s.value = 'NA'; }")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-country")).to_contain_text("no emergency number")


def _ask_mistake(page: Page) -> None:
    """A message left empty (the browser's own check taken away): the form again, said why."""
    page.get_by_label("No benefit").check()
    page.locator("#message").evaluate("t => t.removeAttribute('required')")
    page.get_by_role("button", name="Send to the clinician").click()
    expect(page.locator("#error-message")).to_contain_text("give the message")


def _ask(page: Page) -> None:
    page.get_by_label("A question about the dose").check()
    page.get_by_label("Your message").fill("Can the evening dose be earlier?")
    page.get_by_role("button", name="Send to the clinician").click()
    expect(page.locator("#request-state")).to_contain_text("Open")


def _pharmacy_check(page: Page) -> None:
    form = page.get_by_role("form", name="Is this online pharmacy safe?")
    form.get_by_label("or paste").fill("Cheapest Baclofen! No prescription needed. We ship worldwide.")
    form.get_by_role("button", name="Check the pharmacy").click()
    expect(page.get_by_role("heading", name="Result: warning signs found")).to_be_visible()


def _article_check(page: Page) -> None:
    form = page.get_by_role("form", name="Does this article agree with the label?")
    form.get_by_label("or paste").fill(
        "Your dose depends on your body weight. Never stop baclofen suddenly. Take it with lithium."
    )
    form.get_by_role("button", name="Check the article").click()
    expect(page.get_by_role("heading", name="Contradicts the label (1)")).to_be_visible()


def _check_mistake(page: Page) -> None:
    page.get_by_role("button", name="Check the article").click()
    expect(page.locator("#article-error")).to_contain_text("paste the text of the page or choose")


def _open_report(page: Page) -> None:
    page.get_by_role("link", name="Open the report").click()


@dataclass(frozen=True)
class Screen:
    who: str | None  # None: not signed in
    path: str  # {p} is the patient's id
    heading: str
    action: Callable[[Page], None] = _nothing
    status: int = 200


SCREENS = {
    "welcome": Screen(None, "/", "Baclofen, safely"),
    "sign-in": Screen(None, "/sign-in", "Sign in"),
    "sign-up": Screen(None, "/sign-up", "Create an account"),
    "sign-up-with-a-mistake": Screen(None, "/sign-up", "Create an account", _sign_up_mistake),
    "today-with-doses": Screen("patient", "/patients/{p}/today", "Today"),
    "plan-builder-with-preview": Screen("patient", "/patients/{p}/plans", "Plan", _preview),
    "plan-refused": Screen("patient", "/patients/{p}/plans", "Plan", _refusal),
    "plan-rise-without-a-reason": Screen("patient", "/patients/{p}/plans", "Plan", _rise),
    "diary": Screen("patient", "/patients/{p}/diary", "Diary"),
    "triage-with-a-result": Screen("patient", "/patients/{p}/triage", "How do I feel?", _triage),
    "medicines-with-an-interaction": Screen("patient", "/patients/{p}/medicines", "Other medicines"),
    "missed-with-advice": Screen("patient", "/patients/{p}/missed", "I missed a dose", _missed),
    "report": Screen("patient", "/patients/{p}/report", "Report for the prescriber"),
    "report-on-screen": Screen("patient", "/patients/{p}/report", "Baclofen diary report", _open_report),
    "access-with-a-code": Screen("patient", "/patients/{p}/access", "Who can see your diary", _code),
    "about-me-with-advice": Screen("patient", "/patients/{p}/profile", "About me", _about_me),
    "about-me-with-a-mistake": Screen("patient", "/patients/{p}/profile", "About me", _about_me_mistake),
    "how-to-take": Screen("patient", "/patients/{p}/how-to-take", "How to take baclofen"),
    "other-treatments": Screen("patient", "/patients/{p}/alternatives?liver=mild", "Other treatments"),
    "clinician-about-me": Screen("clinician", "/patients/{p}/profile", "About Kim Axe"),
    "account": Screen("patient", "/account", "Account"),
    "clinic": Screen("clinician", "/clinic", "My patients"),
    "clinician-plan": Screen("clinician", "/patients/{p}/plans", "Plan", _preview),
    "safety-checks": Screen("clinician", "/patients/{p}/triage/history", "Safety checks"),
    "ask-the-clinician-with-a-mistake": Screen(
        "patient", "/patients/{p}/review-requests", "Ask the clinician", _ask_mistake, status=200
    ),
    "review-request-asked": Screen("patient", "/patients/{p}/review-requests", "Review request", _ask),
    "clinician-review-requests": Screen("clinician", "/patients/{p}/review-requests", "Review requests"),
    "join": Screen("caregiver", "/join", "Use an invitation code"),
    "patients-none-yet": Screen("caregiver", "/patients", "Whose diary?"),
    "checks": Screen("caregiver", "/checks", "Check a pharmacy or article"),
    "checks-pharmacy-result": Screen("patient", "/checks", "Check a pharmacy or article", _pharmacy_check),
    "checks-article-result": Screen("clinician", "/checks", "Check a pharmacy or article", _article_check),
    "checks-with-a-mistake": Screen("patient", "/checks", "Check a pharmacy or article", _check_mistake),
    "not-found": Screen("caregiver", "/patients/{p}/today", "Not found", status=404),
}


def describe(violations: list[dict[str, Any]]) -> str:
    """Each violation: rule, impact, help and link, then every element with what to fix."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} - {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"        {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(SCREENS))
def test_no_serious_accessibility_violations(
    name: str, world: World, browser: Browser, browser_context_args: dict[str, Any]
) -> None:
    screen = SCREENS[name]
    state = getattr(world, screen.who) if screen.who else None
    context = browser.new_context(**browser_context_args, storage_state=state)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        response = page.goto(screen.path.format(p=world.patient_id))
        assert response is not None and response.status == screen.status
        screen.action(page)
        expect(page.get_by_role("heading", level=1)).to_contain_text(screen.heading)

        page.wait_for_load_state("load")  # axe measures colours and sizes: the stylesheet must be in
        results = Axe().run(page)
        blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
        assert not blocking, f"axe on {name} ({page.url}):\n{describe(blocking)}"
        # Not an axe rule any more, but a label must point at one element only.
        duplicates = page.evaluate(
            """() => {
                const seen = {};
                for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
                return Object.keys(seen).filter(id => seen[id] > 1);
            }"""
        )
        assert not duplicates, f"duplicate ids on {name}: {duplicates}"
    finally:
        context.close()
