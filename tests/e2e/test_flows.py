"""End-to-end journeys in headless Chromium against the live server (see conftest.py).

Every assertion is about what a person sees: headings, messages, table rows, downloaded files.
The patient's zone puts their local time between 15:00 and 16:00, and plans are saved "this
morning" (the server's clock set back to 07:xx for the save), so with the default dose times
the 08:00 dose is missed, the 14:00 dose is late and the 20:00 dose is to come.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

SOLUTION = ("1 mg/mL oral solution (0.5 mL steps)",)  # doses divide evenly from day one
# What makes the page wider than the window: [scrollWidth, clientWidth, the elements sticking out]
# (an element inside a scrolling box, such as a wide table in .table-wrap, does not count).
OVERFLOW = """() => {
    const root = document.documentElement, width = root.clientWidth;
    const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement)
        if (getComputedStyle(p).overflowX !== "visible") return true; return false; };
    const out = [...document.body.querySelectorAll("*")]
        .filter(e => e.getBoundingClientRect().right > width + 1 && !clipped(e))
        .map(e => `${e.tagName.toLowerCase()}.${e.className} to ${e.getBoundingClientRect().right}px`);
    return [root.scrollWidth, width, out.slice(0, 8)];
}"""


def assert_no_horizontal_scroll(page: Page, what: str) -> None:
    """document.documentElement.scrollWidth <= clientWidth: nothing to scroll sideways (WCAG 1.4.10)."""
    page.wait_for_load_state("load")  # the stylesheet too: a page measured without it is wider
    scroll_width, client_width, culprits = page.evaluate(OVERFLOW)
    assert scroll_width <= client_width, (
        f"{what} scrolls sideways: {scroll_width} px wide in {client_width} px; {culprits}"
    )


def build_kidney_adjusted_titration(page: Page) -> None:
    """Titration to 30 mg a day with CrCl from the serum-creatinine calculator, oral solution."""
    page.get_by_label("Start or raise baclofen (titration)").check()
    page.get_by_label("Titration: target mg a day").fill("30")
    page.get_by_label("1 mg/mL oral solution (0.5 mL steps)").check()
    page.get_by_label("Work it out from a blood test (serum creatinine)").check()
    page.get_by_label("Serum creatinine", exact=True).fill("150")
    page.get_by_label("Unit").select_option(label="µmol/L")
    page.get_by_label("Age, years").fill("60")
    page.get_by_label("Sex (for the Cockcroft-Gault formula)").select_option("male")
    page.get_by_label("Weight, kg").fill("80")


def test_patient_journey(page: Page, e2e: Any) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Baclofen, safely")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    e2e.screenshot(page, "01-sign-up")
    patient = e2e.sign_up(page, name="Alex Morgan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.get_by_text("No doses today.")).to_be_visible()

    # The plan, this morning: kidney function from the calculator first, then the preview, then save.
    with e2e.clock.this_morning():
        page.get_by_role("navigation", name="Alex Morgan").get_by_role("link", name="Plan").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Plan")
        expect(page.get_by_text("There is no plan yet.")).to_be_visible()
        build_kidney_adjusted_titration(page)
        page.get_by_role("button", name="Work out kidney function").click()
        expect(page.get_by_role("status")).to_contain_text(
            "CrCl 52.38 mL/min, band mild, doses scaled by 2/3"
        )
        page.get_by_role("button", name="Preview the plan").click()
        preview = page.get_by_role("region", name="Preview: not saved yet")
        expect(preview).to_contain_text(
            re.compile(r"This plan starts at \w{3} \d+ \w{3} 08:00, its first dose time")
        )
        expect(preview).to_contain_text("Titration, 3 doses a day at 08:00, 14:00, 20:00")
        expect(preview).to_contain_text("Dosewise default: 12 weeks after the last step begins")
        expect(preview).to_contain_text("Kidney function: CrCl 52.38 mL/min, mild: doses scaled by 2/3.")
        expect(preview).to_contain_text("a target of 30 mg/day at normal kidney function becomes 20 mg/day")
        plan_table = preview.get_by_role("table", name="The plan, step by step")
        expect(plan_table.get_by_role("columnheader")).to_have_text(
            ["From", "Days", "08:00", "14:00", "20:00", "mg a day"]
        )
        expect(plan_table.get_by_role("row").nth(1)).to_contain_text("mL of 1 mg/mL oral solution")
        # a plan never ends in nothing: after its last step it goes on at that dose
        expect(preview.locator(".after-last-step")).to_contain_text(
            re.compile(
                r"After the last step: continues at 20 mg/day until a new plan or a taper "
                r"\(review by \d{4}-\d\d-\d\d\)"
            )
        )
        chart = preview.get_by_role("img", name=re.compile("Estimated baclofen levels of a typical patient"))
        expect(chart).to_be_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart image did not load"
        preview.get_by_text("Sources").first.click()
        expect(preview.locator(".sources li").first).to_be_visible()
        expect(preview.get_by_text("agree every plan and change with the prescriber")).to_be_visible()
        expect(preview.get_by_role("table", name=re.compile(r"The first \d+ days"))).to_be_visible()
        e2e.screenshot(page, "02-plan-preview")
        page.get_by_role("button", name="Save this plan").click()
        expect(page).to_have_url(re.compile(r"/today\?done=plan$"))
    page.reload()  # now, in the afternoon

    # Today: the 08:00 dose is missed, the 14:00 dose late with the advice, 20:00 to come.
    expect(page.get_by_role("status")).to_have_text(re.compile("The plan is saved"))
    # one card per dose: the late 14:00 dose carries its advice in the day's list
    late = (
        page.get_by_role("region", name="Doses today")
        .get_by_role("listitem")
        .filter(has_text=re.compile(r"^\s*14:00"))
    )
    expect(late).to_have_count(1)
    expect(page.get_by_role("region", name="Still to take from yesterday")).to_have_count(0)
    expect(late.get_by_role("note")).to_contain_text("Take it now.")
    expect(late.get_by_role("note")).to_contain_text("Never take two doses together")
    doses = page.get_by_role("region", name="Doses today").get_by_role("listitem")
    expect(doses).to_have_count(3)
    expect(doses.nth(0)).to_contain_text("08:00")
    expect(doses.nth(0)).to_contain_text("Missed (too late to take: skip it)")
    expect(doses.nth(1)).to_contain_text("Due now")
    expect(doses.nth(2)).to_contain_text("To come")
    e2e.screenshot(page, "03-today")

    late.get_by_role("button", name="Taken: 14:00 dose").click()
    expect(page.get_by_role("status")).to_have_text("Dose recorded as taken late.")
    expect(page.get_by_role("note")).to_have_count(0)  # no advice left on the page
    expect(doses.nth(1)).to_contain_text(re.compile(r"Taken late, at 1[56]:\d\d"))
    # The 20:00 dose is more than two hours away: no buttons yet, and the page says from when.
    expect(doses.nth(2)).to_contain_text("To come")
    expect(doses.nth(2)).to_contain_text("You can tick it off from 18:00.")
    expect(page.get_by_role("button", name="Skipped: 20:00 dose")).to_have_count(0)

    # The diary.
    page.get_by_role("link", name="Diary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diary")
    expect(page.get_by_text("Nothing in the diary in the last 14 days.")).to_be_visible()
    page.get_by_label("Spasms less than once an hour").check()
    page.get_by_label("Moderate", exact=True).check()
    page.get_by_role("group", name=re.compile("How stiff were you")).get_by_label("6", exact=True).check()
    page.get_by_label("Drowsiness", exact=True).select_option(label="mild")
    page.get_by_label("Anything else").fill("Legs less stiff in the morning.")
    e2e.screenshot(page, "04-diary")
    page.get_by_role("button", name="Save in the diary").click()
    expect(page.get_by_role("status")).to_have_text("Saved in the diary.")
    entries = page.get_by_role("table", name="Diary entries, newest first")
    expect(entries.get_by_role("row")).to_have_count(2)
    row = entries.get_by_role("row").nth(1)
    expect(row).to_contain_text("Spasms less than once an hour, moderate")
    expect(row).to_contain_text("6/10")
    expect(row).to_contain_text("drowsiness (mild)")
    expect(row).to_contain_text("Legs less stiff in the morning.")

    # "I missed a dose": the 08:00 dose, once 14:00 has come, is skipped.
    page.get_by_role("link", name="Missed a dose").click()
    page.get_by_label("The dose that was due at").fill("08:00")
    page.get_by_role("button", name="What should I do?").click()
    advice = page.get_by_role("region", name="What to do")
    expect(advice).to_contain_text("Skip this dose.")
    expect(advice).to_contain_text("a later dose time (14:00 today) has already come")
    expect(advice).to_contain_text(re.compile(r"Next dose: (\w+ )?20:00\."))
    e2e.screenshot(page, "05-missed")

    # Triage: an emergency comes first, before anything else on the page.
    # The danger questions come first; one's own words, read in any order, second.
    page.get_by_role("link", name="How do I feel?").click()
    page.get_by_role("group", name=re.compile("Is breathing slow")).get_by_label("No").check()
    page.get_by_role("group", name=re.compile("a fit")).get_by_label("Yes").check()
    page.get_by_label("In your own words").fill("sleepy")
    page.get_by_role("button", name="What should I do?").click()
    result = page.locator("#triage-result")
    expect(result.get_by_role("heading", level=2)).to_have_text("EMERGENCY: call 112 now")
    expect(result.get_by_role("link", name="Call 112")).to_have_attribute("href", "tel:112")
    expect(result).to_contain_text("Call emergency services now.")
    expect(result).to_contain_text("a seizure: a danger sign")
    expect(page.locator("main h2").first).to_have_text("EMERGENCY: call 112 now")
    result_box = result.bounding_box()
    form_box = page.get_by_role("button", name="What should I do?").bounding_box()
    assert result_box is not None and form_box is not None
    assert result_box["y"] < form_box["y"], "the emergency is not shown first"
    e2e.screenshot(page, "06-triage-result")

    # Medicines: a benzodiazepine adds to the sedation.
    page.get_by_role("link", name="Medicines").click()
    expect(page.get_by_text("No other medicines on the list.")).to_be_visible()
    page.get_by_label("Add a medicine").fill("Xanax")
    page.get_by_role("button", name="Add and check").click()
    expect(page.get_by_role("status")).to_have_text("Added and checked.")
    interactions = page.get_by_role("region", name="Interactions")
    expect(interactions).to_contain_text(
        "Xanax (alprazolam): major, benzodiazepine: added CNS and respiratory depression. Use together"
    )
    expect(interactions).to_contain_text("agree every plan and change with the prescriber")
    expect(page.get_by_role("region", name="The list").get_by_role("listitem")).to_have_text(
        re.compile("^Xanax")
    )
    e2e.screenshot(page, "07-medicines")

    # The report on screen, as a PDF and as a calendar.
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report for the prescriber")
    expect(page.get_by_text(re.compile(r"1 late, 0 skipped, 1 missed; 1 diary entries"))).to_be_visible()
    e2e.screenshot(page, "08-report")
    # WeasyPrint lays out the whole report: allow it more than a page load when workers share the CPU
    with page.expect_download(timeout=30_000) as pdf_info:
        page.get_by_role("link", name="Download the PDF").click(timeout=30_000)
    pdf = Path(pdf_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF"), pdf[:20]
    assert pdf_info.value.suggested_filename.endswith("report.pdf")
    with page.expect_download() as ics_info:
        page.get_by_role("link", name="Dose reminders for your calendar (.ics)").click()
    ics = Path(ics_info.value.path()).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR"), ics[:40]
    assert "BEGIN:VEVENT" in ics and "END:VCALENDAR" in ics
    assert ics_info.value.suggested_filename.endswith(".ics")
    page.get_by_role("link", name="Open the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Baclofen diary report")
    expect(page).to_have_title(re.compile(f"Baclofen diary report: {patient.name}"))
    expect(page.locator("body")).to_contain_text("agree every plan and change with the prescriber")


def test_caregiver_invited_by_code(page: Page, second_page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page, name="Robin Patel")
    e2e.save_titration(page, patient, products=SOLUTION)
    code = e2e.invite(page, patient, "caregiver")
    expect(page.get_by_role("status")).to_contain_text("Give this code to your caregiver")
    expect(page.get_by_role("region", name="Codes not used yet")).to_contain_text("A code for a caregiver")
    e2e.screenshot(page, "09-access-code")

    caregiver_page = second_page
    caregiver = e2e.sign_up(caregiver_page, role="caregiver", name="Sam Patel")
    expect(caregiver_page.get_by_role("heading", level=1)).to_have_text("Whose diary?")
    expect(caregiver_page.get_by_text("No one has shared their diary with you yet.")).to_be_visible()
    patient_id = e2e.join(caregiver_page, code)
    assert patient_id == patient.patient_id
    expect(caregiver_page.get_by_role("navigation", name="Robin Patel")).to_contain_text(
        "Acting for Robin Patel (you are their caregiver)"
    )
    # A caregiver records for the patient: a skipped dose and a diary entry.
    caregiver_page.get_by_role("button", name="Skipped: 14:00 dose").click()
    expect(caregiver_page.get_by_role("status")).to_have_text("Dose recorded as skipped.")
    expect(caregiver_page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*14:00"))).to_contain_text(
        "Skipped"
    )
    caregiver_page.get_by_role("link", name="Diary").click()
    caregiver_page.get_by_label("No spasms").check()
    caregiver_page.get_by_role("group", name=re.compile("How stiff")).get_by_label("3", exact=True).check()
    caregiver_page.get_by_label("Anything else").fill("Recorded by Sam.")
    caregiver_page.get_by_role("button", name="Save in the diary").click()
    expect(caregiver_page.get_by_role("status")).to_have_text("Saved in the diary.")

    # The plan: the caregiver sees it, with no form to change it (issue 12).
    caregiver_page.get_by_role("link", name="Plan").click()
    expect(caregiver_page.get_by_role("region", name="The plan now")).to_contain_text("Titration")
    expect(
        caregiver_page.get_by_text("Only the patient or their clinician can change the plan.")
    ).to_be_visible()
    expect(caregiver_page.get_by_role("button", name="Preview the plan")).to_have_count(0)
    expect(caregiver_page.get_by_role("heading", name="Change the plan")).to_have_count(0)
    e2e.screenshot(caregiver_page, "14-caregiver-plan-read-only")
    token = caregiver_page.locator("input[name=csrf_token]").first.input_value()
    sent_anyway = caregiver_page.request.post(  # an old tab, a crafted form
        patient.path("plans"),
        form={"csrf_token": token, "action": "save", "kind": "maintenance", "mg_day": "60"},
    )
    assert sent_anyway.status == 403

    # The patient sees what the caregiver recorded, and who can see the diary.
    page.goto(patient.path("today"))
    expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*14:00"))).to_contain_text("Skipped")
    page.goto(patient.path("diary"))
    expect(page.get_by_role("table", name="Diary entries, newest first")).to_contain_text("Recorded by Sam.")
    page.goto(patient.path("access"))
    people = page.get_by_role("region", name="People who can see it")
    expect(people).to_contain_text(f"Sam Patel ({caregiver.email}), your caregiver")
    people.get_by_role("button", name="Remove access for Sam Patel").click()
    expect(page.get_by_role("status")).to_have_text("Access ended. They can no longer see the diary.")
    expect(page.get_by_role("region", name="People who can see it")).to_contain_text("Only you.")

    # The caregiver's next page load of that patient: not found, as if it never existed.
    response = caregiver_page.goto(patient.path("today"))
    assert response is not None and response.status == 404
    expect(caregiver_page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(caregiver_page.get_by_text("Robin Patel")).to_have_count(0)


def test_clinician_linked_by_code_changes_the_plan(page: Page, second_page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page, name="Jo Lindqvist")
    e2e.save_titration(page, patient, target="30")
    # Something for the attention flags: confusion after a missed dose (possible withdrawal).
    page.goto(patient.path("diary"))
    page.get_by_label("Spasms more than once an hour").check()
    page.get_by_label("Severe", exact=True).check()
    page.get_by_role("group", name=re.compile("How stiff")).get_by_label("8", exact=True).check()
    page.get_by_label("Confusion").select_option(label="moderate")
    page.get_by_role("button", name="Save in the diary").click()
    # an urgent or emergency entry: the result first, plainly, instead of a green "Saved"
    expect(page.locator("main h2").first).to_have_text(re.compile("^(EMERGENCY|URGENT)"))
    expect(page.locator("#triage-result")).to_contain_text("Kept in the diary")
    expect(page.get_by_role("table", name="Diary entries, newest first")).to_contain_text("EMERGENCY")
    code = e2e.invite(page, patient, "clinician")

    clinician_page = second_page
    e2e.sign_up(clinician_page, role="clinician", name="Dr Ada Okafor")
    expect(clinician_page.get_by_role("heading", level=1)).to_have_text("My patients")
    expect(clinician_page.get_by_text("No patient has linked you yet.")).to_be_visible()
    e2e.join(clinician_page, code)
    clinician_page.get_by_role("link", name="My patients").click()
    table = clinician_page.get_by_role("table", name="Patients and what needs attention")
    row = table.get_by_role("row").filter(has_text="Jo Lindqvist")
    expect(row).to_contain_text(re.compile(r"emergency triage on \d+ \w{3} \d\d:\d\d"))
    expect(row).to_contain_text("1 dose missed")
    e2e.screenshot(clinician_page, "10-clinic")
    clinician_page.set_viewport_size({"width": 320, "height": 800})  # WCAG reflow: 320 CSS px
    assert_no_horizontal_scroll(clinician_page, "the clinic list on a phone")
    clinician_page.set_viewport_size({"width": 1280, "height": 900})

    # The clinician opens the patient's plan and changes it to a maintenance plan.
    row.get_by_role("link", name="Jo Lindqvist", exact=True).click()
    expect(clinician_page.get_by_role("navigation", name="Jo Lindqvist")).to_contain_text(
        "you are their clinician"
    )
    clinician_page.get_by_role("link", name="Plan").click()
    current = clinician_page.get_by_role("region", name="The plan now")
    expect(current).to_contain_text("Titration")
    # The patient entered it: the clinician confirms it.
    expect(current).to_contain_text("Entered by the patient: not yet confirmed by a clinician.")
    e2e.screenshot(clinician_page, "15-clinician-confirms")
    current.get_by_role("button", name="Confirm this plan").click()
    expect(clinician_page.get_by_role("status")).to_have_text(re.compile("^The plan is confirmed."))
    expect(current).to_contain_text(
        re.compile(r"Entered by the patient, confirmed by a clinician on \w{3} \d+")
    )
    expect(current.get_by_role("button", name="Confirm this plan")).to_have_count(0)
    # Then changes it to a maintenance plan at the dose taken today, reviewed in 4 weeks.
    expect(clinician_page.get_by_label("Clinician override")).to_be_visible()
    expect(clinician_page.get_by_label("Above the kidney-adjusted maximum")).not_to_be_checked()
    expect(clinician_page.get_by_label("Keep the current dose (maintenance)")).to_be_checked()
    expect(clinician_page.get_by_label("Maintenance: mg a day")).to_have_value("15")  # today's step, not 30
    clinician_page.get_by_label("Review after, weeks").fill("4")
    clinician_page.get_by_role("button", name="Preview the plan").click()
    preview = clinician_page.get_by_role("region", name="Preview: not saved yet")
    expect(preview).to_contain_text("Maintenance, 3 doses a day")
    expect(preview).to_contain_text(
        re.compile(r"This plan starts at \w{3} \d+ \w{3} 20:00, the next dose time")
    )
    expect(preview).to_contain_text("(4 weeks after the last step begins)")
    expect(preview.get_by_role("table", name="The plan, step by step")).to_contain_text("15")
    clinician_page.get_by_role("button", name="Save this plan").click()
    expect(clinician_page.get_by_role("status")).to_have_text(re.compile("The plan is saved"))

    # The patient sees the clinician's plan.
    page.goto(patient.path("plans"))
    current = page.get_by_role("region", name="The plan now")
    expect(current).to_contain_text("Maintenance, 3 doses a day at 08:00, 14:00, 20:00")
    expect(current).to_contain_text("Entered by a clinician.")
    expect(current.locator(".after-last-step")).to_contain_text(
        "continues at 15 mg/day until a new plan or a taper"
    )
    page.goto(patient.path("today"))
    expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*20:00"))).to_contain_text("5 mg")


def test_dialysis_titration_is_refused_and_explained(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    page.goto(patient.path("plans"))
    page.get_by_label("Titration: target mg a day").fill("30")
    page.get_by_label("On dialysis").check()
    with page.expect_response(re.compile(r"/plans$")) as answer:
        page.get_by_role("button", name="Preview the plan").click()
    assert answer.value.status == 422
    refusal = page.get_by_role("alert")
    expect(refusal.get_by_role("heading")).to_have_text("Dosewise will not make this plan automatically")
    expect(refusal).to_contain_text("dialysis")
    expect(refusal).to_contain_text("This needs a clinician's decision.")
    expect(page.get_by_role("button", name="Save this plan")).to_have_count(0)
    # What was typed is kept, to change it.
    expect(page.get_by_label("Titration: target mg a day")).to_have_value("30")
    expect(page.get_by_label("On dialysis")).to_be_checked()
    e2e.screenshot(page, "11-plan-refused")


def _today_without_horizontal_scroll(
    browser: Browser, browser_context_args: dict[str, Any], e2e: Any, name: str, **context_args: Any
) -> None:
    context = browser.new_context(**{**browser_context_args, **context_args})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        patient = e2e.sign_up(page)
        e2e.save_titration(page, patient, products=SOLUTION)
        late = (
            page.get_by_role("region", name="Doses today")
            .get_by_role("listitem")
            .filter(has_text=re.compile(r"^\s*14:00"))
        )
        expect(late.get_by_role("note")).to_be_visible()
        late.get_by_text("Taken at another time?").click()
        assert_no_horizontal_scroll(page, "Today")
        for button in page.get_by_role("button", name=re.compile("^(Taken|Skipped): ")).all():
            box = button.bounding_box()
            assert box is not None and box["height"] >= 44, f"touch target too small: {box}"
        e2e.screenshot(page, name)
        # "Taken at another time?": the time typed is the one recorded.
        late.get_by_label("I took it at").fill("14:30")
        late.get_by_role("button", name="Save the time").click()
        expect(page.get_by_role("status")).to_have_text("Dose recorded as taken.")
        expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*14:00"))).to_contain_text(
            "Taken at 14:30"
        )
        assert_no_horizontal_scroll(page, "Today after recording a dose")
        page.goto(patient.path("plans"))
        page.get_by_role("button", name="Preview the plan").click()
        expect(page.get_by_role("region", name="Preview: not saved yet")).to_be_visible()
        assert_no_horizontal_scroll(page, "The plan preview")
    finally:
        context.close()


def test_today_on_a_phone_has_no_horizontal_scrolling(
    browser: Browser, browser_context_args: dict[str, Any], e2e: Any
) -> None:
    _today_without_horizontal_scroll(
        browser,
        browser_context_args,
        e2e,
        "12-today-phone",
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )


def test_today_at_200_percent_zoom_has_no_horizontal_scrolling(
    browser: Browser, browser_context_args: dict[str, Any], e2e: Any
) -> None:
    """A 1280 px wide window at 200% zoom lays out like a 640 CSS px viewport at scale 2."""
    _today_without_horizontal_scroll(
        browser,
        browser_context_args,
        e2e,
        "13-today-zoom-200",
        viewport={"width": 640, "height": 800},
        device_scale_factor=2,
    )


def test_keyboard_skip_link_and_dose_buttons(page: Page, e2e: Any) -> None:
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, products=SOLUTION)
    page.goto(patient.path("today"))

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # From the main content, Tab reaches the dose buttons; Enter records the dose.
    target = "Taken: 14:00 dose"
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == target:
            break
    else:
        raise AssertionError(f"Tab never reached the button {target!r}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Dose recorded as taken late.")
    expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*14:00"))).to_contain_text(
        "Taken late"
    )


def test_a_dose_recorded_too_early_is_refused_in_the_patients_own_terms(page: Page, e2e: Any) -> None:
    """The 20:00 dose, at 15:xx the patient's time, cannot be recorded yet. Today offers no
    buttons for it; a form sent anyway (an old tab, a second device) gets a message in the
    times the page shows, not in UTC or by an internal number, and nothing is stored."""
    patient = e2e.sign_up(page)
    e2e.save_titration(page, patient, products=SOLUTION)
    evening = page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*20:00"))
    expect(evening).to_contain_text("You can tick it off from 18:00.")
    actions = [form.get_attribute("action") or "" for form in page.locator("form[action*='/doses/']").all()]
    slot = next(a for a in actions if re.search(r"/doses/\d+$", a)).rsplit("/", 1)[1]  # the 14:00 dose
    token = page.locator("input[name=csrf_token]").first.input_value()
    later = int(slot) + 1  # the slots of a day are stored in order: 08:00, 14:00, 20:00
    response = page.request.post(
        f"/patients/{patient.patient_id}/doses/{later}", form={"csrf_token": token, "status": "skipped"}
    )
    assert response.status == 400
    message = response.text()
    assert "the 20:00 dose can be ticked off from 18:00" in message, message
    assert "UTC" not in message and not re.search(r"#\d+\b", message)  # not "#1d4f91", a colour
    page.reload()
    expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^\s*20:00"))).to_contain_text("To come")
