"""The triage results kept for a patient are visible to everyone the patient let in: the safety
checks page, the API, and the clinician's list (issue 13)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import page_token, sign_up
from dosewise.services import triage
from dosewise.store.models import PatientRow


def _invite(client: TestClient, patient_id: int, role: str) -> str:
    page = client.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/access"), "role": role},
    )
    found = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert found, page.text
    return found[1]


def _join(client: TestClient, code: str) -> None:
    joined = client.post("/join", data={"csrf_token": page_token(client, "/join"), "code": code})
    assert joined.status_code == 303


def test_a_caregiver_and_a_clinician_see_a_stored_emergency(web_app: Any) -> None:
    engine = web_app.state.context.engine
    clients = [TestClient(web_app, follow_redirects=False) for _ in range(5)]
    patient, carer, doctor, stranger, anonymous = clients
    for client in clients:
        client.__enter__()
    try:
        user_id = sign_up(patient, "ana@example.org", name="Ana", zone="America/New_York")
        sign_up(carer, "cai@example.org", role="caregiver")
        sign_up(doctor, "doc@example.org", role="clinician")
        sign_up(stranger, "sam@example.org")
        with engine.connect() as connection:
            patient_id = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user_id))
        _join(carer, _invite(patient, patient_id, "caregiver"))
        _join(doctor, _invite(patient, patient_id, "clinician"))
        now = datetime.now(tz=UTC)
        triage.triage_patient(engine, patient_id=patient_id, symptoms=["drowsiness"],
                              answers={"breathing": False}, now=now - timedelta(hours=2),
                              actor=f"user:{user_id}")  # fmt: skip
        triage.triage_patient(engine, patient_id=patient_id, symptoms=["seizure", "feel strange"],
                              answers={"breathing": True}, now=now - timedelta(minutes=5),
                              actor=f"user:{user_id}")  # fmt: skip

        path = f"/patients/{patient_id}/triage/history"
        for client in (patient, carer, doctor):
            page = client.get(path)
            assert page.status_code == 200, page.text
            text = page.text
            assert "⚠ EMERGENCY" in text and "Routine" in text
            assert text.index("⚠ EMERGENCY") < text.index("Routine")  # newest first
            assert "Is breathing slow, shallow, noisy or difficult? yes" in text
            assert "Ticked: a seizure" in text and "Typed: “feel strange”" in text
            assert "a seizure: a danger sign [US-TAB, OZO, LYV]" in text
            assert "Asked by Ana (patient)" in text and "[LYV]" in text  # who, and the sources cited
            assert "1 emergency safety check" in text
            assert f'href="{path}"' in text  # in the patient's menu
        assert stranger.get(path).status_code == 404  # not let in: as if there were no such patient

        api = f"/api/patients/{patient_id}/triage"
        for client in (patient, carer, doctor):
            listed = client.get(api)
            assert listed.status_code == 200, listed.text
            first, second = listed.json()
            assert (first["level"], second["level"]) == ("emergency", "routine")
            assert first["recorded_at"].endswith("-05:00") or first["recorded_at"].endswith("-04:00")
            assert {"key": "breathing", "question": "Is breathing slow, shallow, noisy or difficult?",
                    "answer": True} in first["said"]["answers"]  # fmt: skip
            assert first["said"]["ticked"] == ["a seizure"] and first["said"]["typed"] == ["feel strange"]
            assert "LYV" in first["sources"] and first["reasons"]
            assert first["recorded_by"] == f"user:{user_id}" and first["recorded_by_name"] == "Ana (patient)"
        assert len(doctor.get(api, params={"limit": 1}).json()) == 1
        assert stranger.get(api).status_code == 404
        assert anonymous.get(api).status_code == 401

        # the clinician's list: the emergency, when it was given, and a way to the checks
        clinic = doctor.get("/clinic")
        row = clinic.text[clinic.text.index(">Ana</a>") :].split("</tr>")[0]
        given = (now - timedelta(minutes=5)).astimezone(ZoneInfo("America/New_York"))
        assert f"emergency triage on {given:%-d %b %H:%M}" in row, row  # the patient's zone
        assert f'href="{path}"' in row
    finally:
        for client in clients:
            client.__exit__(None, None, None)
