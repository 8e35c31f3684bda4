"""The clinical rules of baclofen.md section 10 as the plan page and the API show them (issue 13):
no automatic plan under 18, the kidney-adjusted maximum and its own confirmation, dose spacing
and size, times across midnight, CrCl never shown in another band, a target the products cannot
reach. The rules are the domain's; these tests check that a person sees them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import page_token, sign_up, web_settings
from dosewise.store.models import DoseSlotRow
from dosewise.web.app import create_app

ZONE = "UTC"
PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Any) -> Any:
    return create_app(
        web_settings(f"sqlite:///{tmp_path / 'rules.sqlite3'}"),
        clock=lambda: datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
    )


@pytest.fixture
def browsers(app: Any) -> Iterator[Any]:
    with ExitStack() as stack:

        def new() -> TestClient:
            return stack.enter_context(TestClient(app, follow_redirects=False))

        yield new


@pytest.fixture
def patient(browsers: Any) -> tuple[TestClient, int]:
    client = browsers()
    sign_up(client, "pat@example.org", zone=ZONE)
    return client, int(client.get("/").headers["location"].split("/")[2])


@pytest.fixture
def doctor(browsers: Any, patient: tuple[TestClient, int]) -> TestClient:
    """The patient's own clinician (invited and joined)."""
    client, patient_id = patient
    page = client.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/access"), "role": "clinician"},
    )
    code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert code, page.text
    other = browsers()
    sign_up(other, "doc@example.org", role="clinician", zone=ZONE)
    joined = other.post("/join", data={"csrf_token": page_token(other, "/join"), "code": code[1]})
    assert joined.status_code == 303
    return other


def _post(client: TestClient, patient_id: int, **fields: str) -> Any:
    form = {"csrf_token": page_token(client), "start": "2026-12-01", "action": "preview", **fields}
    return client.post(f"/patients/{patient_id}/plans", data=form)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _api(client: TestClient, email: str = "pat@example.org") -> dict[str, str]:
    """Sign ``client`` in through the API; its headers (the API's CSRF token)."""
    signed = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"x-csrf-token": signed.json()["csrf_token"]}


def test_no_automatic_plan_under_18_even_for_the_clinician(doctor: TestClient, patient: Any) -> None:
    _, patient_id = patient
    child = {"kind": "titration", "target_mg_day": "60", "age_years": "15", "weight_kg": "50"}
    page = _post(doctor, patient_id, **child, clinician_override="yes")
    assert page.status_code == 422
    text = _text(page.text)
    assert "Dosewise will not make this plan automatically" in text
    assert "No automatic plan under 18 years (age 15), even with the clinician override" in text
    assert "tick “Clinician override”" not in text  # the override is no way round it
    assert "Preview: not saved yet" not in text
    # the clinician's own steps are checked against the UK limits for children
    steps = {"kind": "clinician", "steps": "3:25,25,25", "age_years": "15", "weight_kg": "50"}
    page = _post(doctor, patient_id, **steps, clinician_override="yes")
    assert page.status_code == 422 and "60 mg/day for a child of 8 or over [UK]" in _text(page.text)
    ok = _post(doctor, patient_id, **{**steps, "steps": "3:5,5,5"})
    assert ok.status_code == 200 and "Preview: not saved yet" in ok.text


def test_the_kidney_maximum_needs_its_own_tick(doctor: TestClient, patient: Any) -> None:
    """Today's bug: 60 mg/day at CrCl 40 with the override, accepted without a word."""
    _, patient_id = patient
    fields = {"kind": "maintenance", "mg_day": "60", "kidney_way": "crcl", "crcl_ml_min": "40"}
    form = doctor.get(f"/patients/{patient_id}/plans").text
    assert 'name="above_kidney_max"' in form and "[CHEONG20]" in form
    refused = _post(doctor, patient_id, **fields, clinician_override="yes")
    assert refused.status_code == 422
    text = _text(refused.text)
    assert "above the kidney-adjusted maximum of 40 mg/day (1/2 of the labelled 80 mg/day)" in text
    assert "tick both “Clinician override” and “Above the kidney-adjusted maximum”" in text
    preview = _post(doctor, patient_id, **fields, clinician_override="yes", above_kidney_max="yes")
    assert preview.status_code == 200, _text(preview.text)
    text = _text(preview.text)
    assert "Above the kidney-adjusted maximum, confirmed by the clinician: up to 60 mg/day" in text
    assert "[CHEONG20, WOLF17]" in text
    # without the override, the tick alone is an error next to the field
    alone = _post(doctor, patient_id, **fields, above_kidney_max="yes")
    assert alone.status_code == 400
    assert re.search(r'name="above_kidney_max" value="yes" aria-invalid="true"', alone.text)
    assert "Above the kidney-adjusted maximum: going above the kidney-adjusted maximum" in _text(alone.text)


def test_only_the_clinician_goes_above_the_kidney_maximum_in_the_api(
    doctor: TestClient, patient: tuple[TestClient, int]
) -> None:
    client, patient_id = patient
    body = {"kind": "maintenance", "mg_day": 60, "start": "2026-12-01", "crcl_ml_min": 40}
    url = f"/api/patients/{patient_id}/plans/preview"
    mine = client.post(url, json={**body, "above_kidney_max": True}, headers=_api(client))
    assert mine.status_code == 400 and mine.json()["field"] == "/above_kidney_max"
    refused = doctor.post(
        url, json={**body, "clinician_override": True}, headers=_api(doctor, "doc@example.org")
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "/above_kidney_max" and refused.json()["overridable"] is False
    done = doctor.post(
        url,
        json={**body, "clinician_override": True, "above_kidney_max": True},
        headers=_api(doctor, "doc@example.org"),
    )
    assert done.status_code == 200
    assert "ABOVE_KIDNEY_MAXIMUM" in [w["code"] for w in done.json()["warnings"]]
    schema = doctor.get("/api/openapi.json").json()["components"]["schemas"]["PlanInput"]
    assert "above_kidney_max" in schema["properties"]


def test_the_preview_warns_of_close_doses_and_large_ones(patient: tuple[TestClient, int]) -> None:
    """Today: three doses within an hour and a single 40 mg dose passed without a word."""
    client, patient_id = patient
    close = _post(client, patient_id, kind="maintenance", mg_day="30", times="08:00,08:30,09:00")
    assert close.status_code == 200
    text = _text(close.text)
    assert "Doses less than 3 hours apart: 08:00 and 08:30 (30 min apart)" in text
    assert "Dosewise default: doses at least 3 hours apart; the prescriber may change this." in text
    large = _post(client, patient_id, kind="clinician", steps="3:40,10,10")
    assert large.status_code == 200
    assert "A single dose above 20 mg (step 1: 40 mg)" in _text(large.text)


def test_times_across_midnight_are_a_day(app: Any, patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    page = _post(client, patient_id, kind="maintenance", mg_day="30", times="22:00,06:00,14:00")
    assert page.status_code == 200, _text(page.text)
    text = _text(page.text)
    assert "The dose times cross midnight: each day's doses run from 22:00 to 14:00 the next day." in text
    assert "Doses less than 3 hours apart" not in text
    body = {"kind": "maintenance", "mg_day": 30, "start": "2026-12-01", "times": "22:00,06:00,14:00"}
    saved = client.post(f"/api/patients/{patient_id}/plans", json=body, headers=_api(client))
    assert saved.status_code == 201, saved.text
    with app.state.context.engine.connect() as connection:
        due = connection.scalars(select(DoseSlotRow.due_at).order_by(DoseSlotRow.due_at).limit(4)).all()
    assert [d.strftime("%d %H:%M") for d in due] == ["01 22:00", "02 06:00", "02 14:00", "02 22:00"]
    wrong = _post(client, patient_id, kind="maintenance", mg_day="30", times="20:00,14:00,08:00")
    assert wrong.status_code == 400 and "cross midnight once" in _text(wrong.text)
    assert re.search(r'id="times" name="times" aria-invalid="true"', wrong.text)


def test_crcl_is_never_shown_in_another_band(doctor: TestClient, patient: Any) -> None:
    """CrCl 29.996 is severe: it reads 29.99, never 30 (moderate)."""
    _, patient_id = patient
    fields = {"kind": "titration", "target_mg_day": "30", "kidney_way": "crcl", "crcl_ml_min": "29.996"}
    page = _post(doctor, patient_id, **fields, products="solution:1mg/ml:0.5ml", clinician_override="yes")
    assert page.status_code == 200, _text(page.text)
    text = _text(page.text)
    assert "CrCl 29.99 mL/min, severe" in text
    assert "CrCl 30 " not in text and "30.00 mL/min" not in text
    body = {"kind": "titration", "target_mg_day": 30, "start": "2026-12-01", "crcl_ml_min": 29.996,
            "products": ["solution:1mg/ml"], "clinician_override": True}  # fmt: skip
    data = doctor.post(
        f"/api/patients/{patient_id}/plans/preview", json=body, headers=_api(doctor, "doc@example.org")
    ).json()
    assert data["kidney"]["crcl_ml_min"] == 29.996 and data["kidney"]["crcl_shown"] == "29.99"


def test_a_target_the_tablets_cannot_reach_is_said(patient: tuple[TestClient, int]) -> None:
    client, patient_id = patient
    page = _post(client, patient_id, kind="titration", target_mg_day="60", products="tablet:25mg:halves")
    assert page.status_code == 200
    assert "With 25 mg tablet (halves), the closest to 60 mg/day that can be given is 50 mg/day" in _text(
        page.text
    )
