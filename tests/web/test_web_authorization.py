"""Who may see what: every route that takes an id answers 404 for someone else's, access ends
the moment it is revoked, and anonymous requests are sent to sign in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import csrf_of, page_token, sign_up
from dosewise.services import medicines, plans
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.store.models import AccessGrantRow, DoseSlotRow, InvitationRow, MedicineRow, PatientRow, PlanRow
from dosewise.web.app import route_table

ZONE = "Europe/London"
PUBLIC = {"/", "/sign-in", "/sign-up", "/health", "/api/openapi.json", "/api/session", "/api/push/key"}
# no session: a reminder's signed token is the key (tests/web/test_web_notifications.py)
PUBLIC |= {"/api/notification-actions"}
PUBLIC |= {"/manifest.webmanifest", "/sw.js", "/offline"}  # issue 14: the installable app
SECRET_URL = {"/calendar/{token}.ics"}  # no sign-in: the unguessable token is the key


def _patient_of(engine: Any, user_id: int) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user_id)))


def give_plan(engine: Any, patient_id: int) -> None:
    """A maintenance plan saved yesterday, starting then: doses in the past can be recorded."""
    zone = ZoneInfo(ZONE)
    yesterday = datetime.now(tz=zone) - timedelta(days=1)
    built = build_plan(PlanRequest(kind="maintenance", mg_day=15, start=yesterday.date(), review_weeks=1))
    plans.start_plan(
        engine,
        patient_id=patient_id,
        plan=built.plan,
        times=built.times,
        zone=zone,
        now=yesterday,
        actor="test",
    )


def _today() -> str:
    """The patient's date (the plan form's default first day; a past one needs a tick)."""
    return datetime.now(tz=ZoneInfo(ZONE)).date().isoformat()


def _first(engine: Any, query: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(query))


@pytest.fixture
def two_patients(web_app: Any) -> dict[str, Any]:
    """Alice (with a plan, a medicine, a caregiver and an open invitation) and Bob, each in
    their own browser."""
    engine = web_app.state.context.engine
    alice, bob, carol = (TestClient(web_app, follow_redirects=False) for _ in range(3))
    for client in (alice, bob, carol):
        client.__enter__()
    alice_id = sign_up(alice, "alice@example.org")
    bob_id = sign_up(bob, "bob@example.org")
    sign_up(carol, "carol@example.org", role="caregiver")
    alice_patient, bob_patient = _patient_of(engine, alice_id), _patient_of(engine, bob_id)
    for patient in (alice_patient, bob_patient):
        give_plan(engine, patient)
        medicines.add_medicine(
            engine, patient_id=patient, name="tramadol", now=datetime.now(tz=ZoneInfo(ZONE)), actor="t"
        )
    code = _invite(alice, alice_patient, "caregiver")
    joined = carol.post("/join", data={"csrf_token": page_token(carol, "/join"), "code": code})
    assert joined.status_code == 303
    _invite(alice, alice_patient, "clinician")  # left open: an invitation id to probe
    ids = {
        "patient_id": alice_patient,
        "slot_id": _first(
            engine,
            select(DoseSlotRow.id)
            .join(PlanRow)
            .where(PlanRow.patient_id == alice_patient)
            .order_by(DoseSlotRow.id),
        ),
        "medicine_id": _first(engine, select(MedicineRow.id).where(MedicineRow.patient_id == alice_patient)),
        "plan_id": _first(engine, select(PlanRow.id).where(PlanRow.patient_id == alice_patient)),
        "grant_id": _first(
            engine, select(AccessGrantRow.id).where(AccessGrantRow.patient_id == alice_patient)
        ),
        "invitation_id": _first(
            engine, select(InvitationRow.id).where(InvitationRow.patient_id == alice_patient)
        ),
        "request_id": _ask_review(engine, alice_patient, alice_id),
    }
    yield {"alice": alice, "bob": bob, "carol": carol, "ids": ids, "bob_patient": bob_patient}
    for client in (alice, bob, carol):
        client.__exit__(None, None, None)


def _ask_review(engine: Any, patient_id: int, user_id: int) -> int:
    """A review request of the patient's (issue 14), asked by the patient."""
    from dosewise.services.access import PatientAccess
    from dosewise.services.review_requests import ask_review

    owner = PatientAccess(patient_id=patient_id, name="Alice", time_zone=ZONE, relation="owner")
    return ask_review(engine, caller=owner, reason="dose_question", message="Can I go up?",
                      now=datetime.now(tz=ZoneInfo(ZONE)), actor=f"user:{user_id}")  # fmt: skip


def _invite(client: TestClient, patient_id: int, role: str) -> str:
    page = client.post(
        f"/patients/{patient_id}/invitations",
        data={"csrf_token": page_token(client, f"/patients/{patient_id}/access"), "role": role},
    )
    assert page.status_code == 200
    found = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
    assert found, page.text
    return found[1]


def _routes_with(name: str) -> list[tuple[str, str]]:
    found = []
    for route in route_table():
        if "{" + name + "}" in route.path:
            found.extend((method, route.path) for method in sorted(route.methods - {"HEAD"}))
    return found


def _call(client: TestClient, method: str, template: str, ids: dict[str, int]) -> Any:
    """The request a signed-in user would send, with their own CSRF token and a valid body."""
    token = page_token(client)
    path = template.format(**ids)
    if path.startswith("/api/"):
        body = {
            "status": "taken",
            "penn_frequency": 0,
            "spasticity": 2,
            "text": "a note",
            "name": "ibuprofen",
            "symptoms": ["drowsy"],
            "missed": "08:00",
            "kind": "maintenance",
            "mg_day": 15,
            "start": _today(),
            "change": "undo",
            "reason": "dose_question",
            "message": "a question",
        }
        fields = _body_fields(method, template)
        return client.request(
            method, path, json={k: v for k, v in body.items() if k in fields}, headers={"x-csrf-token": token}
        )
    form = {
        "csrf_token": token,
        "status": "taken",
        "role": "caregiver",
        "name": "ibuprofen",
        "text": "note",
        "kind": "maintenance",
        "mg_day": "15",
        "change": "undo",
        "reason": "dose_question",
        "message": "a question",
    }
    return client.request(method, path, data=form if method == "POST" else None)


def _body_fields(method: str, path: str) -> set[str]:
    for route in route_table():
        if route.path == path and method in route.methods and route.body_field:
            return set(route.body_field.field_info.annotation.model_fields)
    return set()


def test_every_route_with_a_patient_id_hides_another_patients_data(two_patients: dict[str, Any]) -> None:
    bob, ids = two_patients["bob"], two_patients["ids"]
    routes = _routes_with("patient_id")
    assert len(routes) >= 30  # pages and API: a route added later is covered automatically
    for method, template in routes:
        response = _call(bob, method, template, ids)
        assert response.status_code == 404, (method, template, response.status_code, response.text[:200])
        assert "Alice" not in response.text and "tramadol" not in response.text


@pytest.mark.parametrize("name", ["slot_id", "medicine_id", "grant_id", "invitation_id", "request_id"])
def test_another_patients_item_under_ones_own_patient_is_not_found(
    two_patients: dict[str, Any], name: str
) -> None:
    bob = two_patients["bob"]
    ids = {**two_patients["ids"], "patient_id": two_patients["bob_patient"]}  # Bob's patient, Alice's item
    routes = _routes_with(name)
    assert routes
    for method, template in routes:
        response = _call(bob, method, template, ids)
        assert response.status_code == 404, (method, template, response.status_code, response.text[:200])


def test_a_revoked_caregiver_loses_access_at_once(two_patients: dict[str, Any]) -> None:
    alice, carol, ids = two_patients["alice"], two_patients["carol"], two_patients["ids"]
    patient = ids["patient_id"]
    assert carol.get(f"/patients/{patient}/today").status_code == 200
    assert carol.get(f"/api/patients/{patient}/today").status_code == 200
    carol_token = page_token(carol, "/join")
    revoked = alice.post(
        f"/patients/{patient}/access/{ids['grant_id']}/revoke",
        data={"csrf_token": page_token(alice, f"/patients/{patient}/access")},
    )
    assert revoked.status_code == 303
    # the same signed-in session, the very next request
    assert carol.get(f"/patients/{patient}/today").status_code == 404
    assert carol.get(f"/api/patients/{patient}/today").status_code == 404
    dose = carol.post(
        f"/api/patients/{patient}/doses/{ids['slot_id']}",
        json={"status": "taken"},
        headers={"X-CSRF-Token": carol_token},
    )
    assert dose.status_code == 404  # the session and the revoked grant are read in one statement
    assert carol.get("/api/patients").json() == []
    assert "Alice" not in carol.get("/patients").text


def test_a_caregiver_acts_but_cannot_manage_access_and_a_clinician_cannot_record(
    two_patients: dict[str, Any],
) -> None:
    carol, ids = two_patients["carol"], two_patients["ids"]
    patient = ids["patient_id"]
    recorded = carol.post(
        f"/patients/{patient}/doses/{ids['slot_id']}",
        data={"csrf_token": page_token(carol), "status": "taken"},
    )
    assert recorded.status_code == 303
    # issue 12: caregivers record doses, symptoms and notes; they cannot change the plan
    plan = {"kind": "maintenance", "mg_day": "30", "start": _today()}
    for action in ("preview", "save"):
        page = carol.post(
            f"/patients/{patient}/plans", data={"csrf_token": page_token(carol), "action": action, **plan}
        )
        assert page.status_code == 403, action
    token = page_token(carol)
    for path in ("plans", "plans/preview", "plans/commit"):
        body = {"draft": "x"} if path.endswith("commit") else {**plan, "mg_day": 30}
        api = carol.post(f"/api/patients/{patient}/{path}", json=body, headers={"x-csrf-token": token})
        assert api.status_code == 403, path
    assert carol.get(f"/api/patients/{patient}/plan").status_code == 200  # seeing it is fine
    assert carol.get(f"/patients/{patient}/access").status_code == 403
    invite = carol.post(
        f"/patients/{patient}/invitations", data={"csrf_token": page_token(carol), "role": "caregiver"}
    )
    assert invite.status_code == 403


def test_anonymous_requests_are_sent_to_sign_in(web: TestClient) -> None:
    checked = 0
    for route in route_table():
        if route.path in SECRET_URL:  # a made-up token is simply not found, whoever asks
            assert web.get(route.path.format(token="x" * 43)).status_code == 404
            continue
        if route.path in PUBLIC:
            continue
        path = route.path.format(
            patient_id=1,
            slot_id=1,
            medicine_id=1,
            grant_id=1,
            invitation_id=1,
            plan_id=1,
            request_id=1,
            user_id=1,
        )
        for method in sorted(route.methods - {"HEAD"}):
            response = web.request(method, path)
            checked += 1
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path)
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/sign-in?next="), (method, path)
    assert checked >= 40


def test_after_signing_in_the_user_lands_where_they_were_going(web: TestClient) -> None:
    user_id = sign_up(web, "dana@example.org")
    assert user_id
    web.post("/sign-out", data={"csrf_token": page_token(web)})
    first = web.get("/patients/1/diary")
    assert first.headers["location"] == "/sign-in?next=%2Fpatients%2F1%2Fdiary"
    form = web.get(first.headers["location"])
    signed_in = web.post(
        "/sign-in",
        data={
            "csrf_token": csrf_of(form.text),
            "email": "dana@example.org",
            "password": "correct horse battery",
            "next": "/patients/1/diary",
        },
    )
    assert signed_in.headers["location"] == "/patients/1/diary"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(web: TestClient, target: str) -> None:
    sign_up(web, "erin@example.org")
    web.post("/sign-out", data={"csrf_token": page_token(web)})
    form = web.get("/sign-in")
    response = web.post(
        "/sign-in",
        data={
            "csrf_token": csrf_of(form.text),
            "email": "erin@example.org",
            "password": "correct horse battery",
            "next": target,
        },
    )
    assert response.headers["location"] == "/"


def test_a_clinician_sees_a_linked_patient_and_cannot_override_for_an_unlinked_one(web_app: Any) -> None:
    engine = web_app.state.context.engine
    with (
        TestClient(web_app, follow_redirects=False) as pat,
        TestClient(web_app, follow_redirects=False) as doc,
    ):
        patient = _patient_of(engine, sign_up(pat, "pat@example.org", name="Pat Example"))
        sign_up(doc, "doc@example.org", role="clinician", name="Dr Doc")
        assert "Pat Example" not in doc.get("/clinic").text
        code = _invite(pat, patient, "clinician")
        assert (
            doc.post("/join", data={"csrf_token": page_token(doc, "/join"), "code": code}).status_code == 303
        )
        clinic = doc.get("/clinic")
        assert "Pat Example" in clinic.text
        # a code works once
        again = doc.post("/join", data={"csrf_token": page_token(doc, "/join"), "code": code})
        assert again.status_code == 400 and "not valid" in again.text
        # the patient cannot use the override; the linked clinician can
        form = {
            "csrf_token": page_token(pat),
            "action": "preview",
            "kind": "titration",
            "target_mg_day": "30",
            "start": _today(),
            "kidney_way": "dialysis",
            "clinician_override": "yes",
            "products": "solution:1mg/ml",
        }
        refused = pat.post(f"/patients/{patient}/plans", data=form)
        assert refused.status_code == 400 and "only the patient&#39;s clinician can override" in refused.text
        allowed = doc.post(f"/patients/{patient}/plans", data={**form, "csrf_token": page_token(doc)})
        assert allowed.status_code == 200 and "Preview" in allowed.text


@pytest.mark.parametrize(
    ("field", "value"), [("review_weeks", "2.5"), ("review_weeks", "two"), ("min_days", "-1")]
)
def test_the_plan_form_never_changes_a_number_quietly(web: TestClient, field: str, value: str) -> None:
    sign_up(web, "ua@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    form = {
        "csrf_token": page_token(web),
        "action": "preview",
        "kind": "maintenance",
        "mg_day": "15",
        "start": _today(),
        field: value,
    }
    response = web.post(f"/patients/{patient}/plans", data=form)
    assert response.status_code == 400 and "must be a whole number" in response.text
    assert f'value="{value}"' in response.text  # the form comes back as typed


def test_today_and_a_dose_read_the_session_and_access_in_one_statement(two_patients: dict[str, Any]) -> None:
    """Issue 11: a request for a patient reads its session, user and access to that patient in
    one statement (checked on every request), then does its work in one transaction."""
    from sqlalchemy import event

    alice, carol, ids = two_patients["alice"], two_patients["carol"], two_patients["ids"]
    engine = alice.app.state.context.engine
    patient = ids["patient_id"]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def sent(client: TestClient, method: str, path: str, **kwargs: Any) -> list[str]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.request(method, path, **kwargs).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return [s for s in statements if not s.startswith("BEGIN")]

    for client in (alice, carol):  # the patient, and a caregiver let in by a grant
        today = sent(client, "GET", f"/api/patients/{patient}/today")
        assert len(today) == 3, today  # session + access, then the patient's now and the doses
        assert "web_sessions" in today[0] and "access_grants" in today[0]
    token = page_token(carol, "/join")
    dose = sent(carol, "POST", f"/api/patients/{patient}/doses/{ids['slot_id']}", json={"status": "taken"},
                headers={"X-CSRF-Token": token})  # fmt: skip
    assert len(dose) == 4, dose  # session + access, the slot, the dose, its audit row
