"""The plan pages of the daily routine (issue 12), on SQLite and PostgreSQL with a clock the
test moves: Save commits exactly the previewed plan, a plan takes over at a stated time, a large
rise needs a reason, only the patient and their clinician change the plan, the form never
offers another dose than the one in force, a past start is explicit, and what follows the last
step is said."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import page_token, sign_up, web_settings_for_months
from dosewise.store.models import AuditRow, DoseSlotRow, PlanRow
from dosewise.web.app import create_app

ZONE = "Europe/London"  # UTC in December
PASSWORD = "correct horse battery"


class Clock:
    """The app's "now", moved by the test."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 on the patient's clock."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo(ZONE))


@pytest.fixture
def clock() -> Clock:
    return Clock(at(1, 7, 30))  # before the first dose time of the day


@pytest.fixture
def app(database_url: str, clock: Clock) -> Any:
    return create_app(web_settings_for_months(database_url), clock=clock)


@pytest.fixture
def browsers(app: Any) -> Iterator[Any]:
    """A new browser (own cookies) per call: ``browsers()``."""
    with ExitStack() as stack:

        def new() -> TestClient:
            return stack.enter_context(TestClient(app, follow_redirects=False))

        yield new


@pytest.fixture
def patient(browsers: Any) -> tuple[TestClient, int]:
    client = browsers()
    sign_up(client, "pat@example.org", name="Pat Routine", zone=ZONE)
    return client, int(client.get("/").headers["location"].split("/")[2])


def _count(app: Any, table: Any) -> int:
    with app.state.context.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)))


def _hidden(page: str) -> dict[str, str]:
    """The draft fields a preview puts in the form."""
    found = re.findall(r'<input type="hidden" name="(draft|previewed_takeover)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def _plan_form(client: TestClient, **fields: str) -> dict[str, str]:
    return {"csrf_token": page_token(client), "kind": "maintenance", "start": "2026-12-01", **fields}


def _post(client: TestClient, patient_id: int, form: dict[str, str], action: str, **extra: str) -> Any:
    return client.post(f"/patients/{patient_id}/plans", data={**form, "action": action, **extra})


def _preview(client: TestClient, patient_id: int, form: dict[str, str]) -> tuple[Any, dict[str, str]]:
    response = _post(client, patient_id, form, "preview")
    assert response.status_code == 200, response.text
    draft = _hidden(response.text)
    assert set(draft) == {"draft", "previewed_takeover"}
    return response, draft


def _save(client: TestClient, patient_id: int, **fields: str) -> Any:
    """Preview, then save that preview: the way a person saves a plan."""
    form = _plan_form(client, **fields)
    _, draft = _preview(client, patient_id, form)
    saved = _post(client, patient_id, form, "save", **draft)
    assert saved.status_code == 303, saved.text
    return saved


def _alert(page: str) -> str:
    found = re.search(r'<div class="error" id="form-error" role="alert">(.*?)</div>', page, re.S)
    return "" if found is None else html.unescape(re.sub(r"<[^>]+>", "", found[1]))


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _current_plan(client: TestClient, patient_id: int) -> dict[str, Any]:
    response = client.get(f"/api/patients/{patient_id}/plan")
    assert response.status_code == 200, response.text
    plan: dict[str, Any] = response.json()["plan"]
    return plan


class DoseCards(HTMLParser):
    """The text of each dose card in Today's list of the day (``<ol class="doses">``, not the
    earlier doses kept for corrections)."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[str] = []
        self._lists: list[bool] = []  # the open <ol>s: is it the day's list?
        self._depth = 0  # <li> nesting inside the current card

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "ol":
            self._lists.append(classes == ["doses"])
        elif tag == "li" and self._depth:
            self._depth += 1
        elif tag == "li" and "dose" in classes and self._lists and self._lists[-1]:
            self._depth = 1
            self.cards.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol" and self._lists:
            self._lists.pop()
        elif tag == "li" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.cards[-1] += data


def dose_cards(page: str) -> list[str]:
    parser = DoseCards()
    parser.feed(page)
    return [re.sub(r"\s+", " ", card).strip() for card in parser.cards]


# --- Save commits exactly the previewed plan ----------------------------------------------------


def test_preview_then_edit_then_save_shows_the_new_preview_and_stores_nothing(
    app: Any, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    form = _plan_form(client, kind="titration", target_mg_day="60")
    _, draft = _preview(client, patient_id, form)
    edited = {**form, "target_mg_day": "80"}  # changed after the preview, then Save
    refused = _post(client, patient_id, edited, "save", **draft)
    assert refused.status_code == 409
    assert "You changed the form after the preview: check this plan, then save it." in _alert(refused.text)
    assert _count(app, PlanRow) == 0 and _count(app, DoseSlotRow) == 0
    # the page now previews what the form says (80), with a new draft to save
    assert "Preview: not saved yet" in refused.text and "80 mg" in _text(refused.text)
    new_draft = _hidden(refused.text)
    assert new_draft["draft"] != draft["draft"]
    saved = _post(client, patient_id, edited, "save", **new_draft)
    assert saved.status_code == 303
    assert _current_plan(client, patient_id)["steps"][-1]["daily_mg"] == 80


def test_preview_then_save_commits_the_previewed_plan(app: Any, patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    form = _plan_form(client, kind="titration", target_mg_day="60", kidney_way="crcl", crcl_ml_min="45")
    preview, draft = _preview(client, patient_id, form)
    shown = re.findall(r'<th scope="row">(\d{4}-\d\d-\d\d)</th>\s*<td>(\d+)</td>', preview.text)
    # Save sends the same form with the draft: what is stored is what was shown
    saved = _post(client, patient_id, form, "save", **draft)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/today?done=plan")
    plan = _current_plan(client, patient_id)
    assert [(s["start"], str(s["days"])) for s in plan["steps"]] == shown
    assert plan["kidney"]["band"] == "moderate" and plan["max_daily_mg"] == 40
    # the same draft twice: a second plan, never a changed one (the draft is the plan shown)
    assert _count(app, PlanRow) == 1


def test_save_without_a_preview_or_with_a_bad_draft_stores_nothing(
    app: Any, browsers: Any, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    other = browsers()
    sign_up(other, "other@example.org", zone=ZONE)
    other_id = int(other.get("/").headers["location"].split("/")[2])
    form = _plan_form(client, mg_day="15")
    _, other_draft = _preview(other, other_id, _plan_form(other, mg_day="15"))
    _, draft = _preview(client, patient_id, form)
    tampered = {
        **draft,
        "draft": draft["draft"][:-3] + ("AAA" if not draft["draft"].endswith("AAA") else "BBB"),
    }
    cases = [
        ({}, "Preview the plan before saving it."),
        (other_draft, "This preview was made for another patient: preview the plan again."),
        (tampered, "This preview cannot be read (changed or expired): preview the plan again."),
        ({"draft": "not a draft", "previewed_takeover": "x"}, "This preview cannot be read"),
    ]
    for fields, message in cases:
        response = _post(client, patient_id, form, "save", **fields)
        assert response.status_code == 400, fields
        assert message in _alert(response.text), _alert(response.text)
        assert "Traceback" not in response.text and "Preview: not saved yet" in response.text
    # the API refuses another patient's draft the same way
    token = client.post("/api/session", json={"email": "pat@example.org", "password": PASSWORD})
    api = client.post(
        f"/api/patients/{patient_id}/plans/commit",
        json={"draft": other_draft["draft"]},
        headers={"x-csrf-token": token.json()["csrf_token"]},
    )
    assert api.status_code == 400 and api.json()["field"] == "/draft"
    assert _count(app, PlanRow) == 0 and _count(app, DoseSlotRow) == 0


def test_a_preview_whose_start_time_has_passed_is_shown_again(
    app: Any, clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    form = _plan_form(client, mg_day="15")
    _, draft = _preview(client, patient_id, form)  # at 07:30: starts at 08:00
    clock.moment = at(1, 8, 30)
    moved = _post(client, patient_id, form, "save", **draft)
    assert moved.status_code == 409 and "The time this plan would start has changed" in _alert(moved.text)
    assert "This plan starts at Tue 1 Dec 14:00" in _text(moved.text)
    assert _count(app, PlanRow) == 0
    assert _post(client, patient_id, form, "save", **_hidden(moved.text)).status_code == 303


# --- the takeover and a large rise --------------------------------------------------------------


def test_the_preview_says_when_the_plan_takes_over_and_the_dose_before_and_after(
    clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    first, _ = _preview(client, patient_id, _plan_form(client, mg_day="15"))
    assert "This plan starts at Tue 1 Dec 08:00, its first dose time from now." in _text(first.text)
    assert "Daily dose: 15 mg from Tue 1 Dec 08:00." in _text(first.text)
    _save(client, patient_id, mg_day="15")
    clock.moment = at(1, 15, 0)
    change, _ = _preview(client, patient_id, _plan_form(client, mg_day="30"))
    text = _text(change.text)
    assert (
        "This plan starts at Tue 1 Dec 20:00, the next dose time. Until then the current plan goes on; "
        "its later doses are cancelled." in text
    )
    assert "Daily dose: 15 mg now → , then 30 mg from Tue 1 Dec 20:00." in text
    assert 'name="confirm_rise"' not in change.text  # a rise of one step needs no reason
    # the day by day table starts when the plan does
    assert re.search(r"<caption>The first \d+ days from Tue 1 Dec</caption>", change.text)
    assert "Tue 1 Dec</th><td>20:00: 10 mg" in change.text


def test_a_rise_from_15_to_60_needs_a_reason_which_is_audited(
    app: Any, clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, mg_day="15")
    clock.moment = at(2, 9, 0)
    form = _plan_form(client, mg_day="60", start="2026-12-02")
    preview, draft = _preview(client, patient_id, form)
    warning = re.search(r'<div class="warning rise" id="rise-warning">(.*?)</div>', preview.text, re.S)
    assert warning is not None
    assert "raises the daily dose from 15 to 60 mg/day at once, more than the 15 mg/day" in _text(warning[1])
    assert re.search(
        r'<textarea id="confirm_rise" name="confirm_rise"[^>]*aria-required="true"', preview.text
    )
    assert 'for="confirm_rise">Why is the dose raised this much?' in preview.text
    refused = _post(client, patient_id, form, "save", **draft)
    assert refused.status_code == 422
    assert re.search(r'<textarea id="confirm_rise"[^>]*aria-invalid="true"', refused.text)
    assert re.search(
        r'<p class="field-error" id="error-confirm_rise">The reason for the rise: say why the daily',
        refused.text,
    )
    blank = _post(client, patient_id, {**form, "confirm_rise": "   "}, "save", **_hidden(refused.text))
    assert blank.status_code == 422
    assert _count(app, PlanRow) == 1  # the 15 mg plan only
    reason = "Dr Okafor's letter of 1 Dec: 60 mg/day"
    saved = _post(client, patient_id, {**form, "confirm_rise": reason}, "save", **_hidden(blank.text))
    assert saved.status_code == 303
    assert _current_plan(client, patient_id)["steps"][0]["daily_mg"] == 60
    with app.state.context.engine.connect() as connection:
        detail = connection.scalar(
            select(AuditRow.detail).where(AuditRow.action == "start_plan").order_by(AuditRow.id.desc())
        )
    audited = json.loads(detail)
    assert audited["rise_confirmed"] == reason
    assert (audited["daily_mg_before"], audited["daily_mg_after"]) == (15, 60)
    page = client.get(f"/patients/{patient_id}/plans").text
    assert f"Why: {reason}" in _text(page)


def test_a_plan_change_at_21_after_the_21_dose_was_taken_shows_one_21_card(
    app: Any, clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    times = "09:00,15:00,21:00"
    _save(client, patient_id, mg_day="15", times=times)
    clock.moment = at(1, 20, 50)
    with app.state.context.engine.connect() as connection:
        slot = connection.scalar(
            select(DoseSlotRow.id).where(DoseSlotRow.due_at == datetime(2026, 12, 1, 21))
        )
    taken = client.post(
        f"/patients/{patient_id}/doses/{slot}",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/today"), "status": "taken"},
    )
    assert taken.status_code == 303, taken.text
    clock.moment = at(1, 21, 0)
    _save(client, patient_id, mg_day="30", times=times)
    cards = dose_cards(client.get(f"/patients/{patient_id}/today").text)
    at_21 = [card for card in cards if "21:00" in card]
    assert len(at_21) == 1, cards
    assert "5 mg" in at_21[0] and "Taken" in at_21[0]
    # the next day: the new plan's doses, one card per time
    clock.moment = at(2, 8, 0)
    cards = dose_cards(client.get(f"/patients/{patient_id}/today").text)
    assert [card[:5] for card in cards] == ["09:00", "15:00", "21:00"], cards
    assert all("10 mg" in card for card in cards)


def test_after_a_titration_ends_today_still_shows_its_last_dose(
    clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, kind="titration", target_mg_day="30")  # 3 days of 5 mg, then 10 mg
    page = client.get(f"/patients/{patient_id}/plans").text
    assert "continues at 30 mg/day until a new plan or a taper" in _text(page)
    for day in (10, 20, 31):  # long after its last step began (visits keep the session alive)
        clock.moment = at(day, 7, 0)
        cards = dose_cards(client.get(f"/patients/{patient_id}/today").text)
        assert [card[:5] for card in cards] == ["08:00", "14:00", "20:00"], (day, cards)
        assert all("10 mg" in card for card in cards), cards


# --- who may change the plan ---------------------------------------------------------------------


def _invite(client: TestClient, patient_id: int, role: str) -> str:
    page = client.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/access"), "role": role},
    )
    found = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert found, page.text
    return found[1]


def _linked(browsers: Any, patient: tuple[TestClient, int], role: str, email: str) -> TestClient:
    client, patient_id = patient
    other = browsers()
    sign_up(other, email, role=role, zone=ZONE)
    code = _invite(client, patient_id, role)
    joined = other.post("/join", data={"csrf_token": page_token(other, "/join"), "code": code})
    assert joined.status_code == 303
    return other


def test_a_caregiver_sees_the_plan_but_cannot_change_it(
    app: Any, browsers: Any, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, mg_day="15")
    carer = _linked(browsers, patient, "caregiver", "carer@example.org")
    page = carer.get(f"/patients/{patient_id}/plans")
    assert page.status_code == 200
    assert "The plan now" in page.text and "Maintenance" in page.text
    assert "Only the patient or their clinician can change the plan." in page.text
    assert f'action="/patients/{patient_id}/plans"' not in page.text
    assert "Change the plan" not in page.text and "Preview the plan" not in page.text
    assert "Confirm this plan" not in page.text
    today = carer.get(f"/patients/{patient_id}/today").text
    assert "change the plan" not in today.lower()
    form = _plan_form(carer, mg_day="30")
    for action in ("preview", "save", "kidney"):
        assert _post(carer, patient_id, form, action).status_code == 403, action
    token = page_token(carer)
    with app.state.context.engine.connect() as connection:
        plan_id = connection.scalar(select(PlanRow.id))
    for path, body in [
        ("plans", {"kind": "maintenance", "mg_day": 30}),
        ("plans/preview", {"kind": "maintenance", "mg_day": 30}),
        ("plans/commit", {"draft": "x"}),
        (f"plans/{plan_id}/confirm", None),
    ]:
        api = carer.post(f"/api/patients/{patient_id}/{path}", json=body, headers={"x-csrf-token": token})
        assert api.status_code == 403, (path, api.text)
    confirm = carer.post(f"/patients/{patient_id}/plans/{plan_id}/confirm", data={"csrf_token": token})
    assert confirm.status_code == 403
    assert _count(app, PlanRow) == 1


def test_a_clinician_confirms_the_plan_the_patient_entered(
    app: Any, browsers: Any, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, mg_day="15")
    own = client.get(f"/patients/{patient_id}/plans").text
    assert "Entered by the patient</strong>: not yet confirmed by a clinician." in own
    assert "Confirm this plan" not in own  # only a clinician confirms
    doctor = _linked(browsers, patient, "clinician", "doc@example.org")
    listed = doctor.get("/clinic").text  # the clinician's list points at the plan to confirm
    assert f'href="/patients/{patient_id}/plans">Plan entered by the patient: check and confirm' in listed
    page = doctor.get(f"/patients/{patient_id}/plans").text
    assert "Entered by the patient</strong>: not yet confirmed by a clinician." in page
    found = re.search(rf'<form method="post" action="(/patients/{patient_id}/plans/(\d+)/confirm)">', page)
    assert found and "Confirm this plan" in page
    # the patient cannot confirm their own plan
    assert client.post(found[1], data={"csrf_token": page_token(client)}).status_code == 403
    confirmed = doctor.post(found[1], data={"csrf_token": page_token(doctor)})
    assert confirmed.status_code == 303 and confirmed.headers["location"].endswith("/plans?done=confirmed")
    after = doctor.get(confirmed.headers["location"]).text
    assert "The plan is confirmed." in after and "Confirm this plan" not in after
    assert "check and confirm" not in doctor.get("/clinic").text
    assert "confirmed by a clinician on Tue 1 Dec 2026." in client.get(f"/patients/{patient_id}/plans").text
    with app.state.context.engine.connect() as connection:
        actions = list(connection.scalars(select(AuditRow.action).where(AuditRow.entity == "plan")))
    assert actions == ["start_plan", "confirm_plan"]
    # a plan the clinician enters needs no confirmation
    _save(doctor, patient_id, mg_day="20")
    page = doctor.get(f"/patients/{patient_id}/plans").text
    assert "Entered by a clinician." in page and "Confirm this plan" not in page


def test_a_clinician_cannot_confirm_another_patients_plan(
    app: Any, browsers: Any, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, mg_day="15")
    other = browsers()
    sign_up(other, "other@example.org", zone=ZONE)
    other_id = int(other.get("/").headers["location"].split("/")[2])
    doctor = _linked(browsers, (other, other_id), "clinician", "doc2@example.org")
    with app.state.context.engine.connect() as connection:
        plan_id = connection.scalar(select(PlanRow.id).where(PlanRow.patient_id == patient_id))
    # the other patient's path with this patient's plan: not found; this patient's path: not theirs
    token = page_token(doctor)
    assert (
        doctor.post(f"/patients/{other_id}/plans/{plan_id}/confirm", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        doctor.post(f"/patients/{patient_id}/plans/{plan_id}/confirm", data={"csrf_token": token}).status_code
        == 404
    )
    with app.state.context.engine.connect() as connection:
        assert connection.scalar(select(PlanRow.confirmed_at)) is None


# --- the form: the dose in force, start dates, review, kidney ----------------------------------


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}" name="{name}"[^>]* value="([^"]*)"', page)
    assert found is not None, name
    return html.unescape(found[1])


def test_the_form_is_prefilled_with_the_dose_in_force_today(
    clock: Clock, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    _save(client, patient_id, kind="titration", target_mg_day="30")  # 15 mg/day, then 30 from Dec 4
    clock.moment = at(2, 10, 0)
    page = client.get(f"/patients/{patient_id}/plans").text
    assert 'value="maintenance" checked' in page
    assert _field(page, "mg_day") == "15" and _field(page, "from_mg_day") == "15"
    assert _field(page, "target_mg_day") == "" and _field(page, "start") == "2026-12-02"
    clock.moment = at(6, 10, 0)  # the last step: 30 mg/day
    page = client.get(f"/patients/{patient_id}/plans").text
    assert _field(page, "mg_day") == "30"
    # a taper under way: its dose today, not the one it started from
    _save(client, patient_id, kind="taper", from_mg_day="30", start="2026-12-06")
    steps = _current_plan(client, patient_id)["steps"]
    clock.moment = at(int(steps[1]["start"][-2:]), 10, 0)
    page = client.get(f"/patients/{patient_id}/plans").text
    assert 'value="taper" checked' in page
    assert _field(page, "from_mg_day") == f"{steps[1]['daily_mg']:g}" != "30"


def test_a_start_in_the_past_needs_the_tick(app: Any, clock: Clock, patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    clock.moment = at(3, 10, 0)
    page = client.get(f"/patients/{patient_id}/plans").text
    assert _field(page, "start") == "2026-12-03"  # today by default
    assert "Already on this plan (it started earlier)" in page
    form = _plan_form(client, kind="titration", target_mg_day="30", start="2026-12-01")
    refused = _post(client, patient_id, form, "preview")
    assert refused.status_code == 400
    assert re.search(r'<input id="start" name="start" aria-invalid="true"', refused.text)
    assert re.search(
        r'<p class="field-error" id="error-start">First day: the first day 2026-12-01 is in', refused.text
    )
    preview, draft = _preview(client, patient_id, {**form, "started_earlier": "yes"})
    text = _text(preview.text)
    assert "It started earlier, on Tue 1 Dec: its doses are planned from Thu 3 Dec 14:00 on" in text
    assert "Daily dose: 15 mg from Thu 3 Dec 14:00." in text  # still on its first step
    assert _post(client, patient_id, {**form, "started_earlier": "yes"}, "save", **draft).status_code == 303
    cards = dose_cards(client.get(f"/patients/{patient_id}/today").text)
    assert [card[:5] for card in cards] == ["14:00", "20:00"]  # nothing before it was entered
    assert not any("Missed" in card for card in cards)


def test_the_review_date_and_what_follows_the_last_step(patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    default, _ = _preview(client, patient_id, _plan_form(client, mg_day="15"))
    text = _text(default.text)
    assert "Review by 2027-02-23 (Dosewise default: 12 weeks after the last step begins" in text
    assert (
        "After the last step: continues at 15 mg/day until a new plan or a taper (review by 2027-02-23)."
        in text
    )
    chosen, _ = _preview(client, patient_id, _plan_form(client, mg_day="15", review_weeks="4"))
    assert "Review by 2026-12-29 (4 weeks after the last step begins)" in _text(chosen.text)
    taper, _ = _preview(client, patient_id, _plan_form(client, kind="taper", from_mg_day="30"))
    text = _text(taper.text)
    assert re.search(
        r"After the last step: stopped on (\d{4}-\d\d-\d\d) after the taper: no more doses", text
    )
    assert "Review by" not in text


def test_kidney_input_that_cannot_be_used_names_its_field(patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    base = _plan_form(client, kind="titration", target_mg_day="30")
    cases = [
        ({"kidney_way": "crcl"}, "crcl_ml_min", "CrCl, mL/min:"),
        ({"kidney_way": "creatinine"}, "scr", "Serum creatinine:"),
        (
            {"kidney_way": "creatinine", "scr": "150", "sex": "male", "weight_kg": "80"},
            "age_years",
            "Age, years:",
        ),
        ({"kidney_way": "none", "crcl_ml_min": "45"}, None, "Kidney function:"),
        (
            {"kidney_way": "none", "scr": "150", "age_years": "60", "sex": "male", "weight_kg": "80"},
            None,
            "Kidney",
        ),
        # a value of another way than the one chosen is never ignored
        (
            {"kidney_way": "creatinine", "crcl_ml_min": "45", "scr": "150", "age_years": "60", "sex": "male"},
            "crcl_ml_min",
            "CrCl, mL/min: the creatinine clearance is filled in",
        ),
        ({"kidney_way": "crcl", "crcl_ml_min": "45", "scr": "150"}, "scr", "Serum creatinine: the serum"),
    ]
    for fields, element, label in cases:
        response = _post(client, patient_id, {**base, **fields}, "preview")
        assert response.status_code == 400, fields
        assert label in _alert(response.text), (fields, _alert(response.text))
        if element is not None:
            assert re.search(rf'id="{element}" name="{element}" aria-invalid="true"', response.text), fields
        assert "Preview: not saved yet" not in response.text


def test_a_plan_change_can_say_why(app: Any, patient: tuple[TestClient, int]) -> None:
    """The optional "why the plan changes" is kept with the plan, shown on the plan page and in
    the audit trail; it is not part of the previewed plan (typing it needs no new preview)."""
    client, patient_id = patient
    form = _plan_form(client, mg_day="15")
    _, draft = _preview(client, patient_id, form)
    saved = _post(client, patient_id, {**form, "reason": "Dr Lee at the clinic, 30 Nov"}, "save", **draft)
    assert saved.status_code == 303, saved.text
    assert "Why: Dr Lee at the clinic, 30 Nov" in _text(client.get(f"/patients/{patient_id}/plans").text)
    with app.state.context.engine.connect() as connection:
        detail = connection.scalar(select(AuditRow.detail).where(AuditRow.action == "start_plan"))
    assert '"reason": "Dr Lee at the clinic, 30 Nov"' in detail
