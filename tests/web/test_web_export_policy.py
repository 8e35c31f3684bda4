"""Issue 15, ADR 0018: who may download the diary's data files. A walk over every route that
answers with a file or a FHIR Bundle, as the patient, a caregiver, a clinician and a stranger:
the exports (CSV tables, FHIR, "download everything") are the patient's and their clinicians'
(a caregiver gets 403, a stranger 404); the report and the dose reminders are readings every
relation has. A download route added later must be put in one of the two lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from test_web_authorization import _invite  # the patient's invitation form, as in the walk

from conftest import page_token, sign_up
from dosewise.web.app import route_table

# The exports: the "export" capability (services/access.py CAPABILITIES)
EXPORTS = {
    "/patients/{patient_id}/export/csv.zip",
    "/patients/{patient_id}/export/fhir.json",
    "/api/patients/{patient_id}/fhir",
}
# Readings of the diary, open to every relation (ADR 0018): the report and the dose reminders
READINGS = {
    "/patients/{patient_id}/report/view",
    "/patients/{patient_id}/report.pdf",
    "/patients/{patient_id}/export/calendar.ics",
    "/patients/{patient_id}/review-requests/{request_id}/report",
}


@pytest.fixture
def relations(web_app: Any) -> Any:
    """Pat (the patient), Cara (caregiver), Dr Lee (clinician), and Sol, a stranger."""
    names = ("owner", "caregiver", "clinician", "stranger")
    clients = {name: TestClient(web_app, follow_redirects=False) for name in names}
    for client in clients.values():
        client.__enter__()
    sign_up(clients["owner"], "pat@example.org", name="Pat")
    patient = int(clients["owner"].get("/").headers["location"].split("/")[2])
    _give_plan(web_app.state.context.engine, patient)
    sign_up(clients["caregiver"], "cara@example.org", role="caregiver", name="Cara")
    sign_up(clients["clinician"], "lee@example.org", role="clinician", name="Dr Lee")
    sign_up(clients["stranger"], "sol@example.org", name="Sol")
    for role in ("caregiver", "clinician"):
        code = _invite(clients["owner"], patient, role)
        joined = clients[role].post(
            "/join", data={"csrf_token": page_token(clients[role], "/join"), "code": code}
        )
        assert joined.status_code == 303
    request_id = _ask_review(clients["owner"], patient)
    yield clients, {"patient_id": patient, "request_id": request_id, **_item_ids(web_app, patient)}
    for client in clients.values():
        client.__exit__(None, None, None)


def _give_plan(engine: Any, patient_id: int) -> None:
    """A maintenance plan from yesterday: the reminders file has doses to remind of."""
    from dosewise.services import plans
    from dosewise.services.plans import PlanRequest, build_plan

    zone = ZoneInfo("Europe/London")
    yesterday = datetime.now(tz=zone) - timedelta(days=1)
    built = build_plan(PlanRequest(kind="maintenance", mg_day=15, start=yesterday.date(), review_weeks=1))
    plans.start_plan(engine, patient_id=patient_id, plan=built.plan, times=built.times, zone=zone,
                     now=yesterday, actor="test")  # fmt: skip


def _item_ids(web_app: Any, patient_id: int) -> dict[str, int]:
    """The patient's own items, for the routes with a second id (a dose, a medicine...)."""
    from sqlalchemy import select

    from dosewise.services import medicines
    from dosewise.store.models import AccessGrantRow, DoseSlotRow, InvitationRow, MedicineRow, PlanRow

    engine = web_app.state.context.engine
    medicines.add_medicine(
        engine, patient_id=patient_id, name="tramadol", now=datetime.now(tz=UTC), actor="t"
    )
    queries = {
        "slot_id": select(DoseSlotRow.id).join(PlanRow).where(PlanRow.patient_id == patient_id),
        "medicine_id": select(MedicineRow.id).where(MedicineRow.patient_id == patient_id),
        "plan_id": select(PlanRow.id).where(PlanRow.patient_id == patient_id),
        "grant_id": select(AccessGrantRow.id).where(AccessGrantRow.patient_id == patient_id),
        "invitation_id": select(InvitationRow.id).where(InvitationRow.patient_id == patient_id),
    }
    with engine.connect() as connection:
        return {name: int(connection.scalar(query.limit(1))) for name, query in queries.items()}


def _ask_review(client: TestClient, patient: int) -> int:
    asked = client.post(
        f"/patients/{patient}/review-requests",
        data={"csrf_token": page_token(client), "reason": "dose_question", "message": "Can I go up?"},
    )
    assert asked.status_code == 303, asked.text[:300]
    return int(asked.headers["location"].split("/")[4].split("?")[0])


def _downloads(owner: TestClient, ids: dict[str, int]) -> set[str]:
    """Every GET route of a patient that answers the patient with a file or a FHIR Bundle."""
    found = set()
    for route in route_table():
        if "{patient_id}" not in route.path or "GET" not in route.methods:
            continue
        response = owner.get(route.path.format(**ids))
        if response.status_code != 200:  # e.g. the missed-dose advice of a dose not missed
            assert response.status_code in (400, 404, 409, 422), (route.path, response.status_code)
            continue
        kind = response.headers["content-type"]
        is_file = "attachment" in response.headers.get("content-disposition", "") or not (
            kind.startswith(("text/html", "application/json"))
        )
        is_bundle = kind.startswith("application/json") and '"resourceType":"Bundle"' in response.text
        standalone = (
            "content-security-policy" in response.headers
            and "style-src 'unsafe-inline'" in (response.headers["content-security-policy"])
        )  # the report as a document of its own
        if is_file or is_bundle or standalone:
            found.add(route.path)
    return found


def test_every_download_is_an_export_or_a_reading(relations: Any) -> None:
    clients, ids = relations
    assert _downloads(clients["owner"], ids) == EXPORTS | READINGS


@pytest.mark.parametrize(
    ("relation", "export_status", "reading_status"),
    [("owner", 200, 200), ("clinician", 200, 200), ("caregiver", 403, 200), ("stranger", 404, 404)],
)
def test_who_may_download_what(
    relations: Any, relation: str, export_status: int, reading_status: int
) -> None:
    clients, ids = relations
    client = clients[relation]
    for path in sorted(EXPORTS):
        response = client.get(path.format(**ids))
        assert response.status_code == export_status, (relation, path, response.status_code)
        if export_status != 200:
            assert "Pat" not in response.text or relation == "caregiver"  # the 403 page may name the patient
            assert "resourceType" not in response.text and not response.content.startswith(b"PK")
    for path in sorted(READINGS):
        response = client.get(path.format(**ids))
        assert response.status_code == reading_status, (relation, path, response.status_code)


def test_everything_zip_is_the_patients_own(relations: Any) -> None:
    clients, _ = relations
    assert clients["owner"].get("/account/export.zip").status_code == 200
    for relation in ("caregiver", "clinician"):  # their own account has no diary of its own
        response = clients[relation].get("/account/export.zip")
        assert response.status_code == 400 and not response.content.startswith(b"PK")
        assert "export.zip" not in clients[relation].get("/account").text


def test_pages_offer_only_the_downloads_the_user_may_use(relations: Any) -> None:
    clients, ids = relations
    patient = ids["patient_id"]
    for relation in ("owner", "clinician", "caregiver"):
        page = clients[relation].get(f"/patients/{patient}/report").text
        links = set(re.findall(r'href="(/patients/[^"?]+)', page))
        for path in EXPORTS | READINGS:
            url = path.format(**ids)
            if url in links:  # every link offered works for this user
                assert clients[relation].get(url).status_code == 200, (relation, url)
        exports_shown = {p.format(**ids) for p in EXPORTS} & links
        assert bool(exports_shown) == (relation != "caregiver"), (relation, exports_shown)
        assert f"/patients/{patient}/export/calendar.ics" in links
