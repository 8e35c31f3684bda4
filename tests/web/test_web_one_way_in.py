"""One way in (issue 11): the page form and the API share one input model per use case, so
they reach the same plans, read typed times the same way, and name the field to fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import page_token, sign_up, web_settings
from dosewise.services.clock import moment_from_text
from dosewise.store.models import DoseEventRow, DoseSlotRow
from dosewise.web.app import create_app

ZONE = "Europe/London"
PASSWORD = "correct horse battery"


class Clock:
    """The app's "now", moved by the test."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo(ZONE)))


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Any:
    return create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"), clock=clock)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _patient(client: TestClient) -> str:
    sign_up(client, "one@example.org", zone=ZONE)
    return client.get("/").headers["location"].split("/")[2]


def _api_headers(client: TestClient) -> dict[str, str]:
    signed = client.post("/api/session", json={"email": "one@example.org", "password": PASSWORD})
    assert signed.status_code == 200
    return {"x-csrf-token": signed.json()["csrf_token"]}


def test_the_api_builds_a_cockcroft_gault_plan_from_serum_creatinine(client: TestClient) -> None:
    patient = _patient(client)
    headers = _api_headers(client)
    body = {
        "kind": "titration",
        "target_mg_day": 30,
        "start": "2026-12-01",
        "scr": 150,
        "scr_unit": "umol_l",
        "age_years": 60,
        "sex": "male",
        "weight_kg": 80,
    }
    preview = client.post(f"/api/patients/{patient}/plans/preview", json=body, headers=headers)
    assert preview.status_code == 200, preview.text
    kidney = preview.json()["kidney"]
    # Cockcroft-Gault by hand: (140 - 60) x 80 / (72 x 150/88.42 mg/dL)
    expected = (140 - 60) * 80 / (72 * 150 / 88.42)
    assert kidney["crcl_ml_min"] == pytest.approx(expected, abs=0.1)
    assert kidney["band"] != "normal" and preview.json()["max_daily_mg"] < 80
    # the same answer in mg/dL, and the same input model refuses a half-given creatinine
    in_mg_dl = {**body, "scr": round(150 / 88.42, 4), "scr_unit": "mg_dl"}
    again = client.post(f"/api/patients/{patient}/plans/preview", json=in_mg_dl, headers=headers)
    assert again.json()["kidney"]["crcl_ml_min"] == pytest.approx(expected, abs=0.1)
    no_weight = client.post(
        f"/api/patients/{patient}/plans/preview", json={**body, "weight_kg": None}, headers=headers
    )
    assert no_weight.status_code == 400 and no_weight.json()["field"] == "/weight_kg"
    implausible = client.post(
        f"/api/patients/{patient}/plans/preview", json={**body, "scr": 90000}, headers=headers
    )
    assert implausible.status_code == 400 and implausible.json()["field"] == "/scr"  # the body's own field


def test_the_api_takes_a_childs_age_and_weight_like_the_form(client: TestClient) -> None:
    patient = _patient(client)
    headers = _api_headers(client)
    child = {
        "kind": "titration",
        "target_mg_day": 20,
        "start": "2026-12-01",
        "age_years": 10,
        "weight_kg": 30,
    }
    response = client.post(f"/api/patients/{patient}/plans/preview", json=child, headers=headers)
    # no automatic plan under 18, and no override lifts that: refused, not an unknown field
    assert response.status_code == 422 and response.json()["overridable"] is False
    assert "No automatic plan under 18 years" in response.json()["detail"]
    # the clinician's own steps are the way: checked against the UK limits for the child's weight
    steps = {**child, "kind": "clinician", "steps": ["3:3,3,3"], "products": ["solution:1mg/ml"]}
    response = client.post(f"/api/patients/{patient}/plans/preview", json=steps, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["max_daily_mg"] == 60
    too_much = {**steps, "steps": ["3:25,25,25"]}
    response = client.post(f"/api/patients/{patient}/plans/preview", json=too_much, headers=headers)
    assert response.status_code == 422 and "60 mg/day for a child of 8 or over" in response.json()["detail"]


def _save_plan_with_a_late_evening_dose(client: TestClient, patient: str) -> None:
    """Preview, then save the draft the preview made (at 12:00: it starts at 14:00)."""
    form = {
        "csrf_token": page_token(client),
        "kind": "maintenance",
        "mg_day": "15",
        "start": "2026-12-01",
        "times": "08:00,14:00,22:40",
    }
    preview = client.post(f"/patients/{patient}/plans", data={**form, "action": "preview"})
    assert preview.status_code == 200, preview.text
    draft = dict(
        re.findall(r'<input type="hidden" name="(draft|previewed_takeover)" value="([^"]+)">', preview.text)
    )
    saved = client.post(f"/patients/{patient}/plans", data={**form, **draft, "action": "save"})
    assert saved.status_code == 303, saved.text


def _slot_due(client: TestClient, app: Any, due_local: datetime) -> int:
    due_utc = due_local.astimezone(UTC).replace(tzinfo=None)
    with app.state.context.engine.connect() as connection:
        slot_id: int = connection.scalar(select(DoseSlotRow.id).where(DoseSlotRow.due_at == due_utc))
    return slot_id


def _taken_at(app: Any, slot_id: int) -> datetime:
    with app.state.context.engine.connect() as connection:
        taken: datetime = connection.scalar(
            select(DoseEventRow.taken_at).where(DoseEventRow.slot_id == slot_id)
        )
    return taken.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE))


@pytest.mark.parametrize("interface", ["page", "api"])
def test_22_40_typed_at_00_30_is_last_night(
    client: TestClient, app: Any, clock: Clock, interface: str
) -> None:
    zone = ZoneInfo(ZONE)
    patient = _patient(client)
    _save_plan_with_a_late_evening_dose(client, patient)
    last_night = datetime(2026, 12, 1, 22, 40, tzinfo=zone)
    slot = _slot_due(client, app, last_night)
    clock.moment = datetime(2026, 12, 2, 0, 30, tzinfo=zone)
    if interface == "page":
        token = page_token(client, f"/patients/{patient}/today")
        response = client.post(
            f"/patients/{patient}/doses/{slot}",
            data={"csrf_token": token, "status": "taken", "taken_at": "22:40"},
        )
        assert response.status_code == 303, response.text
    else:
        response = client.post(
            f"/api/patients/{patient}/doses/{slot}",
            json={"status": "taken", "taken_at": "22:40"},
            headers=_api_headers(client),
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "taken"
    assert _taken_at(app, slot) == last_night


def test_the_clock_time_rule_is_one_function() -> None:
    zone = ZoneInfo(ZONE)
    now = datetime(2026, 12, 2, 0, 30, tzinfo=zone)
    assert moment_from_text("22:40", now=now, zone=zone) == datetime(2026, 12, 1, 22, 40, tzinfo=zone)
    assert moment_from_text("00:20", now=now, zone=zone) == datetime(2026, 12, 2, 0, 20, tzinfo=zone)
    assert moment_from_text("2026-12-01T08:00", now=now, zone=zone) == datetime(2026, 12, 1, 8, tzinfo=zone)
    offset = moment_from_text("2026-12-01T08:00+01:00", now=now, zone=zone)
    assert offset == datetime(2026, 12, 1, 7, tzinfo=zone)


def test_a_page_error_names_the_form_field(client: TestClient) -> None:
    patient = _patient(client)
    form = {
        "csrf_token": page_token(client),
        "action": "preview",
        "kind": "taper",
        "from_mg_day": "30",
        "min_days": "500",
        "start": "2026-12-01",
    }
    response = client.post(f"/patients/{patient}/plans", data=form)
    assert response.status_code == 400
    assert "Taper: at least this many days:" in response.text
    assert "--min-days" not in response.text
    assert re.search(r'<input id="min_days"[^>]*aria-invalid="true"', response.text)
    # and the message stands under the field itself, which the field points to
    assert re.search(r'aria-describedby="error-min_days"', response.text)
    assert re.search(r'<p class="field-error" id="error-min_days">[^<]*365 days', response.text)


def test_a_ticked_kidney_choice_with_its_field_empty_is_an_error(client: TestClient) -> None:
    patient = _patient(client)
    form = {
        "csrf_token": page_token(client),
        "action": "preview",
        "kind": "titration",
        "target_mg_day": "30",
        "start": "2026-12-01",
        "kidney_way": "crcl",
    }
    response = client.post(f"/patients/{patient}/plans", data=form)
    assert response.status_code == 400 and "CrCl, mL/min:" in response.text
    labs_ignored = {
        **form,
        "kidney_way": "none",
        "scr": "150",
        "age_years": "60",
        "sex": "male",
        "weight_kg": "80",
    }
    response = client.post(
        f"/patients/{patient}/plans", data={**labs_ignored, "csrf_token": page_token(client)}
    )
    assert response.status_code == 400 and "Kidney function:" in response.text


def test_a_diary_entry_error_names_its_question_and_keeps_what_was_chosen(client: TestClient) -> None:
    patient = _patient(client)
    form = {
        "csrf_token": page_token(client, f"/patients/{patient}/diary"),
        "penn_frequency": "2",
        "penn_severity": "2",
        "side_effects": ["drowsiness:1", ""],
        "note": "legs stiff",
    }
    response = client.post(f"/patients/{patient}/diary/symptoms", data=form)
    assert response.status_code == 400
    assert "How stiff were you:" in response.text
    assert 'value="drowsiness:1" selected' in response.text and "legs stiff" in response.text
    # severity left over from before is not asked when there were no spasms
    saved = client.post(
        f"/patients/{patient}/diary/symptoms",
        data={**form, "csrf_token": page_token(client), "penn_frequency": "0", "spasticity": "3"},
    )
    assert saved.status_code == 303


@pytest.mark.parametrize("typed", ["08:00+05:00", "8 o'clock", "25:00", ""])
def test_a_missed_dose_time_is_read_the_same_on_the_page_and_the_api(
    client: TestClient, clock: Clock, typed: str
) -> None:
    patient = _patient(client)
    _save_plan_with_a_late_evening_dose(client, patient)  # at 12:00: its first dose is at 14:00
    clock.moment = datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo(ZONE))
    page = client.post(
        f"/patients/{patient}/missed",
        data={"csrf_token": page_token(client, f"/patients/{patient}/missed"), "missed": typed},
    )
    assert page.status_code == 400 and "HH:MM" in page.text
    api = client.post(f"/api/patients/{patient}/missed", json={"missed": typed}, headers=_api_headers(client))
    assert api.status_code in (400, 422) and api.json()["field"] == "/missed"
    fine = client.post(
        f"/api/patients/{patient}/missed", json={"missed": "14:00"}, headers=_api_headers(client)
    )
    assert fine.status_code == 200 and fine.json()["action"] in ("take_now", "skip", "contact_prescriber")
