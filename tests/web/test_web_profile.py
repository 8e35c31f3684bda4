"""About me and How to take it: the patient and their clinician change About me, a caregiver
sees it; a bad country is shown next to its field; the advice follows on Today, the plan page
and the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import page_token, sign_up


def _patient_id(client: TestClient) -> int:
    return int(client.get("/api/patients").json()[0]["id"])


def _invite_and_join(patient: TestClient, patient_id: int, other: TestClient, role: str) -> None:
    page = patient.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(patient, f"/patients/{patient_id}/access"), "role": role},
    )
    code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert code, page.text
    joined = other.post("/join", data={"csrf_token": page_token(other, "/join"), "code": code[1]})
    assert joined.status_code == 303


@pytest.fixture
def people(web_app: Any) -> Any:
    """A patient, their caregiver and their clinician, each signed in in their own browser."""
    clients = [TestClient(web_app, follow_redirects=False) for _ in range(3)]
    for client in clients:
        client.__enter__()
    patient, caregiver, clinician = clients
    sign_up(patient, "pat@example.org", name="Pat Jones")
    sign_up(caregiver, "care@example.org", role="caregiver")
    sign_up(clinician, "doc@example.org", role="clinician")
    patient_id = _patient_id(patient)
    _invite_and_join(patient, patient_id, caregiver, "caregiver")
    _invite_and_join(patient, patient_id, clinician, "clinician")
    yield {"patient": patient, "caregiver": caregiver, "clinician": clinician, "id": patient_id}
    for client in clients:
        client.__exit__(None, None, None)


def _save(client: TestClient, patient_id: int, **fields: str) -> Any:
    token = page_token(client, f"/patients/{patient_id}/profile")
    return client.post(f"/patients/{patient_id}/profile", data={"csrf_token": token, **fields})


def test_the_patient_sets_about_me_and_the_advice_follows(people: dict[str, Any]) -> None:
    patient, pid = people["patient"], people["id"]
    page = patient.get(f"/patients/{pid}/profile")
    assert page.status_code == 200
    assert "<h1>About me</h1>" in page.text and 'href="tel:112"' in page.text
    assert "check your local emergency number" in page.text
    assert f'href="/patients/{pid}/profile" aria-current="page"' in page.text  # in the navigation
    saved = _save(patient, pid, country="GB", pregnant="yes", epilepsy="yes")
    assert saved.status_code == 303 and saved.headers["location"].endswith("/profile?done=saved")
    page = patient.get(f"/patients/{pid}/profile?done=saved")
    assert 'href="tel:999"' in page.text and "999 (or 112)" in page.text
    assert '<option value="GB" selected>United Kingdom</option>' in page.text
    assert "Because of pregnancy and epilepsy" in page.text
    for path in ("today", "plans"):
        shown = patient.get(f"/patients/{pid}/{path}").text
        assert "Because of pregnancy and epilepsy" in shown, path
        assert "jitteriness" in shown and "any change in your seizures" in shown
        assert "[US-TAB]" in shown and "(Dosewise wording, not a label" in shown
    # an unticked box is "no": the form says everything
    _save(patient, pid, country="GB")
    assert "Because of" not in patient.get(f"/patients/{pid}/today").text


def test_a_bad_country_is_shown_next_to_its_field_and_nothing_is_saved(people: dict[str, Any]) -> None:
    patient, pid = people["patient"], people["id"]
    page = _save(patient, pid, country="XX", epilepsy="yes")
    assert page.status_code == 400
    assert 'aria-invalid="true" aria-describedby="error-country"' in page.text
    assert 'id="error-country"' in page.text and "no emergency number" in page.text
    assert 'id="epilepsy" name="epilepsy" value="yes" checked' in page.text  # the form as it was sent
    assert patient.get(f"/api/patients/{pid}/profile").json()["epilepsy"] is False


def test_a_caregiver_sees_about_me_but_cannot_change_it(people: dict[str, Any]) -> None:
    patient, caregiver, pid = people["patient"], people["caregiver"], people["id"]
    _save(patient, pid, country="US", breastfeeding="yes")
    page = caregiver.get(f"/patients/{pid}/profile")
    assert page.status_code == 200
    assert (
        "About Pat Jones" in page.text and "Only the patient or their clinician can change this." in page.text
    )
    assert f'<form method="post" action="/patients/{pid}/profile"' not in page.text
    assert 'href="tel:911"' in page.text and "Breastfeeding" in page.text
    token = page_token(caregiver, "/join")
    assert (
        caregiver.post(f"/patients/{pid}/profile", data={"csrf_token": token, "country": "GB"}).status_code
        == 403
    )
    api = caregiver.put(
        f"/api/patients/{pid}/profile", json={"country": "GB"}, headers={"x-csrf-token": token}
    )
    assert api.status_code == 403
    assert caregiver.get(f"/api/patients/{pid}/profile").json()["country"] == "US"


def test_the_clinician_changes_about_me_through_the_api(people: dict[str, Any]) -> None:
    clinician, pid = people["clinician"], people["id"]
    token = page_token(clinician, "/join")
    changed = clinician.put(
        f"/api/patients/{pid}/profile",
        json={"country": "de", "epilepsy": True},
        headers={"x-csrf-token": token},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["country"], body["country_name"], body["epilepsy"], body["pregnant"]) == (
        "DE",
        "Germany",
        True,
        False,
    )
    assert body["emergency"]["number"] == "112" and body["emergency"]["note"] is None
    assert [a["condition"] for a in body["advice"]] == ["epilepsy"]
    assert {s["key"] for s in body["sources"]} == {"OZO", "LYV", "US-TAB", "DOSEWISE"}
    cleared = clinician.put(
        f"/api/patients/{pid}/profile", json={"country": None}, headers={"x-csrf-token": token}
    )
    assert cleared.json()["country"] is None and cleared.json()["epilepsy"] is True  # the rest kept
    assert cleared.json()["emergency"]["note"]
    bad = clinician.put(
        f"/api/patients/{pid}/profile", json={"country": "ZZ"}, headers={"x-csrf-token": token}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "/country"
    extra = clinician.put(
        f"/api/patients/{pid}/profile", json={"smoker": True}, headers={"x-csrf-token": token}
    )
    assert extra.status_code == 422
    page = _save(clinician, pid, country="FR", pregnant="yes")
    assert page.status_code == 303


def test_how_to_take_shows_every_topic_and_the_storage_of_the_patients_products(
    people: dict[str, Any],
) -> None:
    patient, caregiver, pid = people["patient"], people["caregiver"], people["id"]
    page = patient.get(f"/patients/{pid}/how-to-take")
    assert page.status_code == 200
    text = page.text
    assert "<h1>How to take baclofen</h1>" in text
    headings = ["Food and how to swallow it", "When to expect an effect", "The usual dose"]
    headings += ["Dependence is not addiction", "Driving and alcohol", "If you miss a dose", "Storage"]
    for heading in headings:
        assert heading in text, heading
    assert "40 to 80 mg a day" in text and "up to 60 mg a day" in text
    assert "Ozobax oral solution 5 mg/5 mL" in text and "Fleqsuvy" in text  # no plan yet: every product
    assert "https://nhs.uk/medicines/baclofen/how-and-when-to-take-baclofen" in text
    assert caregiver.get(f"/patients/{pid}/how-to-take").status_code == 200


def test_liver_disease_is_kept_in_about_me_and_read_by_other_treatments(people: dict[str, Any]) -> None:
    patient, caregiver, clinician, pid = (
        people["patient"],
        people["caregiver"],
        people["clinician"],
        people["id"],
    )
    page = patient.get(f"/patients/{pid}/profile")
    assert '<option value="not_known" selected>Not known</option>' in page.text  # nobody was asked yet
    assert _save(patient, pid, country="GB", liver="mild").status_code == 303
    assert patient.get(f"/api/patients/{pid}/profile").json()["liver"] == "mild"
    compared = patient.get(f"/api/patients/{pid}/alternatives", params={"drug": "dantrolene"}).json()
    assert (compared["situation"]["liver"], compared["situation"]["liver_from"]) == ("mild", "about_me")
    assert [c["level"] for c in compared["drugs"][0]["cautions"] if c["topic"] == "liver"] == [
        "contraindicated"
    ]
    bad = _save(patient, pid, country="GB", liver="a little")
    assert bad.status_code == 400 and 'aria-describedby="error-liver"' in bad.text
    assert patient.get(f"/api/patients/{pid}/profile").json()["liver"] == "mild"  # nothing saved
    # the clinician may change it (the API, like every About me fact); the caregiver sees it only
    token = page_token(clinician, "/join")
    changed = clinician.put(
        f"/api/patients/{pid}/profile", json={"liver": "none"}, headers={"x-csrf-token": token}
    )
    assert (
        changed.status_code == 200 and changed.json()["liver"] == "none" and changed.json()["country"] == "GB"
    )
    assert (
        clinician.put(
            f"/api/patients/{pid}/profile", json={"liver": "awful"}, headers={"x-csrf-token": token}
        ).status_code
        == 422
    )
    shown = caregiver.get(f"/patients/{pid}/profile").text
    assert "<dt>Liver disease</dt><dd>No liver disease</dd>" in shown
    care_token = page_token(caregiver, "/join")
    refused = caregiver.put(
        f"/api/patients/{pid}/profile", json={"liver": "severe"}, headers={"x-csrf-token": care_token}
    )
    assert refused.status_code == 403
