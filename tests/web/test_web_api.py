"""The JSON API: the same use cases as the pages, signed in the same way; and schemathesis,
generating requests from the app's own OpenAPI document, finds no 5xx and no response that
breaks the schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from conftest import sign_up, web_settings
from dosewise.store.models import DoseEventRow
from dosewise.web.app import create_app

PASSWORD = "correct horse battery"


class Clock:
    """The app's "now", moved by the test."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))  # before the first dose of the day


@pytest.fixture
def api(tmp_path: Any, clock: Clock) -> Any:
    """A patient signed in through the API, with their CSRF token; the app's clock is ``clock``."""
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'api.sqlite3'}"), clock=clock)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "api@example.org", zone="UTC")
        web.cookies.clear()
        signed = web.post("/api/session", json={"email": "api@example.org", "password": PASSWORD})
        assert signed.status_code == 200
        body = signed.json()
        assert body["user"]["role"] == "patient"
        patient = web.get("/api/patients").json()[0]["id"]
        yield {"client": web, "headers": {"x-csrf-token": body["csrf_token"]}, "patient": patient}


def _plan(api: dict[str, Any], **fields: Any) -> Any:
    body = {"kind": "titration", "target_mg_day": 30, "start": "2026-12-01", "crcl_ml_min": 45, **fields}
    return api["client"].post(f"/api/patients/{api['patient']}/plans", json=body, headers=api["headers"])


def test_a_patient_plans_records_and_checks_through_the_api(api: dict[str, Any], clock: Clock) -> None:
    client, headers, patient = api["client"], api["headers"], api["patient"]
    preview = client.post(
        f"/api/patients/{patient}/plans/preview",
        json={"kind": "titration", "target_mg_day": 30, "start": "2026-12-01", "crcl_ml_min": 45},
        headers=headers,
    )
    assert preview.status_code == 200
    assert preview.json()["kidney"]["band"] == "moderate" and "prescriber" in preview.json()["disclaimer"]
    # the first step is one 5 mg dose in the evening (kidney-adjusted): its first dose time
    assert preview.json()["change"]["takes_over"] == "2026-12-01T20:00:00+00:00"
    assert client.get(f"/api/patients/{patient}/plan").status_code == 404  # a preview stores nothing
    saved = _plan(api)
    assert saved.status_code == 201
    assert saved.json()["plan"]["open_ended"] is True
    assert saved.json()["plan"]["after_last_step"].startswith("then continues at")
    today = client.get(f"/api/patients/{patient}/today").json()
    assert today["doses"], today
    # at 23:00, the 20:00 dose taken three hours late: stored as late
    clock.moment = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    engine = client.app.state.context.engine
    with engine.connect() as connection:
        from dosewise.store.models import DoseSlotRow

        slot, due = connection.execute(
            select(DoseSlotRow.id, DoseSlotRow.due_at).order_by(DoseSlotRow.due_at)
        ).first()
    taken_at = (due + timedelta(hours=3)).replace(tzinfo=UTC).isoformat()
    recorded = client.post(
        f"/api/patients/{patient}/doses/{slot}",
        json={"status": "taken", "taken_at": taken_at},
        headers=headers,
    )
    assert recorded.status_code == 200 and recorded.json()["status"] == "late" and recorded.json()["created"]
    again = client.post(f"/api/patients/{patient}/doses/{slot}", json={"status": "skipped"}, headers=headers)
    assert again.json() == {**recorded.json(), "created": False}  # recorded once per slot
    assert datetime.fromisoformat(recorded.json()["taken_at"]) == datetime.fromisoformat(taken_at)
    entry = client.post(
        f"/api/patients/{patient}/symptoms",
        json={"penn_frequency": 2, "penn_severity": 1, "spasticity": 4, "side_effects": {"drowsiness": 2}},
        headers=headers,
    )
    assert entry.status_code == 201
    medicines = client.post(f"/api/patients/{patient}/medicines", json={"name": "tramadol"}, headers=headers)
    findings = medicines.json()["interactions"]["findings"]
    assert [f["medicine"] for f in findings] == ["tramadol"] and findings[0]["severity"] == "major"
    triage = client.post(f"/api/patients/{patient}/triage", json={"symptoms": ["seizure"]}, headers=headers)
    assert triage.json()["level"] == "emergency"
    clock.moment = datetime(2026, 12, 2, 20, 30, tzinfo=UTC)  # the next evening's dose not taken yet
    missed = client.post(f"/api/patients/{patient}/missed", json={"missed": "20:00"}, headers=headers)
    assert missed.status_code == 200 and missed.json()["action"] in (
        "take_now",
        "skip",
        "contact_prescriber",
    ), missed.text
    fhir = client.get(f"/api/patients/{patient}/fhir").json()
    assert fhir["resourceType"] == "Bundle"
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DoseEventRow)) == 1


def test_refusals_and_bad_input_are_clear_json(api: dict[str, Any]) -> None:
    client, headers, patient = api["client"], api["headers"], api["patient"]
    refused = _plan(api, crcl_ml_min=None, dialysis=True)
    assert refused.status_code == 422 and "clinician" in refused.json()["detail"]
    assert refused.json()["overridable"] is True
    override = _plan(api, crcl_ml_min=None, dialysis=True, clinician_override=True)
    assert override.status_code == 400 and "only the patient's clinician" in override.json()["detail"]
    assert override.json()["field"] == "/clinician_override"
    too_much = _plan(api, target_mg_day=200, crcl_ml_min=None)
    assert too_much.status_code == 400 and "never plans" in too_much.json()["detail"]
    bad = client.post(
        f"/api/patients/{patient}/symptoms", json={"penn_frequency": 9, "spasticity": 2}, headers=headers
    )
    assert bad.status_code == 422 and "penn_frequency" in bad.text
    assert bad.json()["field"] == "/penn_frequency"
    naive = client.post(
        f"/api/patients/{patient}/doses/1",
        json={"status": "taken", "taken_at": "2026-12-01T08:00:00"},
        headers=headers,
    )
    assert naive.status_code in (400, 404)
    no_token = client.post(f"/api/patients/{patient}/notes", json={"text": "x"})
    assert no_token.status_code == 403
    assert client.get(f"/api/patients/{patient}/plan").status_code == 404  # nothing half-stored


def test_a_wrong_password_and_the_rate_limit_in_the_api(web: TestClient) -> None:
    sign_up(web, "lim@example.org")
    web.cookies.clear()
    for _ in range(5):
        wrong = web.post("/api/session", json={"email": "lim@example.org", "password": "wrong password"})
        assert wrong.status_code == 400
    assert (
        web.post("/api/session", json={"email": "lim@example.org", "password": PASSWORD}).status_code == 429
    )


def test_signing_out_through_the_api(api: dict[str, Any]) -> None:
    client = api["client"]
    assert client.delete("/api/session", headers=api["headers"]).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_the_openapi_document_describes_the_api(web: TestClient) -> None:
    document = web.get("/api/openapi.json").json()
    paths = document["paths"]
    assert all(path.startswith("/api/") for path in paths)  # pages are not part of the API
    assert {
        "/api/session",
        "/api/patients/{patient_id}/today",
        "/api/patients/{patient_id}/doses/{slot_id}",
        "/api/patients/{patient_id}/plans",
    } <= set(paths)


# --- schemathesis -----------------------------------------------------------------------------


@pytest.fixture
def signed_in_schema(tmp_path: Any) -> Any:
    """The app's own OpenAPI document, loaded by schemathesis, for a patient with a plan."""
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"))
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    sign_up(client, "fuzz@example.org", zone="Europe/London")
    signed = client.post("/api/session", json={"email": "fuzz@example.org", "password": PASSWORD}).json()
    start = datetime.now(tz=ZoneInfo("Europe/London")).date().isoformat()  # a past start needs a tick
    headers = {"x-csrf-token": signed["csrf_token"]}
    assert (
        client.post(
            "/api/patients/1/plans",
            json={"kind": "maintenance", "mg_day": 15, "start": start},
            headers=headers,
        ).status_code
        == 201
    )
    cookie = client.cookies.get("dosewise_session")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    yield {"schema": schema, "headers": {**headers, "cookie": f"dosewise_session={cookie}"}}
    client.__exit__(None, None, None)


def test_the_api_never_fails_and_keeps_to_its_schema(signed_in_schema: Any) -> None:
    schema = signed_in_schema["schema"]
    headers = signed_in_schema["headers"]
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    failures: list[str] = []
    statuses: dict[int, int] = {}
    tested = 0

    for operation in schema.get_all_operations():
        current = operation.ok()
        if current.method.upper() == "DELETE" and current.path == "/api/session":
            continue  # signing out would end the fuzzing session; tested above
        strategy = current.as_strategy()

        def run(case: Any, label: str = current.label) -> None:
            if case.path_parameters and "patient_id" in case.path_parameters:
                case.path_parameters["patient_id"] = 1  # the signed-in patient: fuzz the bodies, not 404s
            try:
                response = case.call_and_validate(headers=headers, checks=checks)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except (Exception, BaseExceptionGroup) as error:  # collect every operation's failures
                failures.append(f"{label}: {str(error)[:600]}")

        settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)(
            given(case=strategy)(lambda case: run(case))  # noqa: PLW0108  (run has a default)
        )()
        tested += 1
    assert tested >= 14
    assert sum(n for code, n in statuses.items() if code < 300) >= 20, statuses  # real work, not only 4xx
    assert not failures, "\n".join(sorted(set(failures))[:20])
