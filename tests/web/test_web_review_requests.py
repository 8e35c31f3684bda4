"""Ask the clinician on the pages and the API (issue 14, point 4): the form again with the
message on bad input, the clinician's list, the answer form, a plan change from the request,
and who may do what."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_of, page_token, sign_up
from dosewise.store.models import NotificationRow, PatientRow, ReviewRequestRow

ZONE = "Europe/London"


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


@pytest.fixture
def team(web_app: Any) -> Any:
    """Sam (a patient), Lee (caregiver) and Dr Haddad (clinician), each in their own browser."""
    engine = web_app.state.context.engine
    clients = {name: TestClient(web_app, follow_redirects=False) for name in ("sam", "lee", "doc")}
    for client in clients.values():
        client.__enter__()
    user = sign_up(clients["sam"], "sam@example.org", name="Sam Rowe")
    sign_up(clients["lee"], "lee@example.org", role="caregiver", name="Lee Rowe")
    sign_up(clients["doc"], "doc@example.org", role="clinician", name="Dr Noor Haddad")
    with engine.connect() as connection:
        patient = int(connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user)))
    _join(clients["lee"], _invite(clients["sam"], patient, "caregiver"))
    _join(clients["doc"], _invite(clients["sam"], patient, "clinician"))
    yield {**clients, "patient": patient, "engine": engine}
    for client in clients.values():
        client.__exit__(None, None, None)


def _count(engine: Any, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)))


def _ask(client: TestClient, patient: int, **form: str) -> Any:
    data = {"csrf_token": page_token(client, f"/patients/{patient}/review-requests"), **form}
    return client.post(f"/patients/{patient}/review-requests", data=data)


def test_ask_answer_and_see_the_answer_on_the_pages(team: Any) -> None:
    sam, doc, patient, engine = team["sam"], team["doc"], team["patient"], team["engine"]
    base = f"/patients/{patient}"
    assert f'href="{base}/review-requests"' in sam.get(f"{base}/today").text  # from Today
    assert f'href="{base}/review-requests"' in sam.get(f"{base}/plans").text  # and the plan page
    # bad input: the form again, with the message and what was typed; nothing kept
    bad = _ask(sam, patient, reason="side_effects", message="x" * 1001)
    assert bad.status_code == 400
    assert "Your message: the message" in bad.text and "1000 characters" in bad.text
    assert 'value="side_effects" required checked' in bad.text and "x" * 1001 in bad.text
    missing = _ask(sam, patient, message="Very sleepy")
    assert missing.status_code == 400 and "Why: give why" in missing.text and "Very sleepy" in missing.text
    assert _count(engine, ReviewRequestRow) == 0 and _count(engine, NotificationRow) == 0
    sent = _ask(sam, patient, reason="side_effects", message="Very sleepy after the morning dose")
    assert sent.status_code == 303
    url = sent.headers["location"].split("?")[0]
    page = sam.get(sent.headers["location"])
    assert (
        "Sent to the clinicians" in page.text and "<strong>Open</strong>: waiting under an hour" in page.text
    )
    assert "Withdraw this request" in page.text and "Send the answer" not in page.text
    report = sam.get(f"{url}/report")
    assert report.status_code == 200 and "Sam Rowe" in report.text
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    # the clinician: first on the list with why and how long, then the request and its answer
    clinic = doc.get("/clinic").text
    assert "review request: side effects, waiting under an hour" in clinic and f'href="{url}"' in clinic
    request_page = doc.get(url).text
    assert "Very sleepy after the morning dose" in request_page and "Send the answer" in request_page
    assert f'href="{base}/plans?request=' in request_page
    empty = doc.post(f"{url}/answers", data={"csrf_token": page_token(doc), "message": "  "})
    assert empty.status_code == 400 and "give the answer" in empty.text and "Send the answer" in empty.text
    answered = doc.post(
        f"{url}/answers", data={"csrf_token": page_token(doc), "message": "Halve the morning dose"}
    )
    assert answered.status_code == 303
    seen = sam.get(url).text
    assert (
        "<strong>Answered</strong> by Dr Noor Haddad (clinician)" in seen and "Halve the morning dose" in seen
    )
    assert "Withdraw this request" not in seen
    inbox = sam.get("/notifications").text
    assert "Dr Noor Haddad (clinician) answered the review request" in inbox
    assert "Nothing flagged" in doc.get("/clinic").text or "No plan yet" in doc.get("/clinic").text
    assert (
        "asked the clinician (side effects): answered: Halve the morning dose"
        in sam.get(f"{base}/diary").text
    )


def _plan_form(token: str, **more: str) -> dict[str, str]:
    today = datetime.now(tz=ZoneInfo(ZONE)).date().isoformat()
    return {"csrf_token": token, "kind": "maintenance", "mg_day": "20", "start": today, **more}


def test_a_plan_change_from_the_request_answers_it(team: Any) -> None:
    sam, lee, doc, patient = team["sam"], team["lee"], team["doc"], team["patient"]
    base = f"/patients/{patient}"
    sent = _ask(lee, patient, reason="no_benefit", message="No better after two weeks")  # the caregiver asks
    url = sent.headers["location"].split("?")[0]
    request_id = url.rsplit("/", 1)[1]
    page = doc.get(f"{base}/plans?request={request_id}")
    assert "Answering the review request of" in page.text and "No better after two weeks" in page.text
    token = csrf_of(page.text)
    preview = doc.post(f"{base}/plans", data=_plan_form(token, action="preview", review_request=request_id))
    assert preview.status_code == 200 and f'name="review_request" value="{request_id}"' in preview.text
    draft = re.search(r'name="draft" value="([^"]+)"', preview.text)
    takeover = re.search(r'name="previewed_takeover" value="([^"]+)"', preview.text)
    assert draft and takeover
    saved = doc.post(
        f"{base}/plans",
        data=_plan_form(
            token,
            action="save",
            draft=draft[1],
            previewed_takeover=takeover[1],
            review_request=request_id,
            reason="a higher dose to try",
        ),
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?done=plan"
    seen = sam.get(url).text
    assert "Answered: the plan was changed" in seen and "a higher dose to try" in seen
    for client in (sam, lee):
        assert "answered the review request: the plan is changed" in client.get("/notifications").text
    # the request is closed: the plan page no longer answers it
    again = doc.get(f"{base}/plans?request={request_id}")
    assert again.status_code == 200 and "Answering the review request" not in again.text
    assert doc.get(f"{base}/plans?request=99999").status_code == 404


def test_who_may_ask_answer_and_withdraw(team: Any) -> None:
    sam, lee, doc, patient = team["sam"], team["lee"], team["doc"], team["patient"]
    assert _ask(doc, patient, reason="other", message="I ask myself?").status_code == 403
    url = _ask(sam, patient, reason="other", message="A question").headers["location"].split("?")[0]
    for client in (sam, lee):
        refused = client.post(f"{url}/answers", data={"csrf_token": page_token(client), "message": "Yes"})
        assert refused.status_code == 403
    assert doc.post(f"{url}/withdraw", data={"csrf_token": page_token(doc)}).status_code == 403
    plan_as_patient = sam.get(f"/patients/{patient}/plans?request={url.rsplit('/', 1)[1]}")
    assert plan_as_patient.status_code == 404  # only a clinician answers with a plan
    withdrawn = lee.post(f"{url}/withdraw", data={"csrf_token": page_token(lee)})
    assert withdrawn.status_code == 303
    assert "<strong>Withdrawn</strong>" in sam.get(url).text
    again = doc.post(f"{url}/answers", data={"csrf_token": page_token(doc), "message": "Yes"})
    assert again.status_code == 409


def test_the_api_asks_lists_and_answers(team: Any) -> None:
    sam, doc, patient = team["sam"], team["doc"], team["patient"]
    path = f"/api/patients/{patient}/review-requests"
    sam_token, doc_token = page_token(sam), page_token(doc)
    bad = sam.post(path, json={"reason": "dose_question", "message": ""}, headers={"x-csrf-token": sam_token})
    assert bad.status_code == 422 and bad.json()["field"] == "/message"
    wrong = sam.post(path, json={"reason": "bored", "message": "x"}, headers={"x-csrf-token": sam_token})
    assert wrong.status_code == 422
    created = sam.post(path, json={"reason": "dose_question", "message": "Earlier evening dose?"},
                       headers={"x-csrf-token": sam_token})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert (body["state"], body["reason"], body["answer"]) == ("open", "dose_question", None)
    assert body["report_url"] == f"/patients/{patient}/review-requests/{body['id']}/report"
    assert [item["id"] for item in doc.get(path).json()] == [body["id"]]
    answers = f"{path}/{body['id']}/answers"
    assert sam.post(answers, json={"message": "Yes"}, headers={"x-csrf-token": sam_token}).status_code == 403
    answered = doc.post(answers, json={"message": "Yes, from 18:00"}, headers={"x-csrf-token": doc_token})
    assert answered.status_code == 201
    assert answered.json()["state"] == "answered"
    assert answered.json()["answer"]["message"] == "Yes, from 18:00"
    assert answered.json()["answer"]["kind"] == "message"
    again = doc.post(answers, json={"message": "Again"}, headers={"x-csrf-token": doc_token})
    assert again.status_code == 409
    assert (
        sam.get(f"{path}/{body['id']}").json()["answer"]["answered_by_name"] == "Dr Noor Haddad (clinician)"
    )
