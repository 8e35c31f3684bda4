"""The guided triage on the pages and the API: questions first, the result first and kept, an
emergency entered in the diary shown at the top of the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import sign_up, web_settings
from dosewise.cli.safety import TRIAGE_QUESTIONS
from dosewise.monographs import load_monograph
from dosewise.services.inputs import TRIAGE_QUESTION_KEYS
from dosewise.services.triage import triage_history
from dosewise.store.models import PatientRow
from dosewise.web.app import create_app


@pytest.fixture
def signed_in_patient(tmp_path: Any) -> Any:
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    with TestClient(app, follow_redirects=False) as client:
        user = sign_up(client, "pat@example.org")
        engine = app.state.context.engine
        with engine.connect() as connection:
            patient_id = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user))
        yield client, patient_id, engine


@pytest.fixture
def api_patient(tmp_path: Any) -> Any:
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'api.sqlite3'}"))
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "api@example.org")
        web.cookies.clear()
        signed = web.post(
            "/api/session", json={"email": "api@example.org", "password": "correct horse battery"}
        )
        patient = web.get("/api/patients").json()[0]["id"]
        yield web, patient, {"x-csrf-token": signed.json()["csrf_token"]}


def test_the_cli_and_the_forms_ask_the_monographs_questions():
    keys = tuple(q.key for q in load_monograph("baclofen").triage_questions)
    assert tuple(key for key, _ in TRIAGE_QUESTIONS) == keys == TRIAGE_QUESTION_KEYS


def test_an_emergency_in_the_diary_is_shown_first(signed_in_patient):
    client, patient_id, engine = signed_in_patient
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/patients/{patient_id}/diary").text)
    response = client.post(
        f"/patients/{patient_id}/diary/symptoms",
        data={"csrf_token": token.group(1), "penn_frequency": "0", "spasticity": "3",
              "side_effects": ["hallucinations:3", "confusion:2"]},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert "URGENT" in page and page.index("URGENT") < page.index("How have you been?")
    assert "Saved in the diary." not in page
    assert [r.level for r in triage_history(engine, patient_id=patient_id)] == ["urgent"]


def test_the_page_asks_the_questions_first_and_keeps_the_result(signed_in_patient):
    client, patient_id, engine = signed_in_patient
    page = client.get(f"/patients/{patient_id}/triage")
    assert page.status_code == 200
    text = page.text
    assert text.index("Is breathing slow") < text.index("In your own words")
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    response = client.post(
        f"/patients/{patient_id}/triage",
        data={"csrf_token": token, "breathing": "no", "other": "he is breathing slow and hard to wake"},
    )
    assert response.status_code == 200
    body = response.text
    assert body.index("EMERGENCY") < body.index("First, the danger signs")  # the result comes first
    assert "Kept in the diary" in body
    assert 'href="tel:112"' in body  # no country yet: 112, with a note to check the local number
    kept = triage_history(engine, patient_id=patient_id)
    assert [r.level for r in kept] == ["emergency"]
    assert kept[0].answers == {"breathing": False}


def test_unrecognised_words_ask_the_questions_again(signed_in_patient):
    client, patient_id, _ = signed_in_patient
    text = client.get(f"/patients/{patient_id}/triage").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    body = client.post(
        f"/patients/{patient_id}/triage", data={"csrf_token": token, "other": "feeling peculiar"}
    ).text
    assert "URGENT" in body
    assert "could not read everything" in body
    assert body.count("needs-answer") >= 7


def test_the_api_takes_answers_and_returns_the_kept_result(api_patient):
    client, patient_id, headers = api_patient
    response = client.post(
        f"/api/patients/{patient_id}/triage",
        json={"took_more": True, "amount": "the whole bottle", "other": "very sleepy"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["level"] == "emergency"
    assert data["answers"] == {"took_more": "yes"}
    assert isinstance(data["result_id"], int)
    assert data["emergency_number"]["tel"].startswith("tel:")
